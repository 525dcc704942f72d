/**
 * Image corruptions for robustness evaluation, in the style of ImageNet-C (Hendrycks & Dietterich 2019),
 * each at severities 1–5: Gaussian noise, Gaussian blur, motion blur, low light, JPEG compression and
 * defocus blur. Severity constants are ImageNet-C's (made for ~224-pixel images) except low light, which
 * ImageNet-C lacks (gamma + scale darkening, severities 3–5 spanning the synthetic "dark" images).
 *
 * Deterministic for a seed (noise samples, motion direction). Values are computed in float and rounded to
 * the nearest 8-bit level (ImageNet-C truncates when it saves).
 */
import sharp from 'sharp';
import { GaussianDeviates, uniform, Xoshiro128 } from '../random.js';
import { integerInRange, invalidParameterError } from '../is.js';
import { checkImage, parseSeed } from './augment.js';
import type { RgbImage } from './decode.js';

/** The corruption kinds, in their canonical names. */
export const CORRUPTIONS = ['gaussian_noise', 'gaussian_blur', 'motion_blur', 'low_light', 'jpeg_compression', 'defocus_blur'] as const;

/** One of {@link CORRUPTIONS}. */
export type CorruptionKind = (typeof CORRUPTIONS)[number];

/** A corruption at a severity. */
export interface Corruption {
  kind: CorruptionKind;
  /** 1 (mild) to 5 (strong). */
  severity: number;
}

/** Short names accepted by {@link parseCorruption} (CLI `--corrupt blur:3`). */
export const CORRUPTION_ALIASES = Object.freeze({
  noise: 'gaussian_noise',
  blur: 'gaussian_blur',
  motion: 'motion_blur',
  dark: 'low_light',
  jpeg: 'jpeg_compression',
  defocus: 'defocus_blur',
} as const satisfies Record<string, CorruptionKind>);

/** A short name of {@link CORRUPTION_ALIASES}. */
export type CorruptionAlias = keyof typeof CORRUPTION_ALIASES;

/** A corruption kind as callers may write it: its canonical name or an alias. */
export type CorruptionName = CorruptionKind | CorruptionAlias;

/** Per-severity constants (index severity − 1). */
export const CORRUPTION_PARAMS = Object.freeze({
  /** Noise standard deviation on the [0, 1] scale (ImageNet-C). */
  gaussian_noise: [0.08, 0.12, 0.18, 0.26, 0.38],
  /** Gaussian sigma in pixels (ImageNet-C; scipy's truncate 4, edge mode nearest). */
  gaussian_blur: [1, 2, 3, 4, 6],
  /** [radius, sigma] of ImageMagick's one-sided motion blur; angle uniform in ±45° (ImageNet-C). */
  motion_blur: [[10, 3], [15, 5], [15, 8], [15, 12], [20, 15]],
  /** [gamma, scale]: y = scale · x^gamma on the [0, 1] scale. */
  low_light: [[1.1, 0.6], [1.2, 0.45], [1.35, 0.35], [1.5, 0.26], [1.6, 0.18]],
  /** JPEG quality (ImageNet-C). */
  jpeg_compression: [25, 18, 15, 10, 7],
  /** [disk radius, alias blur sigma] (ImageNet-C). */
  defocus_blur: [[3, 0.1], [4, 0.5], [6, 0.5], [8, 0.5], [10, 0.5]],
} as const);

function corruptionError(value: unknown): TypeError {
  const kinds = [...CORRUPTIONS, ...Object.keys(CORRUPTION_ALIASES)].map((k) => JSON.stringify(k)).join(', ');
  return invalidParameterError('corruption', `"<kind>:<severity 1-5>" with kind one of ${kinds}`, value);
}

/** Resolves a kind name or alias; throws the {@link parseCorruption} error for anything else. */
export function corruptionKind(name: unknown): CorruptionKind {
  if (typeof name === 'string') {
    if ((CORRUPTIONS as readonly string[]).includes(name)) return name as CorruptionKind;
    if (Object.hasOwn(CORRUPTION_ALIASES, name)) return CORRUPTION_ALIASES[name as CorruptionAlias];
  }
  throw invalidParameterError('corruption kind', `one of ${CORRUPTIONS.map((k) => JSON.stringify(k)).join(', ')}`, name);
}

