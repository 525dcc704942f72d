/** Builds safetensors bytes for tests, including deliberately broken ones. */
import { writeFileSync } from 'node:fs';

export interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Serialises tensors; `headerOverride` replaces the JSON header text verbatim (for corrupt-header tests). */
export function safetensorsBytes(tensors: Map<string, RawTensor>, headerOverride?: string): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let text = headerOverride ?? JSON.stringify(header);
  while (Buffer.byteLength(text) % 8 !== 0) text += ' ';
  const headerBytes = Buffer.from(text);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: Map<string, RawTensor>, headerOverride?: string): void {
  writeFileSync(path, safetensorsBytes(tensors, headerOverride));
}

/** The raw tensors of a safetensors file (bytes per tensor, header order). */
export function rawTensors(bytes: Uint8Array): Map<string, RawTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, RawTensor>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    out.set(name, { dtype: h.dtype, shape: h.shape, bytes: bytes.slice(8 + n + h.data_offsets[0], 8 + n + h.data_offsets[1]) });
  }
  return out;
}
