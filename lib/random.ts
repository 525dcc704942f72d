/**
 * Seeded randomness for the whole library: one generator (xoshiro128**, Blackman & Vigna, its state filled from
 * the seed by splitmix32) and the draws built on it — uniform numbers and integers, coin flips, picks, Fisher–Yates
 * shuffles, Gaussian deviates — and seed mixing. The same seed gives the same stream on every platform, so sampled
 * captions, augmentations, corruptions, loader orders and the synthetic dataset are reproducible.
 */

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A stream of uniform doubles in [0, 1): what every draw below takes ({@link Xoshiro128} in the library). */
export interface RandomSource {
  nextDouble(): number;
}

/** xoshiro128** with 53-bit uniform doubles. */
export class Xoshiro128 implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed an integer in [0, 2^53); both 32-bit halves feed the state. */
  constructor(seed: number) {
    const init = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x27d4eb2d) };
    this.a = splitmix32(init);
    this.b = splitmix32(init);
    this.c = splitmix32(init);
    this.d = splitmix32(init);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A fresh seed in [0, 2^53) for callers that did not give one (not reproducible: Math.random). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32) * 2 ** 21 + Math.floor(Math.random() * 2 ** 21);
}

/** A uniform double in [low, high): one draw. */
export function uniform(rng: RandomSource, low: number, high: number): number {
  return low + (high - low) * rng.nextDouble();
}

/** A uniform integer in [0, n) for n ≥ 1 (torch.randint(0, n)): one draw. */
export function randomInt(rng: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(rng.nextDouble() * n));
}

/** True with probability p: one draw, also when p is 0 or 1. */
export function chance(rng: RandomSource, p: number): boolean {
  return rng.nextDouble() < p;
}

/** One element of a non-empty array, uniformly: one draw. */
export function pick<T>(rng: RandomSource, items: readonly T[]): T {
  return items[randomInt(rng, items.length)]!;
}

/**
 * Shuffles `items` in place and returns it: Fisher–Yates from the last position down, position i swapped with
 * {@link randomInt}(i + 1), one draw per position.
 */
export function shuffleInPlace<T>(rng: RandomSource, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * N(0, std²) deviates by Box–Muller, both values of each pair used: a call that starts a pair takes two draws
 * (u, v) and returns r·cos θ with r = std·sqrt(−2 ln(1 − u)) and θ = 2πv; the next call returns r·sin θ without
 * drawing.
 */
export class GaussianDeviates {
  private spare: number | undefined;

  constructor(private readonly rng: RandomSource, private readonly std = 1) {}

  /** The next deviate. */
  next(): number {
    if (this.spare !== undefined) {
      const spare = this.spare;
      this.spare = undefined;
      return spare;
    }
    const radius = this.std * Math.sqrt(-2 * Math.log(1 - this.rng.nextDouble()));
    const angle = 2 * Math.PI * this.rng.nextDouble();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
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
