/**
 * Seeded randomness for the synthetic dataset. Every image has its own generator, seeded from
 * (dataset seed, domain, split, index), so an image does not depend on how the work is split between
 * threads or on which other images are generated. The draws are the library's ({@link Xoshiro128} and its helpers).
 */
import { chance, GaussianDeviates, pick, randomInt, shuffleInPlace, uniform, Xoshiro128 } from '../random.js';

export { mixSeed } from '../random.js';

/** A seeded random stream with the helpers scene sampling needs. */
export class SynthRandom {
  private readonly generator: Xoshiro128;
  private readonly gaussian: GaussianDeviates;

  /** @param seed an integer in [0, 2^53). */
  constructor(seed: number) {
    this.generator = new Xoshiro128(seed);
    this.gaussian = new GaussianDeviates(this.generator);
  }

  /** A uniform double in [0, 1). */
  next(): number {
    return this.generator.nextDouble();
  }

  /** A uniform double in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return uniform(this.generator, lo, hi);
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return randomInt(this.generator, n);
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return pick(this.generator, items);
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
    return chance(this.generator, p);
  }

  /** A standard normal deviate (Box–Muller; the second value of each pair is kept for the next call). */
  gauss(): number {
    return this.gaussian.next();
  }

  /** A copy of `items` in random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    return shuffleInPlace(this.generator, items.slice());
  }
}
