/**
 * A small seeded generator for sampling: xoshiro128** (Blackman & Vigna), state filled from the seed by
 * splitmix32. The same seed gives the same stream on every platform, so sampled captions are reproducible.
 */

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** with 53-bit uniform doubles. */
export class Xoshiro128 {
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

/** A fresh seed for callers that did not give one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32) * 2 ** 21 + Math.floor(Math.random() * 2 ** 21);
}

/**
 * Draws an index from the distribution softmax(row) (entries of -inf have probability 0), in float64.
 * Equivalent to torch.multinomial(softmax(row), 1) in distribution, not in stream.
 */
export function sampleFromLogits(row: Float32Array, rng: Xoshiro128): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  if (max === -Infinity) throw new Error('Cannot sample: every token has probability 0 (all scores are -inf)');
  let total = 0;
  for (let i = 0; i < row.length; i++) if (row[i] !== -Infinity) total += Math.exp(row[i]! - max);
  const target = rng.nextDouble() * total;
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] === -Infinity) continue;
    cumulative += Math.exp(row[i]! - max);
    last = i;
    if (cumulative > target) return i;
  }
  return last;
}
