/**
 * Worker-thread entry of the dataset writer: runs {@link runSynthTask} for each message and posts back
 * the records or a serialised error.
 */
import { parentPort } from 'node:worker_threads';
import { runSynthTask, type SynthRecord, type SynthTask } from './task.js';

/** A request from the writer. */
export interface SynthWorkerRequest {
  id: number;
  task: SynthTask;
}

/** A reply to the writer. */
export type SynthWorkerReply =
  | { id: number; ok: true; records: SynthRecord[] }
  | { id: number; ok: false; message: string; stack?: string };

if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (request: SynthWorkerRequest) => {
    runSynthTask(request.task).then(
      (records) => port.postMessage({ id: request.id, ok: true, records } satisfies SynthWorkerReply),
      (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        const reply: SynthWorkerReply = { id: request.id, ok: false, message: e.message };
        if (e.stack !== undefined) reply.stack = e.stack;
        port.postMessage(reply);
      },
    );
  });
}
