/**
 * Small pieces of Python/numpy semantics that the caption metrics must reproduce bit for bit:
 * `str.split()` whitespace, numpy's pairwise summation behind `np.mean`, and Python's float `repr`.
 */

/** Python `str.split()` whitespace other than the ASCII space. */
// eslint-disable-next-line no-control-regex -- Python splits on the ASCII separators \x1c-\x1f as well
const OTHER_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
/** Runs of the characters Python's `str.split()` (no argument) treats as whitespace. */
// eslint-disable-next-line no-control-regex -- Python splits on the ASCII separators \x1c-\x1f as well
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/**
 * Python `s.split()`: splits on runs of Unicode whitespace (including U+00A0) and drops empty
 * strings at both ends, so `"  a  b "` gives `["a", "b"]` and `""` gives `[]`.
 */
export function pySplit(s: string): string[] {
  if (!OTHER_WHITESPACE.test(s)) {
    // Only ASCII spaces: a plain split, dropping the empty strings runs of spaces leave.
    const parts = s.split(' ');
    return parts.includes('') ? parts.filter((p) => p !== '') : parts;
  }
  const parts = s.split(PY_WHITESPACE);
  if (parts.length > 0 && parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const PW_BLOCKSIZE = 128;

function pairwiseSum(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    const r = [a[start]!, a[start + 1]!, a[start + 2]!, a[start + 3]!, a[start + 4]!, a[start + 5]!, a[start + 6]!, a[start + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j]! += a[start + i + j]!;
    }
    let res = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/**
 * numpy's `np.add.reduce` on a contiguous float64 array: pairwise summation with an 8-way
 * unrolled base case of up to 128 elements. Its result differs from a naive loop in the last bits.
 */
export function npSum(values: ArrayLike<number>): number {
  return 0 + pairwiseSum(values, 0, values.length);
}

/** numpy's `np.mean` on a float64 array: pairwise sum divided by the count (NaN when empty, as numpy). */
export function npMean(values: ArrayLike<number>): number {
  return npSum(values) / values.length;
}

/**
 * Python's `repr(float)`: shortest round-trip digits (as JavaScript), but scientific notation
 * when the decimal exponent is < -4 or >= 16, a two-digit exponent, and `.0` on integral values.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${mantissa}e${sign}${abs < 10 ? '0' : ''}${abs}`;
  }
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let body: string;
  if (exp >= 0) {
    body = digits.length <= exp + 1
      ? `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`
      : `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  } else {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return negative ? `-${body}` : body;
}
