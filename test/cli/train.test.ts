// `train` in process on a tiny run: off a terminal it writes a progress line every --log-every steps and one when a
// stage ends, then the table, the run folder and the best adapter; --resume on the finished run says so; a changed
// config names the key; the help's example config is valid and has an `eval` section.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, CommanderError } from 'commander';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../../lib/cli/train.js';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { UsageError } from '../../lib/cli/usage.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyRunData } from '../helpers/tiny-dataset.js';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-train-cli-'));
  await writeTinyRunData(root); // 8 training images
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `train` with stdout and a non-terminal stderr captured. */
async function train(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  out.on('data', (c: Buffer) => { stdout += c.toString(); });
  const err = Object.assign(new PassThrough(), { isTTY: false });
  err.on('data', (c: Buffer) => { stderr += c.toString(); });
  const program = new Command('blip2-progressive').exitOverride().configureOutput({ writeOut: (t) => { stdout += t; }, writeErr: (t) => { stderr += t; } });
  register(program, out, err);
  try {
    await program.parseAsync(['train', ...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError && error.exitCode === 0)) throw error;
  }
  return { stdout, stderr };
}

function writeConfig(name: string, lr: number): string {
  const file = join(root, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    model: TINY_MODEL, outDir: name, threads: 1, zeroShot: false,
    data: { train: { file: 'train.json', imageRoot: 'train' }, val: { file: 'val.json', imageRoot: 'val' } }, // relative to the config file
    lora: { r: 4, alpha: 8 }, eval: { maxNewTokens: 4, batchSize: 4 },
    stages: [{ name: 'lora', steps: 4, lr, batchSize: 4 }],
  }));
  return file;
}

describe('train (CLI)', () => {
  it('reports progress off a terminal, then where the results are; --resume of the finished run says so', async () => {
    const file = writeConfig('run', 1e-3);
    const outDir = join(root, 'run');
    const best = join(outDir, 'stages', '1-lora', 'best');
    const first = await train(['--config', file, '--log-every', '2']);
    const lines = first.stderr.split('\n');
    // steps 1 (the first), 2 and 4 (every 2nd; 4 is the last) of 4
    expect(lines.filter((l) => l.startsWith('stage 1 lora [')).map((l) => / (\d\/4) /.exec(l)?.[1])).toEqual(['1/4', '2/4', '4/4']);
    expect(lines.find((l) => l.startsWith('stage 1 lora [')) ?? '').toMatch(/ loss \d+\.\d{4} lr \d\.\d\de-\d$/);
    expect(lines.filter((l) => l.startsWith('stage 1 lora finished: best val CIDEr '))).toEqual([expect.stringMatching(new RegExp(`, best adapter ${best}$`))]);
    expect(lines.some((l) => l.startsWith('validation'))).toBe(false); // without --progress
    const where = `\nrun folder: ${outDir}\nbest adapter: ${best} (--adapter ${outDir} loads it)\n`;
    expect(first.stdout).toMatch(/^\| model \| B-1 \|/);
    expect(first.stdout.endsWith(where)).toBe(true);

    const again = await train(['--config', file, '--resume']);
    expect(again.stderr).toBe(`${outDir} holds a finished run: nothing to resume; its results:\n`);
    expect(again.stdout).toBe(first.stdout);

    writeConfig('run', 2e-3);
    await expect(train(['--config', file, '--resume'])).rejects.toThrow(`${outDir} holds a run of a different config (stages[0].lr: 0.001 → 0.002)`);
  });

  it('--json keeps stdout one JSON document and puts the locations on stderr', async () => {
    const file = writeConfig('run', 1e-3);
    const outDir = join(root, 'run');
    const { stdout, stderr } = await train(['--config', file, '--resume', '--json']);
    expect((JSON.parse(stdout) as { stage: string }[]).map((r) => r.stage)).toEqual(['lora']);
    expect(stderr.endsWith(`run folder: ${outDir}\nbest adapter: ${join(outDir, 'stages', '1-lora', 'best')} (--adapter ${outDir} loads it)\n`)).toBe(true);
  });

  it('an unreadable or invalid config is a usage error naming --config', async () => {
    const missing = join(root, 'missing.json');
    await expect(train(['--config', missing])).rejects.toThrow(new UsageError(`--config: Cannot read run config ${missing}: no such file`));
    const broken = join(root, 'broken.json');
    writeFileSync(broken, '{"model": "m",\n "stages": [}\n');
    await expect(train(['--config', broken])).rejects.toThrow(
      new UsageError(`--config: Cannot parse run config ${broken}: invalid JSON at line 2, column 13: unexpected "}"`));
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ model: TINY_MODEL, data: { train: { file: 't.json' }, val: { file: 'v.json' } }, stages: [{ stepz: 3 }] }));
    await expect(train(['--config', bad])).rejects.toThrow(`--config: Invalid run config ${bad}: Unknown option "stepz" in stages[0]; expected one of "name", "epochs", "steps",`);
  });

  it('--help: the example config parses and has an eval section', async () => {
    const { stdout } = await train(['--help']);
    const example = /Example config:\n([\s\S]*?)\n\n/.exec(stdout)?.[1];
    const json = JSON.parse(example ?? '') as Record<string, unknown>;
    expect(Object.keys(json.eval as object)).toEqual(['maxNewTokens', 'numBeams', 'batchSize', 'maxImages']);
    expect(parseRunConfig(json, '/base').stages.map((s) => s.name)).toEqual(['lora', 'lora+aug', 'scst']);
  });
});