/**
 * Parses the CLI form `"<kind>:<severity>"`, e.g. `"blur:3"` → `{ kind: 'gaussian_blur', severity: 3 }`.
 * Kinds are the canonical names or the aliases noise, blur, motion, dark, jpeg, defocus.
 */
export function parseCorruption(text: string): Corruption {
  const match = typeof text === 'string' ? /^([a-z_]+):([1-5])$/.exec(text.trim()) : null;
  if (match === null) throw corruptionError(text);
  const name = match[1]!;
  let kind: CorruptionKind | undefined;
  if ((CORRUPTIONS as readonly string[]).includes(name)) kind = name as CorruptionKind;
  else if (Object.hasOwn(CORRUPTION_ALIASES, name)) kind = CORRUPTION_ALIASES[name as CorruptionAlias];
  if (kind === undefined) throw corruptionError(text);
  return { kind, severity: Number(match[2]) };
}

/**
 * Corrupts one image (same size out).
 * @param kind a {@link CorruptionKind} or an alias from {@link CORRUPTION_ALIASES}
 * @param severity integer 1–5
 * @param seed integer in [0, 2^53): noise samples and motion direction
 */
export async function corruptImage(image: RgbImage, kind: CorruptionKind | string, severity: number, seed: number): Promise<RgbImage> {
  checkImage(image);
  const k = corruptionKind(kind);
  const level = integerInRange('severity', severity, 1, 5) - 1;
  const rng = new Xoshiro128(parseSeed('seed', seed));
  switch (k) {
    case 'gaussian_noise': return gaussianNoise(image, CORRUPTION_PARAMS.gaussian_noise[level]!, rng);
    case 'gaussian_blur': return gaussianBlur(image, CORRUPTION_PARAMS.gaussian_blur[level]!);
    case 'motion_blur': {
      const [radius, sigma] = CORRUPTION_PARAMS.motion_blur[level]!;
      return motionBlur(image, radius, sigma, uniform(rng, -45, 45));
    }
    case 'low_light': {
      const [gamma, scale] = CORRUPTION_PARAMS.low_light[level]!;
      return lowLight(image, gamma, scale);
    }
    case 'jpeg_compression': return jpegCompress(image, CORRUPTION_PARAMS.jpeg_compression[level]!);
    case 'defocus_blur': {
      const [radius, aliasSigma] = CORRUPTION_PARAMS.defocus_blur[level]!;
      return defocusBlur(image, radius, aliasSigma);
    }
  }
}

function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

function fromFloat(values: Float32Array, image: RgbImage): RgbImage {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toByte(values[i]!);
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

/**
 * Adds i.i.d. N(0, std²) noise (std on the [0, 1] scale) to every channel value, then clips. Box–Muller, both outputs
 * used.
 */
export function gaussianNoise(image: RgbImage, std: number, rng: Xoshiro128): RgbImage {
  const { data } = image;
  const out = new Uint8Array(data.length);
  const noise = new GaussianDeviates(rng, std * 255);
  for (let i = 0; i < data.length; i++) out[i] = toByte(data[i]! + noise.next());
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

/** Normalised Gaussian weights for offsets −radius..radius. */
export function gaussianKernel(sigma: number, radius: number): Float64Array {
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += w[i + radius] = Math.exp(-0.5 * (i * i) / (sigma * sigma));
  for (let i = 0; i < w.length; i++) w[i]! /= sum;
  return w;
}

/** Index map for a border: clamp (`nearest`) or mirror without repeating the edge (`reflect101`). */
function borderIndex(i: number, n: number, mode: 'nearest' | 'reflect101'): number {
  if (mode === 'nearest' || n === 1) return i < 0 ? 0 : i >= n ? n - 1 : i;
  const period = 2 * n - 2;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/**
 * Separable convolution of interleaved RGB with a symmetric 1-D kernel along x then y (float intermediate).
 * Each pass reads a padded line, so the inner loop has no border tests.
 */
export function convolveSeparable(image: RgbImage, kernel: Float64Array, border: 'nearest' | 'reflect101'): Float32Array {
  const { width, height, data } = image;
  const r = (kernel.length - 1) / 2;
  const tmp = new Float32Array(data.length);
  const line = new Float32Array((Math.max(width, height) + 2 * r) * 3);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = -r; x < width + r; x++) {
      const s = row + borderIndex(x, width, border) * 3;
      const d = (x + r) * 3;
      line[d] = data[s]!;
      line[d + 1] = data[s + 1]!;
      line[d + 2] = data[s + 2]!;
    }
    convolveLine(line, kernel, tmp, row, width);
  }
  // Vertical pass row by row (contiguous reads), with the border rows resolved per tap.
  const out = new Float32Array(data.length);
  const rowLength = width * 3;
  const acc = new Float64Array(rowLength);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = 0; k < kernel.length; k++) {
      const w = kernel[k]!;
      const s = borderIndex(y + k - r, height, border) * rowLength;
      for (let i = 0; i < rowLength; i++) acc[i] += w * tmp[s + i]!;
    }
    out.set(acc, y * rowLength);
  }
  return out;
}

