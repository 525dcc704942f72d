// startModuleWorker runs a module beside its caller: the .ts module through tsx when the caller is a source file,
// the .js module when the caller is compiled.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../lib/io/worker-thread.js';

const dir = mkdtempSync(join(tmpdir(), 'blip2-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function roundTrip(worker: Worker, message: unknown): Promise<unknown> {
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage(message);
    });
  } finally {
    await worker.terminate();
  }
}

describe('startModuleWorker', () => {
  it('runs <name>.ts through tsx beside a TypeScript caller', async () => {
    expect(await roundTrip(startModuleWorker(import.meta.url, 'echo-worker'), 41)).toEqual({ echo: 41 });
  });

  it('runs <name>.js beside a compiled caller', async () => {
    writeFileSync(join(dir, 'doubler.js'), "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (n) => parentPort.postMessage(n * 2));\n");
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
    expect(await roundTrip(startModuleWorker(pathToFileURL(join(dir, 'caller.js')).href, 'doubler'), 21)).toBe(42);
  });
});
