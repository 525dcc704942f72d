/**
 * Seeded randomness for the synthetic dataset. Every image has its own generator, seeded from
 * (dataset seed, domain, split, index), so an image does not depend on how the work is split between
 * threads or on which other images are generated.
 */
import { Xoshiro128 } from '../generation/random.js';

/** A seeded random stream with the helpers scene sampling needs. */
export class SynthRandom {
  private readonly generator: Xoshiro128;
  private spareGauss: number | undefined;

  /** @param seed an integer in [0, 2^53). */
  constructor(seed: number) {
    this.generator = new Xoshiro128(seed);
  }

  /** A uniform double in [0, 1). */
  next(): number {
    return this.generator.nextDouble();
  }

  /** A uniform double in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** An index drawn with probability proportional to `weights`. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let target = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      target -= weights[i]!;
      if (target < 0) return i;
    }
    return weights.length - 1;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A standard normal deviate (Box–Muller; the second value of each pair is kept for the next call). */
  gauss(): number {
    if (this.spareGauss !== undefined) {
      const spare = this.spareGauss;
      this.spareGauss = undefined;
      return spare;
    }
    const u = 1 - this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareGauss = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** A copy of `items` in random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** Mixes integers into one 53-bit seed (splitmix-style avalanche on each part). */
export function mixSeed(...parts: number[]): number {
  let hi = 0x6a09e667;
  let lo = 0xbb67ae85;
  for (const part of parts) {
    const low = part >>> 0;
    const high = Math.floor(part / 2 ** 32) >>> 0;
    lo = avalanche(lo ^ low ^ Math.imul(hi, 0x9e3779b1));
    hi = avalanche(hi ^ high ^ Math.imul(lo, 0x85ebca6b));
  }
  return (hi & 0x1fffff) * 2 ** 32 + (lo >>> 0);
}

function avalanche(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