/** out[offset + 3i + c] = Σ_k kernel[k] · line[3(i + k) + c] for i < count. */
function convolveLine(line: Float32Array, kernel: Float64Array, out: Float32Array, offset: number, count: number): void {
  const taps = kernel.length;
  for (let i = 0; i < count; i++) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    for (let k = 0, p = i * 3; k < taps; k++, p += 3) {
      const w = kernel[k]!;
      s0 += w * line[p]!;
      s1 += w * line[p + 1]!;
      s2 += w * line[p + 2]!;
    }
    const o = offset + i * 3;
    out[o] = s0;
    out[o + 1] = s1;
    out[o + 2] = s2;
  }
}

/** Gaussian blur as scipy's `gaussian_filter(sigma, mode='nearest', truncate=4.0)` over both spatial axes. */
export function gaussianBlur(image: RgbImage, sigma: number): RgbImage {
  const radius = Math.trunc(4 * sigma + 0.5);
  return fromFloat(convolveSeparable(image, gaussianKernel(sigma, radius), 'nearest'), image);
}

/**
 * ImageMagick-style motion blur: a one-sided Gaussian-weighted streak of 2·radius + 1 taps (weights
 * exp(−i²/2σ²), i = 0…2·radius) along `angleDegrees`, with offsets rounded to whole pixels and edges clamped.
 */
