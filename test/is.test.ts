import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../lib/errors.js';
import { integerInRange, oneOf, optional } from '../lib/is.js';

describe('optional', () => {
  const batchSize = (value: unknown) => optional(value, 8, (v) => integerInRange('batchSize', v, 1, 4096));

  it('gives the fallback only for undefined', () => {
    expect(batchSize(undefined)).toBe(8);
    expect(optional(undefined, undefined, (v: unknown) => integerInRange('maxLength', v, 1, 10))).toBeUndefined();
  });

  it('returns the checked value when one is given', () => {
    expect(batchSize(4096)).toBe(4096);
    expect(optional('skip', 'throw', (v) => oneOf('onError', v, ['throw', 'skip'] as const))).toBe('skip');
  });

  it('passes null and bad values to the check, which names the argument', () => {
    expect(() => batchSize(null)).toThrow(new ArgumentError('Expected integer between 1 and 4096 for batchSize but received null'));
    expect(() => batchSize(0)).toThrow('Expected integer between 1 and 4096 for batchSize but received 0 of type number');
    expect(() => batchSize(0)).toThrow(ArgumentError);
  });

  it('does not call the check for undefined', () => {
    let calls = 0;
    optional(undefined, 1, () => ++calls);
    expect(calls).toBe(0);
  });
});

describe('one validation dialect in lib/', () => {
  const libDir = fileURLToPath(new URL('../lib/', import.meta.url));
  const sources = readdirSync(libDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ file: file.split(sep).join('/'), text: readFileSync(join(libDir, file), 'utf8') }));
  // `x === undefined ? default : validator(...)`, the hand-written form optional() replaces
  const handWritten = /\S+ === undefined \? [^:\n]+ : (?:integerInRange|numberInRange|boolean|oneOf|nonEmptyString|positiveNumber)\(/;

  it('finds the form it forbids', () => {
    expect(handWritten.test("const size = o.batchSize === undefined ? 8 : integerInRange('batchSize', o.batchSize, 1, 4096);")).toBe(true);
    expect(handWritten.test("const size = optional(o.batchSize, 8, (v) => integerInRange('batchSize', v, 1, 4096));")).toBe(false);
    expect(sources.some((s) => s.file === 'is.ts')).toBe(true);
  });

  it('defaults beside validators are written with optional()', () => {
    expect(sources.filter((s) => handWritten.test(s.text)).map((s) => s.file)).toEqual([]);
  });
});
