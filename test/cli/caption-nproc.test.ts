// caption --nproc: contiguous shards in separate processes, output merged in input order; greedy captions equal one
// process's; an image that fails in one shard still fails the command after the others' lines.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shardsOf } from '../../lib/cli/shards.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGES = ['img0_rgb_64x48.png', 'img1_rgb_40x72.jpg', 'img2_gray_50x50.png', 'img3_rgba_30x60.png'].map((f) => join(TINY, 'images', f));

function caption(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'caption', '--model', TINY_MODEL, '--prompt', 'caption:', '--max-new-tokens', '12', '--json', ...args], { encoding: 'utf8' });
}

interface Line { image: string; captions?: { text: string; tokenIds: number[]; score: number }[]; error?: string }
const lines = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('caption --nproc', () => {
  it('cuts inputs into contiguous, even, non-empty shards', () => {
    expect(shardsOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4, 5]]);
    expect(shardsOf([1, 2], 4)).toEqual([[1], [2]]);
  });

  it('gives the captions of one process, in input order', () => {
    const images = [...IMAGES, IMAGES[0]!];
    const one = caption(...images);
    const two = caption('--nproc', '3', ...images);
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    const a = lines(one.stdout);
    const b = lines(two.stdout);
    expect(b.map((l) => l.image)).toEqual(images);
    expect(b.map((l) => l.captions!.map((c) => [c.text, c.tokenIds]))).toEqual(a.map((l) => l.captions!.map((c) => [c.text, c.tokenIds])));
    // another batch composition reorders the sums behind a score: float error only
    const worst = Math.max(...a.map((l, i) => Math.abs(l.captions![0]!.score - b[i]!.captions![0]!.score)));
    expect(worst).toBeLessThan(1e-5);
    expect(two.stderr).toMatch(/^\[shard 3\/3\] loaded /m);
  });

  it('an image that fails in one shard fails the command after every other line', () => {
    const corrupt = join(mkdtempSync(join(tmpdir(), 'caption-nproc-')), 'corrupt.png');
    writeFileSync(corrupt, Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const run = caption('--nproc', '2', IMAGES[0]!, corrupt, IMAGES[1]!, IMAGES[2]!);
    expect(run.status).toBe(1);
    expect(lines(run.stdout).map((l) => [l.image, l.error === undefined])).toEqual([[IMAGES[0], true], [corrupt, false], [IMAGES[1], true], [IMAGES[2], true]]);
    expect(run.stderr).toContain('[shard 1/2] error: 1 of 2 images could not be captioned:');
    expect(run.stderr).toContain('error: 1 of 2 shards failed or could not caption some images (their messages are above)');
  });

  it('--out: each shard writes its part of the results file, merged in input order as one process writes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'caption-nproc-out-'));
    const named = IMAGES.map((image, i) => {
      const file = join(dir, `VizWiz_val_${String(10 + i).padStart(8, '0')}${image.slice(-4)}`);
      copyFileSync(image, file);
      return file;
    });
    const one = caption('--out', join(dir, 'one.json'), ...named);
    const three = caption('--nproc', '3', '--out', join(dir, 'three.json'), ...named);
    expect([one.status, three.status]).toEqual([0, 0]);
    const written = JSON.parse(readFileSync(join(dir, 'three.json'), 'utf8')) as { image_id: number; caption: string }[];
    expect(written).toEqual(JSON.parse(readFileSync(join(dir, 'one.json'), 'utf8')));
    expect(written.map((r) => r.image_id)).toEqual([10, 11, 12, 13]);
    expect(written.map((r) => r.caption)).toEqual(lines(three.stdout).map((l) => l.captions![0]!.text));
  });
});