export function motionBlur(image: RgbImage, radius: number, sigma: number, angleDegrees: number): RgbImage {
  const { width, height, data } = image;
  const taps = 2 * radius + 1;
  const weights = new Float64Array(taps);
  const dx = new Int32Array(taps);
  const dy = new Int32Array(taps);
  const theta = (angleDegrees * Math.PI) / 180;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    sum += weights[i] = Math.exp(-(i * i) / (2 * sigma * sigma));
    dx[i] = Math.round(i * Math.cos(theta));
    dy[i] = Math.round(i * Math.sin(theta));
  }
  for (let i = 0; i < taps; i++) weights[i]! /= sum;
  const delta = new Int32Array(taps);
  for (let i = 0; i < taps; i++) delta[i] = (dy[i]! * width + dx[i]!) * 3;
  const [minDx, maxDx] = [Math.min(...dx), Math.max(...dx)];
  const [minDy, maxDy] = [Math.min(...dy), Math.max(...dy)];
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const rowInside = y + minDy >= 0 && y + maxDy < height;
    for (let x = 0; x < width; x++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      if (rowInside && x + minDx >= 0 && x + maxDx < width) {
        const base = (y * width + x) * 3;
        for (let i = 0; i < taps; i++) {
          const p = base + delta[i]!;
          const w = weights[i]!;
          s0 += w * data[p]!;
          s1 += w * data[p + 1]!;
          s2 += w * data[p + 2]!;
        }
      } else {
        for (let i = 0; i < taps; i++) {
          const sx = Math.min(Math.max(x + dx[i]!, 0), width - 1);
          const sy = Math.min(Math.max(y + dy[i]!, 0), height - 1);
          const p = (sy * width + sx) * 3;
          const w = weights[i]!;
          s0 += w * data[p]!;
          s1 += w * data[p + 1]!;
          s2 += w * data[p + 2]!;
        }
      }
      const o = (y * width + x) * 3;
      out[o] = toByte(s0);
      out[o + 1] = toByte(s1);
      out[o + 2] = toByte(s2);
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** Darkens: y = 255 · scale · (x / 255)^gamma per channel value. */
export function lowLight(image: RgbImage, gamma: number, scale: number): RgbImage {
  const table = new Uint8Array(256);
  for (let v = 0; v < 256; v++) table[v] = toByte(255 * scale * Math.pow(v / 255, gamma));
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = table[image.data[i]!]!;
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

/** Encodes as baseline JPEG at `quality` (sharp/libjpeg, 4:2:0 as PIL's default) and decodes back. */
export async function jpegCompress(image: RgbImage, quality: number): Promise<RgbImage> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const jpeg = await sharp(image.data, { raw }).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
  const { data, info } = await sharp(jpeg).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== image.width || info.height !== image.height) {
    throw new Error(`JPEG round trip returned ${info.width}x${info.height}x${info.channels}, expected ${image.width}x${image.height}x3`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/**
 * ImageNet-C's `disk(radius, alias_blur)`: the indicator of x² + y² ≤ radius² on a (2L+1)² grid
 * (L = max(8, radius)), normalised, then OpenCV `GaussianBlur` with a 3×3 (radius ≤ 8) or 5×5 kernel.
 * Returned as a flattened (2L+1)² float64 array. As in ImageNet-C, the disks of radius 8 and 10 touch the
 * grid, so the reflect-101 anti-alias adds mass (sums 1.013 and 1.011): severities 4–5 brighten slightly.
 */
export function defocusKernel(radius: number, aliasSigma: number): { size: number; weights: Float64Array } {
  const half = Math.max(8, radius);
  const size = 2 * half + 1;
  const disk = new Float64Array(size * size);
  let sum = 0;
  for (let y = -half; y <= half; y++) {
    for (let x = -half; x <= half; x++) {
      if (x * x + y * y <= radius * radius) {
        disk[(y + half) * size + x + half] = 1;
        sum += 1;
      }
    }
  }
  for (let i = 0; i < disk.length; i++) disk[i]! /= sum;
  const g = gaussianKernel(aliasSigma, radius <= 8 ? 1 : 2);
  return { size, weights: blurPlane(disk, size, size, g) };
}

/** Separable blur of one float64 plane with OpenCV's default border (reflect 101). */
function blurPlane(src: Float64Array, width: number, height: number, kernel: Float64Array): Float64Array {
  const r = (kernel.length - 1) / 2;
  const tmp = new Float64Array(src.length);
  const out = new Float64Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += kernel[k + r]! * src[y * width + borderIndex(x + k, width, 'reflect101')]!;
      tmp[y * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += kernel[k + r]! * tmp[borderIndex(y + k, height, 'reflect101') * width + x]!;
      out[y * width + x] = s;
    }
  }
  return out;
}

/** Defocus blur: 2-D correlation with {@link defocusKernel} (OpenCV `filter2D`, reflect-101 border). */
export function defocusBlur(image: RgbImage, radius: number, aliasSigma: number): RgbImage {
  const { size, weights } = defocusKernel(radius, aliasSigma);
  return fromFloat(convolve2d(image, size, weights), image);
}

/**
 * 2-D correlation of interleaved RGB with a square `size`×`size` kernel (row-major), reflect-101 border,
 * in float. The image is padded once and zero taps are skipped, so the inner loop is a plain weighted sum.
 */
export function convolve2d(image: RgbImage, size: number, weights: Float64Array): Float32Array {
  const half = (size - 1) / 2;
  const { width, height, data } = image;
  const pw = width + 2 * half;
  const ph = height + 2 * half;
  const padded = new Float32Array(pw * ph * 3);
  for (let y = 0; y < ph; y++) {
    const sy = borderIndex(y - half, height, 'reflect101');
    for (let x = 0; x < pw; x++) {
      const s = (sy * width + borderIndex(x - half, width, 'reflect101')) * 3;
      const d = (y * pw + x) * 3;
      padded[d] = data[s]!;
      padded[d + 1] = data[s + 1]!;
      padded[d + 2] = data[s + 2]!;
    }
  }
  const nonZero: number[] = [];
  for (let k = 0; k < weights.length; k++) if (weights[k] !== 0) nonZero.push(k);
  const offsets = Int32Array.from(nonZero, (k) => (Math.floor(k / size) * pw + (k % size)) * 3);
  const taps = Float64Array.from(nonZero, (k) => weights[k]!);
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = (y * pw + x) * 3;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let t = 0; t < taps.length; t++) {
        const p = base + offsets[t]!;
        const w = taps[t]!;
        s0 += w * padded[p]!;
        s1 += w * padded[p + 1]!;
        s2 += w * padded[p + 2]!;
      }
      const o = (y * width + x) * 3;
      out[o] = s0;
      out[o + 1] = s1;
      out[o + 2] = s2;
    }
  }
  return out;
}
