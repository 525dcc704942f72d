/**
 * The bytes of a @huggingface/hub download Blob as a {@link RangeSource}. `blob.slice(start).stream()` issues
 * `Range: bytes=<start>-<size-1>`; whether the server honoured it (206) is only known once its response arrived,
 * so the first chunk is read before the source is handed over.
 */
import type { RangeSource } from './blob.js';

/**
 * Aborts a download that waits longer than `ms` for the hub: armed around each wait for a response or a chunk,
 * disarmed while the bytes are written, so a slow disk is not taken for a silent hub.
 */
export class StallWatchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** Aborted when the hub was silent too long; its reason says so. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs `wait` with the watchdog armed. */
  async watch<T>(wait: () => Promise<T>): Promise<T> {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.controller.abort(new Error(`no data from the hub for ${this.ms / 1000} s (HF_HUB_DOWNLOAD_TIMEOUT)`));
    }, this.ms);
    try {
      return await wait();
    } finally {
      clearTimeout(this.timer);
    }
  }
}

type Reader = ReadableStreamDefaultReader<Uint8Array>;
type ReadResult = Awaited<ReturnType<Reader['read']>>;

/** WebBlob.stream() aborts its stream with an error's message (a string); make it an Error again. */
async function read(reader: Reader, watchdog: StallWatchdog): Promise<ReadResult> {
  try {
    return await watchdog.watch(() => reader.read());
  } catch (err) {
    throw err instanceof Error ? err : new Error(String(err));
  }
}

async function* chunks(first: ReadResult, reader: Reader, watchdog: StallWatchdog): AsyncGenerator<Uint8Array> {
  try {
    for (let r = first; !r.done; r = await read(reader, watchdog)) yield r.value;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Starts reading `blob` (the file from `start`); `status` reports the HTTP status of the response that carries it.
 * `watchdog` (whose signal the blob's requests carry) bounds every wait for the hub.
 */
export async function readRange(blob: Blob, start: number, status: () => number, watchdog: StallWatchdog): Promise<RangeSource> {
  const reader = blob.stream().getReader() as Reader;
  let first: ReadResult;
  try {
    first = await read(reader, watchdog);
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  }
  return { offset: status() === 206 ? start : 0, chunks: chunks(first, reader, watchdog) };
}
