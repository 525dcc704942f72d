// Degradations: hand-worked pixel values, and statistics moving in the expected direction on generated images.
import { describe, expect, it } from 'vitest';
import {
  addGaussianNoise, addGlare, darken, gaussianBlur, gaussianKernel, sampleDegradation, type DegradationKind,
} from '../../lib/synth/degrade.js';
import type { FloatImage } from '../../lib/synth/draw.js';
import { SynthRandom } from '../../lib/synth/random.js';
import { synthesizeExample } from '../../lib/synth/sample.js';

function constant(value: number, size = 16): FloatImage {
  return { width: size, height: size, data: new Float32Array(size * size * 3).fill(value) };
}

function mean(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  return s / data.length;
}

/** Mean absolute difference between horizontally adjacent values of the same channel (edge energy). */
function edgeEnergy(data: ArrayLike<number>, width = 64): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i + 3 < data.length; i++) {
    if (Math.floor(i / 3) % width === width - 1) continue;
    s += Math.abs(data[i + 3]! - data[i]!);
    n++;
  }
  return s / n;
}

describe('degradation primitives', () => {
  it('builds a normalised Gaussian kernel of radius ceil(3σ)', () => {
    const k = gaussianKernel(1.3);
    expect(k.length).toBe(2 * 4 + 1);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(k[4]! / k[5]!).toBeCloseTo(Math.exp(1 / (2 * 1.3 * 1.3)), 12);
  });

  it('blurs: a constant image is unchanged and a one-pixel impulse spreads as the outer product of the kernel', () => {
    const flat = constant(100);
    gaussianBlur(flat, 2);
    expect(Math.max(...Array.from(flat.data, (v) => Math.abs(v - 100)))).toBeLessThan(1e-4);
    const impulse = constant(0, 21);
    impulse.data[(10 * 21 + 10) * 3] = 1000;
    gaussianBlur(impulse, 1.5);
    const k = gaussianKernel(1.5);
    expect(impulse.data[(10 * 21 + 10) * 3]).toBeCloseTo(1000 * k[5]! * k[5]!, 3);
    expect(impulse.data[(12 * 21 + 9) * 3]).toBeCloseTo(1000 * k[7]! * k[4]!, 3);
    expect(impulse.data[(10 * 21 + 10) * 3 + 1]).toBe(0);
  });

  it('darkens with 255·(v/255)^γ·gain', () => {
    const image: FloatImage = { width: 1, height: 1, data: Float32Array.from([255, 127.5, 0]) };
    darken(image, 1.5, 0.25);
    expect(image.data[0]).toBeCloseTo(63.75, 4);
    expect(image.data[1]).toBeCloseTo(255 * 0.5 ** 1.5 * 0.25, 4);
    expect(image.data[2]).toBe(0);
  });

  it('adds zero-mean noise with the requested standard deviation', () => {
    const image = constant(128, 64);
    addGaussianNoise(image, 40, new SynthRandom(7));
    const m = mean(image.data);
    const sd = Math.sqrt(mean(Array.from(image.data, (v) => (v - m) ** 2)));
    console.log(`noise σ 40 on mid-gray: mean ${m.toFixed(3)}, sd ${sd.toFixed(3)}`);
    expect(Math.abs(m - 128)).toBeLessThan(1.5);
    expect(Math.abs(sd - 40)).toBeLessThan(1.5);
  });

  it('adds glare a·0.75 + 45 + 160·blob, clamped to 255', () => {
    const image = constant(0, 32);
    addGlare(image, 10.5, 20.5, 8);
    expect(image.data[(20 * 32 + 10) * 3]).toBeCloseTo(205, 4);
    expect(image.data[(20 * 32 + 18) * 3]).toBeCloseTo(45 + 160 * Math.exp(-64 / 128), 4);
    const white = constant(255, 8);
    addGlare(white, 4, 4, 8);
    expect(Math.min(...white.data)).toBe(255);
  });

  it('samples parameters inside the documented ranges', () => {
    const rng = new SynthRandom(3);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const d = sampleDegradation(rng);
      seen.add(d.kind);
      expect(d.severity >= 0 && d.severity <= 1).toBe(true);
      if (d.kind === 'blur') expect(d.sigma >= 1.3 && d.sigma <= 2.2).toBe(true);
      if (d.kind === 'dark') expect(d.gamma >= 1.2 && d.gamma <= 1.6 && d.gain >= 0.18 && d.gain <= 0.35).toBe(true);
      if (d.kind === 'noise') expect(d.sigma >= 35 && d.sigma <= 50).toBe(true);
    }
    expect([...seen].sort()).toEqual(['blur', 'dark', 'glare', 'noise']);
  });
});

describe('assistive images against clean ones', () => {
  it('dark is darker, glare brighter, noise and blur raise and lower edge energy', () => {
    const clean = Array.from({ length: 150 }, (_, i) => synthesizeExample(5, 'clean', 'train', i));
    const assistive = Array.from({ length: 400 }, (_, i) => synthesizeExample(5, 'assistive', 'train', i));
    const stats = (examples: typeof clean) => ({
      brightness: mean(examples.map((e) => mean(e.pixels))),
      edges: mean(examples.map((e) => edgeEnergy(e.pixels))),
    });
    const base = stats(clean);
    const by = (kind: DegradationKind) => stats(assistive.filter((e) => e.degradation?.kind === kind));
    const [dark, glare, noise, blur] = [by('dark'), by('glare'), by('noise'), by('blur')];
    console.log(
      `brightness: clean ${base.brightness.toFixed(1)}, dark ${dark.brightness.toFixed(1)}, glare ${glare.brightness.toFixed(1)}; ` +
        `edge energy: clean ${base.edges.toFixed(2)}, noise ${noise.edges.toFixed(2)}, blur ${blur.edges.toFixed(2)}`,
    );
    expect(dark.brightness < base.brightness * 0.4).toBe(true);
    expect(glare.brightness > base.brightness).toBe(true);
    expect(noise.edges > base.edges * 3).toBe(true);
    expect(blur.edges < base.edges).toBe(true);
  });
});
