// A worker module for test/io/worker-thread.test.ts: answers each message with {echo: message}.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (message: unknown) => parentPort!.postMessage({ echo: message }));
