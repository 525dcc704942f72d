import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  convolve2d, convolveSeparable, CORRUPTIONS, corruptImage, defocusKernel, gaussianKernel, parseCorruption,
} from '../../lib/image/corrupt.js';
import type { RgbImage } from '../../lib/image/decode.js';

const golden = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/augment/golden.json', import.meta.url)), 'utf8')) as {
  width: number; height: number; input: number[];
  gaussian_blur: Record<string, number[]>; defocus_blur: Record<string, number[]>;
};
const fixtureImage: RgbImage = { data: Uint8Array.from(golden.input), width: golden.width, height: golden.height, channels: 3 };

function solid(width: number, height: number, value: number): RgbImage {
  return { data: new Uint8Array(width * height * 3).fill(value), width, height, channels: 3 };
}

/** 64x64: smooth gradients with a few hard-edged blocks and a fine checker, so blur and JPEG both bite. */
function scene(): RgbImage {
  const width = 64;
  const height = 64;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const checker = ((x >> 1) + (y >> 1)) % 2 === 0 ? 60 : 0;
      data[i] = Math.min(255, x * 3 + checker);
      data[i + 1] = Math.min(255, y * 3 + (x > 20 && x < 40 && y > 10 && y < 30 ? 120 : 0));
      data[i + 2] = (x * y) % 256;
    }
  }
  return { data, width, height, channels: 3 };
}

function stats(image: RgbImage): { mean: number; variance: number } {
  let sum = 0;
  let sq = 0;
  for (const v of image.data) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / image.data.length;
  return { mean, variance: sq / image.data.length - mean * mean };
}

function psnr(a: RgbImage, b: RgbImage): number {
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i]! - b.data[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.data.length));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const SEVERITIES = [1, 2, 3, 4, 5];

describe('parseCorruption', () => {
  it('parses the CLI form with canonical names and aliases', () => {
    expect(parseCorruption('blur:3')).toEqual({ kind: 'gaussian_blur', severity: 3 });
    expect(parseCorruption('gaussian_noise:5')).toEqual({ kind: 'gaussian_noise', severity: 5 });
    expect(['noise:1', 'motion:2', 'dark:4', 'jpeg:5', 'defocus:1'].map((s) => parseCorruption(s).kind)).toEqual([
      'gaussian_noise', 'motion_blur', 'low_light', 'jpeg_compression', 'defocus_blur',
    ]);
    expect(CORRUPTIONS).toEqual(['gaussian_noise', 'gaussian_blur', 'motion_blur', 'low_light', 'jpeg_compression', 'defocus_blur']);
  });

  it('names the accepted forms in its error', () => {
    const message = 'Expected "<kind>:<severity 1-5>" with kind one of "gaussian_noise", "gaussian_blur", "motion_blur", "low_light", '
      + '"jpeg_compression", "defocus_blur", "noise", "blur", "motion", "dark", "jpeg", "defocus" for corruption but received ';
    expect(() => parseCorruption('blur:6')).toThrow(`${message}"blur:6" of type string`);
    expect(() => parseCorruption('fog:2')).toThrow(`${message}"fog:2" of type string`);
    expect(() => parseCorruption('blur')).toThrow(`${message}"blur" of type string`);
    expect(() => parseCorruption('toString:2')).toThrow(`${message}"toString:2" of type string`);
  });
});

