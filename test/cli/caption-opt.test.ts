// `blip2-progressive caption` and `score` on a BLIP-2 with an OPT language model: the same commands, flags and
// output as for Flan-T5, with the captions of Hugging Face's generate() (../fixtures/blip2-opt-tiny/generation.json).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';

const IMAGES = [join(TINY_OPT, 'images', 'img0_rgb_64x48.png'), join(TINY_OPT, 'images', 'img1_rgb_40x72.jpg')];

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('CLI with an OPT model', () => {
  it('caption --json gives HF generate() token ids and trimmed texts', () => {
    const golden = JSON.parse(readFileSync(join(TINY_OPT, 'generation.json'), 'utf8')) as {
      cases: Record<string, { sequences: number[][]; texts: string[] }>;
    };
    const run = cli(['caption', ...IMAGES, '--model', TINY_OPT_MODEL, '--prompt', 'a photo of', '--max-new-tokens', '12', '--threads', '1', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { captions: { text: string; tokenIds: number[] }[] });
    expect(lines.map((l) => l.captions[0]!.tokenIds)).toEqual(golden.cases['main/greedy']!.sequences);
    expect(lines.map((l) => l.captions[0]!.text)).toEqual(golden.cases['main/greedy']!.texts.map((t) => t.trim()));
  });

  it('score prints a loss per image', () => {
    const run = cli(['score', ...IMAGES, '--model', TINY_OPT_MODEL, '--caption', 'a cat', '--caption', 'a dog', '--threads', '1', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { loss: number });
    expect(lines.length).toBe(2);
    expect(lines.every((l) => Number.isFinite(l.loss) && l.loss > 0)).toBe(true);
  });
});
