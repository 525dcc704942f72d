import { describe, expect, it } from 'vitest';
import { chance, GaussianDeviates, pick, randomInt, shuffleInPlace, uniform, Xoshiro128, type RandomSource } from '../lib/random.js';

/** A source that replays the given draws and fails when asked for more. */
function scripted(...draws: number[]): RandomSource & { left(): number } {
  let next = 0;
  return {
    nextDouble() {
      if (next >= draws.length) throw new Error('more draws than scripted');
      return draws[next++]!;
    },
    left: () => draws.length - next,
  };
}

describe('draws', () => {
  it('uniform maps [0, 1) onto [low, high)', () => {
    expect(uniform(scripted(0), -45, 45)).toBe(-45);
    expect(uniform(scripted(0.25), -45, 45)).toBe(-22.5);
    expect(uniform(scripted(0.5), 2, 4)).toBe(3);
  });

  it('randomInt is floor(u·n), and stays below n for the largest double under 1', () => {
    expect(randomInt(scripted(0), 7)).toBe(0);
    expect(randomInt(scripted(0.5), 7)).toBe(3);
    expect(randomInt(scripted(6.5 / 7), 7)).toBe(6);
    const largest = 1 - 2 ** -53;
    for (const n of [1, 3, 7, 1000, 2 ** 31 - 1]) expect(randomInt(scripted(largest), n)).toBe(n - 1);
  });

  it('chance(p) is u < p, one draw even at p = 0 and p = 1', () => {
    const rng = scripted(0.3, 0.3, 0, 0.999);
    expect(chance(rng, 0.3)).toBe(false);
    expect(chance(rng, 0.31)).toBe(true);
    expect(chance(rng, 0)).toBe(false);
    expect(chance(rng, 1)).toBe(true);
    expect(rng.left()).toBe(0);
  });

  it('pick indexes with randomInt', () => {
    expect(pick(scripted(0.74), ['a', 'b', 'c', 'd'])).toBe('c');
  });

  it('shuffleInPlace is Fisher–Yates from the last position (worked example)', () => {
    // i = 3: j = floor(0.99·4) = 3, no swap; i = 2: j = floor(0·3) = 0, swap c and a; i = 1: j = floor(0.5·2) = 1
    const items = ['a', 'b', 'c', 'd'];
    const rng = scripted(0.99, 0, 0.5);
    expect(shuffleInPlace(rng, items)).toBe(items);
    expect(items).toEqual(['c', 'b', 'a', 'd']);
    expect(rng.left()).toBe(0);
    expect(shuffleInPlace(scripted(), ['only'])).toEqual(['only']);
  });

  it('GaussianDeviates gives r·cos θ then r·sin θ from two draws (r = std·sqrt(−2 ln(1 − u)), θ = 2πv)', () => {
    // u = 1 − e^−2 gives r = 2·std; v = 1/8 gives θ = π/4: both values 2·std·√½ = √2·std
    const rng = scripted(1 - Math.exp(-2), 0.125, 0, 0.25);
    const deviates = new GaussianDeviates(rng, 3);
    expect(deviates.next()).toBeCloseTo(3 * Math.SQRT2, 12);
    expect(rng.left()).toBe(2);
    expect(deviates.next()).toBeCloseTo(3 * Math.SQRT2, 12);
    expect(rng.left()).toBe(2);
    // u = 0 gives r = 0
    expect(Math.abs(deviates.next())).toBe(0);
  });
});

describe('Xoshiro128', () => {
  it('repeats a stream for a seed, differs across seeds and uses both 32-bit halves of the seed', () => {
    const stream = (seed: number) => { const r = new Xoshiro128(seed); return Array.from({ length: 8 }, () => r.nextUint32()); };
    expect(stream(42)).toEqual(stream(42));
    expect(stream(42)).not.toEqual(stream(43));
    expect(stream(5)).not.toEqual(stream(5 + 2 ** 32));
  });

  it('draws doubles in [0, 1) with a mean near 1/2', () => {
    const r = new Xoshiro128(7);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const d = r.nextDouble();
      if (!(d >= 0 && d < 1)) outside++;
      sum += d;
    }
    expect(outside).toBe(0);
    // the mean of 100,000 uniforms has standard deviation 0.0009
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.005);
  });
});
