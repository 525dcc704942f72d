/**
 * A small pure-TypeScript safetensors reader for tests, fixtures and tools.
 *
 * Format: an 8-byte little-endian header length N, then N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {string: string} }`,
 * then the data block; offsets are relative to the start of the data block.
 * Every bound is checked so that a damaged file gives an error naming the file and the tensor,
 * never a wrong array. (The model loader is the native one; this reader copies nothing it does not need.)
 */
import { readFile } from 'node:fs/promises';

/** The dtypes this reader understands. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Typed array returned per dtype: F16 and BF16 are widened to Float32Array, I64 stays BigInt64Array. */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** One tensor read from a safetensors file. */
export interface SafetensorsTensor {
  /** The dtype stored in the file. */
  dtype: SafetensorsDtype;
  /** Shape, outermost first. */
  shape: number[];
  /** The values, row-major; BOOL is a Uint8Array of 0/1. */
  data: TensorData;
}

/** A whole safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in header order. */
  tensors: Map<string, SafetensorsTensor>;
  /** The optional `__metadata__` string map. */
  metadata: Record<string, string>;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Header lengths above this are treated as corruption rather than allocated. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Reads and parses a safetensors file from disk. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const bytes = await readFile(path);
  return parseSafetensors(bytes, JSON.stringify(path));
}

/**
 * Parses safetensors bytes. `label` names the source in error messages
 * (defaults to `<Buffer N bytes>`).
 */
export function parseSafetensors(bytes: Uint8Array, label = `<Buffer ${bytes.length} bytes>`): SafetensorsFile {
  const fail = (reason: string): Error => new Error(`Invalid safetensors ${label}: ${reason}`);
  if (bytes.length < 8) throw fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8) || headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${headerLength} exceeds the ${bytes.length - 8} bytes after the length field`);
  }
  const headerEnd = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (error) {
    throw fail(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw fail('header is not a JSON object');
  }
  const dataLength = bytes.length - headerEnd;
  const tensors = new Map<string, SafetensorsTensor>();
  const ranges: { name: string; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry, fail);
      continue;
    }
    const tensor = parseTensor(name, entry, bytes.subarray(headerEnd), dataLength, fail);
    const [begin, end] = (entry as { data_offsets: [number, number] }).data_offsets;
    ranges.push({ name, begin, end });
    tensors.set(name, tensor);
  }
  checkDisjoint(ranges, fail);
  return { tensors, metadata };
}

/** The format forbids tensors that share bytes: two names would alias one buffer. */
function checkDisjoint(ranges: { name: string; begin: number; end: number }[], fail: (reason: string) => Error): void {
  const sorted = ranges.filter((r) => r.end > r.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.begin < a.end) {
      throw fail(`tensors ${JSON.stringify(a.name)} [${a.begin}, ${a.end}] and ${JSON.stringify(b.name)} [${b.begin}, ${b.end}] overlap`);
    }
  }
}

function parseMetadata(entry: unknown, fail: (reason: string) => Error): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw fail('__metadata__ is not an object');
  }
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') throw fail(`__metadata__.${key} is not a string`);
  }
  return entry as Record<string, string>;
}

function parseTensor(
  name: string,
  entry: unknown,
  dataBlock: Uint8Array,
  dataLength: number,
  fail: (reason: string) => Error,
): SafetensorsTensor {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw fail(`entry for tensor ${JSON.stringify(name)} is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in BYTES_PER_ELEMENT)) {
    throw fail(`tensor ${JSON.stringify(name)} has unsupported dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`tensor ${JSON.stringify(name)} has invalid shape ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]) {
    throw fail(`tensor ${JSON.stringify(name)} has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw fail(`tensor ${JSON.stringify(name)} data_offsets [${begin}, ${end}] run past the ${dataLength}-byte data block`);
  }
  const typed = dtype as SafetensorsDtype;
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const expectedBytes = count * BYTES_PER_ELEMENT[typed];
  if (end - begin !== expectedBytes) {
    throw fail(`tensor ${JSON.stringify(name)} has ${end - begin} bytes but ${typed} ${JSON.stringify(shape)} needs ${expectedBytes}`);
  }
  return { dtype: typed, shape: shape as number[], data: decode(typed, dataBlock.subarray(begin, end), count) };
}

function decode(dtype: SafetensorsDtype, raw: Uint8Array, count: number): TensorData {
  // Copy into a fresh, aligned buffer; the file's data block has no alignment guarantee.
  const buffer = new Uint8Array(raw).buffer;
  const view = new DataView(buffer);
  switch (dtype) {
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer);
    case 'I8':
      return new Int8Array(buffer);
    case 'I16':
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(i * 2, true));
    case 'I32':
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
    case 'I64':
      return BigInt64Array.from({ length: count }, (_, i) => view.getBigInt64(i * 8, true));
    case 'F32':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
    case 'F64':
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
    case 'F16':
      return Float32Array.from({ length: count }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    case 'BF16': {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
  }
}

/** IEEE 754 binary16 → number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
