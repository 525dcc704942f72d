// `blip2-progressive caption` with bad inputs: a corrupt image among good ones, odd file names, a broken
// generation_config.json, float16 on the CPU. Exit codes: 1 runtime failure, 2 bad usage.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageField } from '../../lib/cli/caption.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const GOOD = join(TINY, 'images', 'img0_rgb_64x48.png');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'caption', ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('caption CLI failures', () => {
  it('captions the other images, then lists the ones that failed and exits 1; odd names are JSON strings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'caption-cli-'));
    const corrupt = join(dir, 'broken.png');
    writeFileSync(corrupt, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    const odd = join(dir, 'two\nlines\t.png');
    copyFileSync(GOOD, odd);
    const run = cli([GOOD, corrupt, odd, '--model', TINY_MODEL, '--max-new-tokens', '3', '--batch-size', '3', '--threads', '1']);
    expect(run.status).toBe(1);
    const lines = run.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    expect(lines.map((l) => [l[0], l.length])).toEqual([[GOOD, 3], [JSON.stringify(odd), 3]]);
    expect(lines[0]![2]).toBe(lines[1]![2]);
    expect(run.stderr).toContain(`error: 1 of 3 images could not be captioned:\n  ${corrupt}: Cannot load image ${JSON.stringify(corrupt)}: `);
    const json = cli([corrupt, GOOD, '--model', TINY_MODEL, '--max-new-tokens', '3', '--threads', '1', '--json']);
    expect(json.status).toBe(1);
    const objects = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(objects.map((o) => [o.image, typeof o.error, o.captions?.length])).toEqual([[corrupt, 'string', undefined], [GOOD, 'undefined', 1]]);
  }, 60_000);

  it('writes a path as given unless it holds a control character or starts with a quote', () => {
    expect(['a b.png', 'ünï.jpg', 'x\ty', 'x\ny', '"q".png', 'x\u2028y'].map(imageField)).toEqual(
      ['a b.png', 'ünï.jpg', '"x\\ty"', '"x\\ny"', '"\\"q\\".png"', '"x\u2028y"']);
  });

  it('a bad generation_config.json is a runtime failure (exit 1) that names the file', () => {
    const model = mkdtempSync(join(tmpdir(), 'caption-genconfig-'));
    cpSync(TINY_MODEL, model, { recursive: true });
    const file = join(model, 'generation_config.json');
    writeFileSync(file, JSON.stringify({ decoder_start_token_id: 0, eos_token_id: 1, pad_token_id: 0, num_beams: 0 }));
    const run = cli([GOOD, '--model', model, '--threads', '1']);
    expect([run.status, run.stderr.trim()]).toEqual([1, `error: Invalid ${file}: Expected integer between 1 and 64 for num_beams but received 0 of type number`]);
  }, 60_000);

  it('--dtype float16 on the CPU is a usage error (exit 2) with the fix', () => {
    const run = cli([GOOD, '--model', TINY_MODEL, '--dtype', 'float16']);
    expect([run.status, run.stderr.trim()]).toEqual([2,
      'error: --dtype float16 needs --device cuda: libtorch has no float16 CPU kernels for this model; use --dtype bfloat16 on the CPU']);
  }, 60_000);
});
