/**
 * The assistive domain's camera and image degradations (VizWiz-like): a rotated, off-centre, zoomed view
 * of the scene, then exactly one of blur, low light, sensor noise or glare. All in TypeScript on float
 * RGB images in [0, 255]; the blur is a separable Gaussian with clamped edges.
 */
import { IMAGE_SIZE, type FloatImage, type View } from './draw.js';
import type { SynthRandom } from './random.js';

/** The four degradations. */
export const DEGRADATIONS = ['blur', 'dark', 'noise', 'glare'] as const;
export type DegradationKind = (typeof DEGRADATIONS)[number];

/** One sampled degradation with its parameters and a severity in [0, 1] (0 = mildest of its range). */
export type Degradation =
  | { kind: 'blur'; sigma: number; severity: number }
  | { kind: 'dark'; gamma: number; gain: number; severity: number }
  | { kind: 'noise'; sigma: number; severity: number }
  | { kind: 'glare'; x: number; y: number; spread: number; severity: number };

/** Parameter ranges (from the feasibility study; harsher glare washes images out to white). */
export const DEGRADATION_RANGES = {
  blurSigma: [1.3, 2.2],
  darkGamma: [1.2, 1.6],
  darkGain: [0.18, 0.35],
  noiseSigma: [35, 50],
  glareSpread: [9, 18],
  /** Canvas side relative to the clean frame. */
  canvasScale: 1.6,
  maxAngleDegrees: 20,
  maxShift: 13,
  zoom: [0.85, 1.2],
} as const;

/** Glare: `a·0.75 + 45 + 160·blob`, with a Gaussian blob of amplitude 1 at its peak. */
const GLARE_SCALE = 0.75;
const GLARE_OFFSET = 45;
const GLARE_PEAK = 160;

const fraction = (value: number, [lo, hi]: readonly [number, number]) => (value - lo) / (hi - lo);

/**
 * Samples the assistive camera: rotation ±20°, centre shifted by up to ±13 px, zoom 0.85–1.2. The scene
 * is laid out as in the clean domain and its background fills the 1.6× canvas (and beyond), so the
 * shifted, rotated frame always shows scene content.
 */
export function sampleAssistiveView(rng: SynthRandom): View {
  const r = DEGRADATION_RANGES;
  return {
    angle: (rng.uniform(-r.maxAngleDegrees, r.maxAngleDegrees) * Math.PI) / 180,
    centreX: IMAGE_SIZE / 2 + rng.uniform(-r.maxShift, r.maxShift),
    centreY: IMAGE_SIZE / 2 + rng.uniform(-r.maxShift, r.maxShift),
    zoom: rng.uniform(r.zoom[0], r.zoom[1]),
  };
}

/** Samples one degradation, uniformly over the four kinds and uniformly within each range. */
export function sampleDegradation(rng: SynthRandom): Degradation {
  const r = DEGRADATION_RANGES;
  const kind = rng.pick(DEGRADATIONS);
  switch (kind) {
    case 'blur': {
      const sigma = rng.uniform(r.blurSigma[0], r.blurSigma[1]);
      return { kind, sigma, severity: fraction(sigma, r.blurSigma) };
    }
    case 'dark': {
      const gamma = rng.uniform(r.darkGamma[0], r.darkGamma[1]);
      const gain = rng.uniform(r.darkGain[0], r.darkGain[1]);
      return { kind, gamma, gain, severity: (fraction(gamma, r.darkGamma) + 1 - fraction(gain, r.darkGain)) / 2 };
    }
    case 'noise': {
      const sigma = rng.uniform(r.noiseSigma[0], r.noiseSigma[1]);
      return { kind, sigma, severity: fraction(sigma, r.noiseSigma) };
    }
    case 'glare': {
      const spread = rng.uniform(r.glareSpread[0], r.glareSpread[1]);
      return { kind, x: rng.uniform(8, 56), y: rng.uniform(8, 56), spread, severity: fraction(spread, r.glareSpread) };
    }
  }
}

