/**
 * The bytes of a @huggingface/hub download Blob as a {@link RangeSource}. `blob.slice(start).stream()` issues
 * `Range: bytes=<start>-<size-1>`; whether the server honoured it (206) is only known once its response arrived,
 * so the first chunk is read before the source is handed over.
 */
import type { RangeSource } from './blob.js';

type Reader = ReadableStreamDefaultReader<Uint8Array>;
type ReadResult = Awaited<ReturnType<Reader['read']>>;

/** WebBlob.stream() aborts its stream with an error's message (a string); make it an Error again. */
async function read(reader: Reader): Promise<ReadResult> {
  try {
    return await reader.read();
  } catch (err) {
    throw err instanceof Error ? err : new Error(String(err));
  }
}

async function* chunks(first: ReadResult, reader: Reader): AsyncGenerator<Uint8Array> {
  try {
    for (let r = first; !r.done; r = await read(reader)) yield r.value;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Starts reading `blob` (the file from `start`); `status` reports the HTTP status of the response that carries it.
 */
export async function readRange(blob: Blob, start: number, status: () => number): Promise<RangeSource> {
  const reader = blob.stream().getReader() as Reader;
  let first: ReadResult;
  try {
    first = await read(reader);
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  }
  return { offset: status() === 206 ? start : 0, chunks: chunks(first, reader) };
}
