// Property tests of the safetensors header parser (fast-check, fixed seeds and run counts so CI time is bounded):
// any bytes give a parsed file or an "Invalid safetensors" error, never another exception or a wrong array.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../lib/io/safetensors.js';
import { safetensorsBytes, type RawTensor } from '../helpers/safetensors-writer.js';

const DTYPES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Parses and returns 'ok', or the error when it is the parser's own; anything else fails the property. */
function outcome(bytes: Uint8Array): 'ok' | 'invalid' {
  try {
    const file = parseSafetensors(bytes);
    for (const t of file.tensors.values()) {
      expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    }
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^Invalid safetensors <Buffer \d+ bytes>: /);
    return 'invalid';
  }
}

/** A header entry: mostly well-formed, sometimes not (wrong types, negative or huge numbers, overlaps). */
const number = fc.oneof(fc.nat(64), fc.integer({ min: -4, max: 2 ** 53 }), fc.constant(2 ** 60), fc.double(), fc.constant('1'));
const entry = fc.record({
  dtype: fc.oneof(fc.constantFrom(...Object.keys(DTYPES)), fc.string({ maxLength: 4 })),
  shape: fc.oneof(fc.array(fc.nat(6), { maxLength: 3 }), fc.array(number, { maxLength: 3 }), fc.constant(null)),
  data_offsets: fc.oneof(fc.tuple(fc.nat(96), fc.nat(96)), fc.array(number, { maxLength: 3 })),
}, { requiredKeys: [] });
const header = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('__metadata__'), fc.constant('__proto__')),
  fc.oneof(entry, fc.anything({ maxDepth: 2 })), { maxKeys: 5 });

describe('parseSafetensors properties', () => {
  it('random bytes: parsed or an Invalid safetensors error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      outcome(bytes);
    }), { numRuns: 500, seed: 20261202 });
  });

  it('random headers over a random data block: parsed (arrays of the shape\'s size, disjoint bytes) or an error', () => {
    let parsed = 0;
    fc.assert(fc.property(header, fc.uint8Array({ maxLength: 96 }), (h, data) => {
      const text = JSON.stringify(h);
      const bytes = safetensorsBytes(new Map(), text);
      const whole = new Uint8Array(bytes.length + data.length);
      whole.set(bytes);
      whole.set(data, bytes.length);
      if (outcome(whole) !== 'ok') return;
      parsed++;
      const ranges = Object.entries(JSON.parse(text) as object).filter(([k]) => k !== '__metadata__')
        .map(([, e]) => (e as { data_offsets: [number, number] }).data_offsets).filter(([b, e]) => e > b).sort((x, y) => x[0] - y[0]);
      ranges.forEach((r, i) => expect(i === 0 || r[0] >= ranges[i - 1]![1]).toBe(true));
    }), { numRuns: 1000, seed: 7 });
    expect(parsed).toBeGreaterThan(10);
  });

  it('well-formed entries placed anywhere in the data block: parsed only when no two share a byte', () => {
    const placed = fc.record({ dtype: fc.constantFrom('U8', 'I16', 'F32'), n: fc.nat(4), begin: fc.nat(24) });
    let rejected = 0;
    fc.assert(fc.property(fc.array(placed, { minLength: 1, maxLength: 4 }), (entries) => {
      const h = Object.fromEntries(entries.map((e, i) => {
        const end = e.begin + e.n * DTYPES[e.dtype]!;
        return [`t${i}`, { dtype: e.dtype, shape: [e.n], data_offsets: [e.begin, end] }];
      }));
      const ranges = Object.values(h).map((e) => e.data_offsets).filter(([b, e]) => e! > b!).sort((x, y) => x[0]! - y[0]!);
      const disjoint = ranges.every((r, i) => i === 0 || r[0]! >= ranges[i - 1]![1]!);
      const bytes = safetensorsBytes(new Map(), JSON.stringify(h));
      const whole = new Uint8Array(bytes.length + 40);
      whole.set(bytes);
      const result = outcome(whole);
      expect(result).toBe(disjoint ? 'ok' : 'invalid');
      if (!disjoint) rejected++;
    }), { numRuns: 300, seed: 11 });
    expect(rejected).toBeGreaterThan(30);
  });

  it('well-formed files parse with their names and shapes', () => {
    const tensor = fc.constantFrom(...Object.keys(DTYPES)).chain((dtype) => fc.array(fc.nat(4), { maxLength: 3 }).chain((shape) => {
      const n = shape.reduce((a, b) => a * b, 1) * DTYPES[dtype]!;
      return fc.uint8Array({ minLength: n, maxLength: n }).map((bytes): RawTensor => ({ dtype, shape, bytes }));
    }));
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__metadata__'), tensor, { maxKeys: 4 }), (tensors) => {
      const map = new Map(Object.entries(tensors));
      const file = parseSafetensors(safetensorsBytes(map));
      expect([...file.tensors.keys()]).toEqual([...map.keys()]);
      for (const [name, t] of map) expect(file.tensors.get(name)!.shape).toEqual(t.shape);
    }), { numRuns: 300, seed: 42 });
  });
});
