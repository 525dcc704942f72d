import { describe, expect, it } from 'vitest';
import { meanSd, pairedDifference, tQuantile95 } from '../../lib/synth/stats.js';

/** P(|T| < t) for Student's t with df degrees of freedom, by Simpson's rule on the density (not using the table). */
function tCoverage(t: number, df: number): number {
  // Γ((ν+1)/2) / Γ(ν/2) by its recurrence from ν = 1 (1/√π) and ν = 2 (√π/2): r(ν+2) = r(ν)·(ν+1)/ν
  let r = df % 2 === 1 ? 1 / Math.sqrt(Math.PI) : Math.sqrt(Math.PI) / 2;
  for (let v = df % 2 === 1 ? 1 : 2; v < df; v += 2) r *= (v + 1) / v;
  const pdf = (x: number) => (r / Math.sqrt(df * Math.PI)) * (1 + (x * x) / df) ** (-(df + 1) / 2);
  const steps = 20000;
  const h = t / steps;
  let sum = pdf(0) + pdf(t);
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * pdf(i * h);
  return 2 * (sum * h) / 3;
}

describe('tQuantile95', () => {
  it.each(Array.from({ length: 30 }, (_, i) => i + 1))('df %i covers 95 % of the t distribution', (df) => {
    // the table is rounded to 3 decimals: the coverage at the rounded value is 0.95 within density × 0.0005
    expect(Math.abs(tCoverage(tQuantile95(df), df) - 0.95)).toBeLessThan(5e-4);
  });

  it('uses the normal quantile beyond 30 and refuses non-integers', () => {
    expect(tQuantile95(200)).toBe(1.96);
    expect(Math.abs(tCoverage(1.96, 200) - 0.95)).toBeLessThan(2e-3);
    expect(() => tQuantile95(0)).toThrow(RangeError);
    expect(() => tQuantile95(2.5)).toThrow(RangeError);
  });
});

describe('meanSd', () => {
  it('hand-worked: [2, 4, 4, 4, 5, 5, 7, 9]', () => {
    // mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, sample variance 32/7
    const r = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(r.mean).toBe(5);
    expect(r.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(meanSd([3]).sd).toBe(0);
    expect(() => meanSd([])).toThrow(RangeError);
  });
});

describe('pairedDifference', () => {
  it('hand-worked gain: differences [1, 2, 2]', () => {
    // mean 5/3, sd √(1/3), se 1/3, t(0.975, 2) = 4.303: 5/3 ± 1.4343
    const d = pairedDifference([1, 2, 3], [2, 4, 5]);
    expect(d.mean).toBeCloseTo(5 / 3, 12);
    expect(d.sd).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(d.low).toBeCloseTo(5 / 3 - 4.303 / 3, 12);
    expect(d.high).toBeCloseTo(5 / 3 + 4.303 / 3, 12);
    expect(d.verdict).toBe('gain');
  });

  it('an interval holding 0 is within noise, one below 0 a loss', () => {
    expect(pairedDifference([1, 1, 1], [1.5, 0.8, 1.1]).verdict).toBe('within noise');
    expect(pairedDifference([1, 1, 1, 1], [0.5, 0.6, 0.55, 0.45]).verdict).toBe('loss');
    // pairing matters: the same values unpaired would overlap, paired they always rise by 0.01 ± 0.001
    expect(pairedDifference([0.5, 0.9, 0.7], [0.511, 0.909, 0.71]).verdict).toBe('gain');
  });

  it('one pair has no interval; unequal counts are refused', () => {
    const d = pairedDifference([1], [2]);
    expect(d.low).toBeUndefined();
    expect(d.verdict).toBe('within noise');
    expect(() => pairedDifference([1, 2], [1])).toThrow(RangeError);
  });
});
