import { describe, expect, it } from 'vitest';
import { npMean, npSum, pyFloatRepr, pySplit } from '../../lib/metrics/numeric.js';

describe('pySplit (Python str.split())', () => {
  it('splits on Unicode whitespace including U+00A0 and U+001C..U+001F, not on U+FEFF', () => {
    expect(pySplit(' a\u00a0b  c\t')).toEqual(['a', 'b', 'c']);
    expect(pySplit('a\x1cb\u3000c')).toEqual(['a', 'b', 'c']);
    expect(pySplit('\ufeffa b')).toEqual(['\ufeffa', 'b']);
    expect(pySplit('')).toEqual([]);
    expect(pySplit('   ')).toEqual([]);
  });
});

describe('npSum / npMean (numpy pairwise summation)', () => {
  it('differs from naive summation exactly as numpy does', () => {
    // [1, eight times 2^-53]. Naive: 1 + 2^-53 rounds to 1 (tie to even) every time -> 1.
    // numpy, n = 9 >= 8: r = a[0..7]; res = ((r0+r1)+(r2+r3)) + ((r4+r5)+(r6+r7))
    //   = ((1) + 2^-52) + 2^-51 = 1 + 3*2^-52; then res += a[8] = 1 + 3.5*2^-52 -> tie -> 1 + 4*2^-52.
    const e = 2 ** -53;
    const a = [1, e, e, e, e, e, e, e, e];
    expect(a.reduce((x, y) => x + y, 0)).toBe(1);
    expect(npSum(a)).toBe(1 + 2 ** -50);
    expect(npMean([1, 2, 3, 4])).toBe(2.5);
    expect(Number.isNaN(npMean([]))).toBe(true);
  });
});

describe('pyFloatRepr (Python repr of a float)', () => {
  it('uses exponents below 1e-4 and from 1e16, two-digit exponents, and .0 on integers', () => {
    expect(pyFloatRepr(1e-5)).toBe('1e-05');
    expect(pyFloatRepr(0.0001)).toBe('0.0001');
    expect(pyFloatRepr(1e16)).toBe('1e+16');
    expect(pyFloatRepr(1234567890123456)).toBe('1234567890123456.0');
    expect(pyFloatRepr(123)).toBe('123.0');
    expect(pyFloatRepr(-2.5e-7)).toBe('-2.5e-07');
    expect(pyFloatRepr(1.003855910705124)).toBe('1.003855910705124');
    expect(pyFloatRepr(1.9999999996000001e-16)).toBe('1.9999999996000001e-16');
    expect(pyFloatRepr(0)).toBe('0.0');
  });
});
