/**
 * Worker-thread entry of {@link ImageWorkerPool}: runs {@link processImageTask} for each message and
 * posts back the float32 pixels (transferred, not copied) or a serialised error.
 */
import { parentPort } from 'node:worker_threads';
import { ImageLoadError } from './decode.js';
import { processImageTask, type ImageTask } from './pipeline.js';

/** A request from the pool. */
export interface WorkerRequest {
  id: number;
  task: ImageTask;
}

/** A reply to the pool. */
export type WorkerReply =
  | { id: number; ok: true; data: Float32Array; width: number; height: number; warnings: string[]; flipped: boolean }
  | { id: number; ok: false; error: SerialisedError };

/** An error as it crosses the thread boundary. */
export interface SerialisedError {
  name: string;
  message: string;
  stack?: string;
  /** Present for ImageLoadError. */
  load?: { input: string; code: string; reason: string };
}

function serialise(error: unknown): SerialisedError {
  const e = error instanceof Error ? error : new Error(String(error));
  const out: SerialisedError = { name: e.name, message: e.message };
  if (e.stack !== undefined) out.stack = e.stack;
  if (e instanceof ImageLoadError) out.load = { input: e.input, code: e.code, reason: e.reason };
  return out;
}

if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (request: WorkerRequest) => {
    processImageTask(request.task).then(
      (result) => {
        const reply: WorkerReply = { id: request.id, ok: true, ...result };
        port.postMessage(reply, [result.data.buffer as ArrayBuffer]);
      },
      (error: unknown) => {
        const reply: WorkerReply = { id: request.id, ok: false, error: serialise(error) };
        port.postMessage(reply);
      },
    );
  });
}
