/**
 * A small pool of worker threads for image preprocessing, so decoding (sharp, on libuv's pool) and the
 * pure-TypeScript Pillow resampler never block the main thread — the event loop stays free for the
 * server and for native model calls while a batch is prepared.
 *
 * Idle workers are `unref`'d: an idle pool never keeps the process alive, so {@link ImageWorkerPool.close}
 * is optional (call it to free the threads early).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../io/worker-thread.js';
import { integerInRange, knownKeys, optional } from '../is.js';
import { ImageLoadError, type ImageLoadErrorCode } from './decode.js';
import type { ImageTask, ImageTaskResult } from './pipeline.js';
import type { SerialisedError, WorkerReply, WorkerRequest } from './worker.js';
import { ArgumentError } from '../errors.js';

/** Options of {@link ImageWorkerPool}. */
export interface ImageWorkerPoolOptions {
  /** Number of worker threads, 1–256. Default: `os.availableParallelism()`. */
  size?: number;
}

interface Pending {
  task: ImageTask;
  resolve: (result: ImageTaskResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: { id: number; pending: Pending } | null;
}

/** Starts a worker on `worker.ts` (`worker.js` once compiled) beside this module. */
function startWorker(): Worker {
  return startModuleWorker(import.meta.url, 'worker');
}

function deserialise(error: SerialisedError): Error {
  if (error.load !== undefined) {
    return new ImageLoadError(error.load.input, error.load.code as ImageLoadErrorCode, error.load.reason);
  }
  const out = error.name === 'TypeError' ? new ArgumentError(error.message) : new Error(error.message);
  if (error.stack !== undefined) out.stack = error.stack;
  return out;
}

/** A fixed-size pool of image-preprocessing worker threads; tasks queue first-in first-out. */
export class ImageWorkerPool {
  /** Number of worker threads. */
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  /** Creates the pool; threads start lazily on the first task. */
  constructor(options?: ImageWorkerPoolOptions) {
    const o = knownKeys('ImageWorkerPool options', options, ['size']);
    this.size = optional(o.size, Math.max(1, availableParallelism()), (v) => integerInRange('size', v, 1, 256));
  }

  /** Runs one task on a worker; resolves with its pixels or rejects with its error (ImageLoadError kept). */
  run(task: ImageTask): Promise<ImageTaskResult> {
    if (this.closed) return Promise.reject(new Error('ImageWorkerPool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops all threads; queued and running tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('ImageWorkerPool is closed');
    for (const pending of this.queue.splice(0)) pending.reject(error);
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.busy?.pending.reject(error);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.busy === null);
      if (slot === undefined) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const pending = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = { id, pending };
      slot.worker.ref();
      const request: WorkerRequest = { id, task: pending.task };
      slot.worker.postMessage(request);
    }
  }

  private spawn(): Slot {
    const worker = startWorker();
    const slot: Slot = { worker, busy: null };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const busy = slot.busy;
      if (busy === null || busy.id !== reply.id) return;
      slot.busy = null;
      worker.unref();
      if (reply.ok) {
        busy.pending.resolve({ data: reply.data, width: reply.width, height: reply.height, warnings: reply.warnings, flipped: reply.flipped });
      } else {
        busy.pending.reject(deserialise(reply.error));
      }
      this.dispatch();
    });
    const fail = (error: Error) => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      slot.busy?.pending.reject(new Error(`Image worker thread failed: ${error.message}`, { cause: error }));
      slot.busy = null;
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) fail(new Error(`exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }
}

let shared: ImageWorkerPool | undefined;

/** The process-wide default pool (created on first use, `availableParallelism()` threads). */
export function defaultImagePool(): ImageWorkerPool {
  shared ??= new ImageWorkerPool();
  return shared;
}
