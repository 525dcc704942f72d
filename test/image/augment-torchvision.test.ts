import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../lib/random.js';
import { applyImageAugment, PAPER_IMAGE_AUGMENT, PAPER_PRE_RESIZE, resizedCrop, rotate, sampleCropBox, sampleImageAugment } from '../../lib/image/augment.js';
import type { RgbImage } from '../../lib/image/decode.js';
import { resizePil } from '../../lib/image/resample.js';

// Goldens made by torchvision 0.14.1 / Pillow 9.4.0 itself (test/fixtures/augment-torchvision/README.md).
const dir = fileURLToPath(new URL('../fixtures/augment-torchvision/', import.meta.url));
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as {
  torchvision: string;
  images: {
    source: string; width: number; height: number;
    rotate: { angle: number; file: string }[];
    crops: { top: number; left: number; height: number; width: number; size: number; file: string }[];
    resize384?: string;
  }[];
  fallback: { width: number; height: number; scale: [number, number]; ratio: [number, number]; box: [number, number, number, number] }[];
};

async function png(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(`${dir}${file}`).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

function maxAbsDiff(a: RgbImage, b: RgbImage): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

describe(`parity with torchvision ${golden.torchvision} (test/fixtures/augment-torchvision)`, () => {
  it('RandomRotation\'s call, F.rotate(img, angle, NEAREST, fill=0), is pixel-identical on the fixture images', async () => {
    let compared = 0;
    for (const [k, entry] of golden.images.entries()) {
      const input = await png(`input_${k}.png`);
      const diffs: number[] = [];
      for (const { angle, file } of entry.rotate) {
        diffs.push(maxAbsDiff(rotate(input, angle, 'black', 'nearest'), await png(file)));
        compared++;
      }
      console.log(`rotate nearest vs torchvision, ${entry.source}: max abs diff ${Math.max(...diffs)} over ${diffs.length} angles`);
      expect(diffs.every((d) => d === 0)).toBe(true);
    }
    expect(compared).toBe(56);
  });

  it('the default interpolation of rotate() is nearest, as torchvision\'s', async () => {
    const input = await png('input_0.png');
    const { angle, file } = golden.images[0]!.rotate.find((r) => r.angle === 6.125)!;
    const want = await png(file);
    expect(maxAbsDiff(rotate(input, angle), want)).toBe(0);
    // bilinear is a different image: the nearest goldens would catch a silent switch
    expect(maxAbsDiff(rotate(input, angle, 'black', 'bilinear'), want)).toBeGreaterThan(10);
  });

  it('F.resized_crop(img, i, j, h, w, [S, S], BILINEAR) with fixed boxes matches (S = 384, 96, 24)', async () => {
    const diffs: number[] = [];
    for (const [k, entry] of golden.images.entries()) {
      const input = await png(`input_${k}.png`);
      for (const c of entry.crops) {
        diffs.push(maxAbsDiff(resizedCrop(input, { top: c.top, left: c.left, height: c.height, width: c.width }, c.size, c.size), await png(c.file)));
      }
    }
    console.log(`resized crop vs torchvision: max abs diff ${Math.max(...diffs)} over ${diffs.length} crops (levels)`);
    // the tolerance of the repo's resize parity tests: Pillow-identical
    expect(diffs).toEqual(Array(20).fill(0));
  });

  it('the paper\'s pipeline applies a drawn crop as a 384x384 square, then rotates nearest with black corners', async () => {
    const input = await png('input_0.png');
    const c = golden.images[0]!.crops[0]!;
    const drawn = sampleImageAugment({ crop: PAPER_IMAGE_AUGMENT.crop, rotate: 10 }, input.width, input.height, 5);
    expect(drawn.cropSize).toEqual({ width: 384, height: 384 });
    expect(drawn.rotateInterpolation).toBe('nearest');
    const out = applyImageAugment(input, { ...drawn, crop: { top: c.top, left: c.left, height: c.height, width: c.width }, angle: 0 });
    expect(maxAbsDiff(out, await png(c.file))).toBe(0);
  });

  it('RandomResizedCrop.get_params falls back to the ratio-clamped centre crop after 10 failed attempts', () => {
    for (const f of golden.fallback) {
      for (const seed of [0, 1, 2]) {
        const box = sampleCropBox(f.width, f.height, { scale: f.scale, ratio: f.ratio }, new Xoshiro128(seed));
        expect([box.top, box.left, box.height, box.width]).toEqual(f.box);
      }
    }
  });

  it('the scripts\' pre-resize, F.resize(img, [384, 384], BICUBIC), is pixel-identical', async () => {
    expect(PAPER_PRE_RESIZE).toBe(384);
    let compared = 0;
    for (const [k, entry] of golden.images.entries()) {
      if (entry.resize384 === undefined) continue;
      const input = await png(`input_${k}.png`);
      const out = resizePil(input, 384, 384, 'bicubic');
      expect(maxAbsDiff({ ...out, channels: 3 }, await png(entry.resize384))).toBe(0);
      compared++;
    }
    expect(compared).toBe(3);
  });
});
