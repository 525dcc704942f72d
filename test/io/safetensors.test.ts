import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { halfToFloat, parseSafetensors, readSafetensorsFile } from '../../lib/io/safetensors.js';

const fixtures = fileURLToPath(new URL('../fixtures/blip2-tiny/', import.meta.url));

/** Builds a safetensors file from a header object and a data block. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('readSafetensorsFile', () => {
  it('reads the image golden file with the shapes and dtypes its JSON sidecar lists', async () => {
    const file = await readSafetensorsFile(`${fixtures}images-golden.safetensors`);
    const sidecar = JSON.parse(readFileSync(`${fixtures}images-golden.json`, 'utf8')) as {
      tensors: Record<string, { dtype: string; shape: number[] }>;
    };
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(sidecar.tensors).sort());
    for (const [name, { dtype, shape }] of Object.entries(sidecar.tensors)) {
      const tensor = file.tensors.get(name)!;
      expect(tensor.shape).toEqual(shape);
      expect(tensor.dtype).toBe(dtype === 'uint8' ? 'U8' : 'F32');
      expect(tensor.data.length).toBe(shape.reduce((a, b) => a * b, 1));
    }
    expect(file.tensors.get('img0.decoded_rgb_u8')!.data).toBeInstanceOf(Uint8Array);
  });
});

describe('parseSafetensors', () => {
  it('decodes every dtype to the hand-written values', () => {
    const data = new Uint8Array(64);
    const view = new DataView(data.buffer);
    view.setFloat32(0, 1.5, true);
    view.setFloat32(4, -2, true);
    view.setUint16(8, 0x3c00, true); // F16 1.0
    view.setUint16(10, 0xc000, true); // F16 -2.0
    view.setUint16(12, 0x3f80, true); // BF16 1.0
    view.setUint16(14, 0x4049, true); // BF16 3.140625
    view.setBigInt64(16, -3n, true);
    view.setInt32(24, -7, true);
    data[28] = 200;
    data[29] = 1;
    view.setFloat64(32, Math.PI, true);
    const file = parseSafetensors(build({
      __metadata__: { format: 'pt' },
      f32: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      f16: { dtype: 'F16', shape: [2], data_offsets: [8, 12] },
      bf16: { dtype: 'BF16', shape: [1, 2], data_offsets: [12, 16] },
      i64: { dtype: 'I64', shape: [], data_offsets: [16, 24] },
      i32: { dtype: 'I32', shape: [1], data_offsets: [24, 28] },
      u8: { dtype: 'U8', shape: [1], data_offsets: [28, 29] },
      bool: { dtype: 'BOOL', shape: [1], data_offsets: [29, 30] },
      f64: { dtype: 'F64', shape: [1], data_offsets: [32, 40] },
    }, data));
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.get('f32')!.data]).toEqual([1.5, -2]);
    expect([...file.tensors.get('f16')!.data]).toEqual([1, -2]);
    expect([...file.tensors.get('bf16')!.data]).toEqual([1, 3.140625]);
    expect(file.tensors.get('bf16')!.shape).toEqual([1, 2]);
    expect([...file.tensors.get('i64')!.data]).toEqual([-3n]);
    expect([...file.tensors.get('i32')!.data]).toEqual([-7]);
    expect([...file.tensors.get('u8')!.data]).toEqual([200]);
    expect([...file.tensors.get('bool')!.data]).toEqual([1]);
    expect([...file.tensors.get('f64')!.data]).toEqual([Math.PI]);
  });

  it('converts half floats exactly, including subnormals and infinities', () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x3555)).toBe(0.333251953125);
  });

  it('rejects damaged files with errors naming the source and the tensor', () => {
    expect(() => parseSafetensors(new Uint8Array(3))).toThrow('Invalid safetensors <Buffer 3 bytes>: file is 3 bytes, shorter than the 8-byte header length');
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    expect(() => parseSafetensors(huge, '"x.safetensors"')).toThrow('Invalid safetensors "x.safetensors": header length 1000 exceeds the 8 bytes after the length field');
    const notJson = new Uint8Array(10);
    notJson[0] = 2;
    notJson[8] = 0x7b;
    notJson[9] = 0x7b;
    expect(() => parseSafetensors(notJson)).toThrow(/^Invalid safetensors <Buffer 10 bytes>: header is not valid UTF-8 JSON/);
    expect(() => parseSafetensors(build([1]))).toThrow('Invalid safetensors <Buffer 11 bytes>: header is not a JSON object');
    const past = build({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4));
    expect(() => parseSafetensors(past)).toThrow('tensor "t" data_offsets [0, 8] run past the 4-byte data block');
    const mismatch = build({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => parseSafetensors(mismatch)).toThrow('tensor "t" has 8 bytes but F32 [3] needs 12');
    const dtype = build({ t: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => parseSafetensors(dtype)).toThrow('tensor "t" has unsupported dtype "C64"');
    const shape = build({ t: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, new Uint8Array(1));
    expect(() => parseSafetensors(shape)).toThrow('tensor "t" has invalid shape [-1]');
    const offsets = build({ t: { dtype: 'U8', shape: [1], data_offsets: [2, 1] } }, new Uint8Array(2));
    expect(() => parseSafetensors(offsets)).toThrow('tensor "t" has invalid data_offsets [2,1]');
  });

  it('rejects tensors whose bytes overlap (the format forbids it), not empty ones at one offset', () => {
    const overlap = build({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, new Uint8Array(12));
    expect(() => parseSafetensors(overlap)).toThrow('Invalid safetensors <Buffer 128 bytes>: tensors "a" [0, 8] and "b" [4, 12] overlap');
    const alias = build({ b: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4));
    expect(() => parseSafetensors(alias)).toThrow(/tensors "[ab]" \[0, 4\] and "[ab]" \[0, 4\] overlap/);
    const empty = build({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(parseSafetensors(empty).tensors.get('b')!.data.length).toBe(2);
  });
});