/**
 * The mild version of a degradation (clean-domain photos with a quality issue): half the blur and noise, half the
 * departure from 1 of gamma and gain, a glare blob of 70 % the spread.
 */
export function mildDegradation(d: Degradation): Degradation {
  switch (d.kind) {
    case 'blur':
      return { ...d, sigma: d.sigma / 2 };
    case 'dark':
      return { ...d, gamma: 1 + (d.gamma - 1) / 2, gain: 1 - (1 - d.gain) / 2 };
    case 'noise':
      return { ...d, sigma: d.sigma / 2 };
    case 'glare':
      return { ...d, spread: d.spread * 0.7 };
  }
}

/** Applies a degradation in place. `rng` supplies the noise of `noise`. */
export function applyDegradation(image: FloatImage, degradation: Degradation, rng: SynthRandom): void {
  switch (degradation.kind) {
    case 'blur':
      gaussianBlur(image, degradation.sigma);
      return;
    case 'dark':
      darken(image, degradation.gamma, degradation.gain);
      return;
    case 'noise':
      addGaussianNoise(image, degradation.sigma, rng);
      return;
    case 'glare':
      addGlare(image, degradation.x, degradation.y, degradation.spread);
  }
}

/** A normalised 1-D Gaussian kernel of radius ceil(3σ). */
export function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel[i + radius] = w;
    total += w;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= total;
  return kernel;
}

/** Separable Gaussian blur in place: rows, then columns, edges clamped (replicated). */
export function gaussianBlur(image: FloatImage, sigma: number): void {
  const { width, height, data } = image;
  const kernel = gaussianKernel(sigma);
  // rows: stride 3 along x; columns: stride 3·width along y
  convolveLines(data, kernel, height, width, 3 * width, 3);
  convolveLines(data, kernel, width, height, 3, 3 * width);
}

/**
 * Convolves `lines` lines of `length` samples (per channel) with `kernel`, edges replicated. Line i starts at
 * i·lineStep; consecutive samples are `step` apart; the three channels are interleaved.
 */
function convolveLines(data: Float32Array, kernel: Float64Array, lines: number, length: number, lineStep: number, step: number): void {
  const radius = (kernel.length - 1) / 2;
  const padded = new Float64Array(length + 2 * radius);
  for (let line = 0; line < lines; line++) {
    for (let c = 0; c < 3; c++) {
      const base = line * lineStep + c;
      for (let i = 0; i < padded.length; i++) {
        const j = Math.min(length - 1, Math.max(0, i - radius));
        padded[i] = data[base + j * step]!;
      }
      for (let i = 0; i < length; i++) {
        let acc = 0;
        for (let k = 0; k < kernel.length; k++) acc += kernel[k]! * padded[i + k]!;
        data[base + i * step] = acc;
      }
    }
  }
}

/** Low light in place: `255 · (v / 255)^gamma · gain`. */
export function darken(image: FloatImage, gamma: number, gain: number): void {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = 255 * Math.pow(Math.max(0, d[i]!) / 255, gamma) * gain;
}

/** Sensor noise in place: independent N(0, σ²) per channel, clamped to [0, 255]. */
export function addGaussianNoise(image: FloatImage, sigma: number, rng: SynthRandom): void {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.min(255, Math.max(0, d[i]! + sigma * rng.gauss()));
}

/** Soft glare in place: `a·0.75 + 45 + 160·exp(−d²/(2·spread²))`, clamped to 255. */
export function addGlare(image: FloatImage, cx: number, cy: number, spread: number): void {
  const { width, height, data } = image;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const blob = GLARE_PEAK * Math.exp(-(dx * dx + dy * dy) / (2 * spread * spread));
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        data[i] = Math.min(255, data[i]! * GLARE_SCALE + GLARE_OFFSET + blob);
      }
    }
  }
}
