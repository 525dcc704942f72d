// The curl lines of README's "Demo web app" section and of `serve --help`, run as written with the real curl against
// a started server on the tiny model: each answers 200 with the library's captions for the options in the line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { Blip2Captioner } from '../../lib/captioner.js';
import type { CaptionOptions } from '../../lib/generation/caption.js';
import { register } from '../../lib/cli/serve.js';
import { startServer } from '../../lib/serve/server.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const run = promisify(execFile);
const CURL = '/usr/bin/curl';
const DOCUMENTED = 'http://127.0.0.1:7860';

/** The code-block lines starting with `curl ` in README's "## Demo web app" section. */
function readmeCurlLines(): string[] {
  const readme = readFileSync(resolve('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Demo web app'));
  let inCode = false;
  const lines: string[] = [];
  for (const line of section.slice(0, section.indexOf('\n## ')).split('\n').map((l) => l.trim())) {
    if (line.startsWith('```')) inCode = !inCode;
    else if (inCode && line.startsWith('curl ')) lines.push(line);
  }
  return lines;
}

/** The `$ curl …` example lines of `serve --help`. */
function helpCurlLines(): string[] {
  let help = '';
  const program = new Command('blip2-progressive').exitOverride().configureOutput({ writeOut: (t) => { help += t; } });
  register(program, async () => {});
  try {
    program.parse(['serve', '--help'], { from: 'user' });
  } catch {
    // commander ends --help by throwing under exitOverride
  }
  return help.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('$ curl ')).map((l) => l.slice(2));
}

let captioner: Blip2Captioner;
let app: FastifyInstance;
let base: string;
let folder: string;

beforeAll(async () => {
  captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
  ({ app, url: base } = await startServer({ models: [{ name: 'tiny', captioner }], port: 0 }));
  base = base.replace(/\/$/, '');
  folder = mkdtempSync(join(tmpdir(), 'blip2-curl-'));
  copyFileSync(join(TINY, 'images', 'img1_rgb_40x72.jpg'), join(folder, 'dog.jpg'));
}, 60_000);
afterAll(async () => {
  await app?.close();
  captioner?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

/** Runs a documented line in bash in the folder holding dog.jpg, with /usr/bin/curl and the test server's port. */
async function runLine(line: string): Promise<{ stdout: string; stderr: string }> {
  expect(line.includes(DOCUMENTED)).toBe(true);
  const command = `${CURL}${line.slice('curl'.length)}`.replaceAll(DOCUMENTED, base);
  return run('bash', ['-c', command], { cwd: folder, encoding: 'utf8' });
}

/** The captions the library writes for the options JSON of a line (its first `{…}`). */
async function expectedFor(line: string): Promise<unknown> {
  const options = JSON.parse(/\{"[^']*\}/.exec(line)![0]) as CaptionOptions;
  const [result] = await captioner.caption([join(folder, 'dog.jpg')], { ...options, onError: 'throw' });
  const sequences = (Array.isArray(result) ? result : [result!]).map(({ text, tokenIds, score }) => ({ text, tokenIds, score }));
  return [{ model: 'tiny', ...sequences[0]!, ...(sequences.length > 1 ? { sequences } : {}) }];
}

describe('documented curl commands', () => {
  const readme = readmeCurlLines();
  const help = helpCurlLines();

  it('README has the multipart, query-string and header forms; serve --help the first two', () => {
    expect(readme).toHaveLength(3);
    expect(readme.map((l) => [l.includes(' -F image=@dog.jpg'), l.includes('?options='), l.includes('x-caption-options:')]))
      .toEqual([[true, false, false], [false, true, false], [false, false, true]]);
    expect(help).toEqual(readme.slice(0, 2));
  });

  it.each(readme.map((line, i) => [i + 1, line]))('README line %i answers the library\'s captions: %s', async (_i, line) => {
    const { stdout } = await runLine(line as string);
    const body = JSON.parse(stdout) as { captions: unknown };
    expect(body.captions).toEqual(await expectedFor(line as string));
  }, 60_000);

  it('without -g curl mangles the query-string example: the server gets the JSON without its braces', async () => {
    const line = readme.find((l) => l.includes('?options='))!;
    expect(line.startsWith('curl -g ')).toBe(true);
    const { stdout } = await runLine(line.replace('curl -g ', 'curl '));
    expect(JSON.parse(stdout)).toEqual({
      statusCode: 400, error: 'Bad Request', message: 'Expected JSON for the options query parameter but received "\\"maxNewTokens\\":20"',
    });
  }, 60_000);
});