describe('corruptImage', () => {
  it('validates its arguments with exact messages', async () => {
    const image = solid(4, 4, 100);
    await expect(corruptImage(image, 'fog', 1, 0)).rejects.toThrow(
      'Expected one of "gaussian_noise", "gaussian_blur", "motion_blur", "low_light", "jpeg_compression", "defocus_blur" for corruption kind but received "fog" of type string',
    );
    await expect(corruptImage(image, 'blur', 0, 0)).rejects.toThrow('Expected integer between 1 and 5 for severity but received 0 of type number');
    await expect(corruptImage(image, 'blur', 1, 0.5)).rejects.toThrow('Expected integer between 0 and 9007199254740991 for seed but received 0.5 of type number');
  });

  it('is deterministic for a seed; noise and motion direction change with it', async () => {
    const image = scene();
    for (const kind of CORRUPTIONS) {
      const a = await corruptImage(image, kind, 3, 17);
      const b = await corruptImage(image, kind, 3, 17);
      expect(Buffer.compare(a.data, b.data)).toBe(0);
      expect([a.width, a.height, a.channels]).toEqual([64, 64, 3]);
    }
    for (const kind of ['gaussian_noise', 'motion_blur'] as const) {
      const a = await corruptImage(image, kind, 3, 17);
      const c = await corruptImage(image, kind, 3, 18);
      expect(Buffer.compare(a.data, c.data)).not.toBe(0);
    }
  });

  it('Gaussian noise: the measured std grows with severity and matches ImageNet-C\'s σ·255 on mid grey', async () => {
    const stds: number[] = [];
    for (const severity of SEVERITIES) stds.push(Math.sqrt(stats(await corruptImage(solid(128, 128, 128), 'gaussian_noise', severity, 5)).variance));
    console.log(`noise std by severity: ${stds.map((s) => s.toFixed(2)).join(', ')}`);
    for (let i = 1; i < stds.length; i++) expect(stds[i]!).toBeGreaterThan(stds[i - 1]!);
    // Severities 1-2 (σ = 0.08, 0.12) are barely clipped at 128: expect 20.4 and 30.6 within 3 %.
    expect(Math.abs(stds[0]! / 20.4 - 1)).toBeLessThan(0.03);
    expect(Math.abs(stds[1]! / 30.6 - 1)).toBeLessThan(0.03);
  });

  for (const kind of ['gaussian_blur', 'motion_blur', 'defocus_blur'] as const) {
    it(`${kind}: variance falls monotonically with severity and a flat image stays flat`, async () => {
      const image = scene();
      const variances = [stats(image).variance];
      for (const severity of SEVERITIES) variances.push(stats(await corruptImage(image, kind, severity, 3)).variance);
      console.log(`${kind} variance (clean, 1-5): ${variances.map((v) => v.toFixed(1)).join(', ')}`);
      for (let i = 1; i < variances.length; i++) expect(variances[i]!).toBeLessThan(variances[i - 1]!);
      // ImageNet-C's disks of radius 8 and 10 touch their grid, so the reflect-101 anti-alias adds mass
      // (kernel sums 1.013 and 1.011): a flat image brightens slightly at severities 4-5, as in the reference.
      const flatSeverity = kind === 'defocus_blur' ? 3 : 5;
      const flat = await corruptImage(solid(20, 12, 77), kind, flatSeverity, 3);
      expect(flat.data.every((v) => v === 77)).toBe(true);
    });
  }

  it('defocus severity 5 scales a flat image by its kernel sum (77 · 1.01079 = 77.83 -> 78)', async () => {
    const flat = await corruptImage(solid(20, 12, 77), 'defocus_blur', 5, 0);
    expect(flat.data.every((v) => v === 78)).toBe(true);
  });

  it('low light lowers the mean monotonically; white becomes round(255·scale) (hand-worked)', async () => {
    const image = scene();
    const means = [stats(image).mean];
    for (const severity of SEVERITIES) means.push(stats(await corruptImage(image, 'low_light', severity, 0)).mean);
    console.log(`low light mean (clean, 1-5): ${means.map((m) => m.toFixed(1)).join(', ')}`);
    for (let i = 1; i < means.length; i++) expect(means[i]!).toBeLessThan(means[i - 1]!);
    // Severity 1: 255 · 0.6 = 153; severity 5: 255 · 0.18 = 45.9 -> 46; black stays black.
    const white = solid(2, 2, 255);
    expect((await corruptImage(white, 'dark', 1, 0)).data[0]).toBe(153);
    expect((await corruptImage(white, 'dark', 5, 0)).data[0]).toBe(46);
    expect((await corruptImage(solid(2, 2, 0), 'dark', 5, 0)).data[0]).toBe(0);
  });

  it('JPEG: PSNR against the clean image falls as severity rises (quality 25, 18, 15, 10, 7)', async () => {
    const image = scene();
    const values: number[] = [];
    for (const severity of SEVERITIES) values.push(psnr(image, await corruptImage(image, 'jpeg', severity, 0)));
    console.log(`JPEG PSNR dB by severity: ${values.map((v) => v.toFixed(2)).join(', ')}`);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeLessThan(values[i - 1]!);
    expect(values[0]!).toBeLessThan(40);
  });
});

describe('kernels and parity with scipy', () => {
  it('Gaussian kernel: normalised, symmetric, neighbour ratio exp(-1/2σ²)', () => {
    const k = gaussianKernel(2, 8);
    expect(k.length).toBe(17);
    expect(Math.abs(k.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-15);
    expect(k[7]).toBe(k[9]);
    expect(Math.abs(k[9]! / k[8]! - Math.exp(-1 / 8))).toBeLessThan(1e-15);
  });

  it('defocus disk of radius 3: 29 pixels of 1/29 before a σ = 0.1 anti-alias, on a 17×17 grid', () => {
    const { size, weights } = defocusKernel(3, 0.1);
    expect(size).toBe(17);
    expect(Math.abs(weights[8 * 17 + 8]! - 1 / 29)).toBeLessThan(1e-15);
    expect(Math.abs(weights.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
  });

  it('Gaussian blur equals scipy.ndimage.gaussian_filter (mode nearest, truncate 4)', () => {
    const diffs = Object.entries(golden.gaussian_blur).map(([sigma, want]) => {
      const s = Number(sigma);
      return maxAbsDiff(convolveSeparable(fixtureImage, gaussianKernel(s, Math.trunc(4 * s + 0.5)), 'nearest'), want);
    });
    console.log(`gaussian blur vs scipy (σ ${Object.keys(golden.gaussian_blur).join(', ')}): max abs diff ${diffs.map((d) => d.toExponential(2)).join(', ')} levels`);
    for (const d of diffs) expect(d).toBeLessThan(2e-4);
  });

  it('defocus blur equals ImageNet-C\'s disk filter (reflect-101), even with a kernel larger than the image', () => {
    const diffs = Object.entries(golden.defocus_blur).map(([key, want]) => {
      const [radius, alias] = key.split(',').map(Number) as [number, number];
      const { size, weights } = defocusKernel(radius, alias);
      return maxAbsDiff(convolve2d(fixtureImage, size, weights), want);
    });
    console.log(`defocus vs scipy (${Object.keys(golden.defocus_blur).join(' | ')}): max abs diff ${diffs.map((d) => d.toExponential(2)).join(', ')} levels`);
    for (const d of diffs) expect(d).toBeLessThan(2e-4);
  });
});
