// launchRanks: torchrun's environment for each rank, rank 0's output passed through, and one failed rank stopping
// the others instead of leaving them waiting.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { freePort, launchRanks } from '../../lib/distributed/launch.js';

function sink() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  return { stream, text: () => text };
}

describe('launchRanks', () => {
  it("gives each rank torchrun's variables and OMP_NUM_THREADS; only rank 0's stdout is kept", async () => {
    const out = sink();
    const err = sink();
    const port = await freePort();
    const script = "const e=process.env; console.log([e.RANK,e.LOCAL_RANK,e.WORLD_SIZE,e.LOCAL_WORLD_SIZE,e.MASTER_ADDR,e.MASTER_PORT,e.OMP_NUM_THREADS].join(' ')); console.error('hello from ' + e.RANK)";
    const result = await launchRanks(process.execPath, ['-e', script], { nproc: 3, masterPort: port, threadsPerRank: 2, stdout: out.stream, stderr: err.stream });
    expect(result).toEqual({ codes: [0, 0, 0], signals: [null, null, null], exitCode: 0 });
    expect(out.text()).toBe(`0 0 3 3 127.0.0.1 ${port} 2\n`);
    expect(err.text().split('\n').filter(Boolean).sort()).toEqual(['[rank 1] hello from 1', '[rank 2] hello from 2', 'hello from 0']);
  });

  it('stops the other ranks when one fails, and reports the failed rank and its exit code', async () => {
    const err = sink();
    const script = "if (process.env.RANK === '1') { setTimeout(() => process.exit(3), 200) } else { setInterval(() => {}, 1000) }";
    const started = Date.now();
    const result = await launchRanks(process.execPath, ['-e', script], { nproc: 3, graceMs: 2000, stdout: new PassThrough(), stderr: err.stream });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.failedRank).toBe(1);
    expect(result.exitCode).toBe(3);
    expect(result.codes[1]).toBe(3);
    expect(result.signals[0]).toBe('SIGTERM');
    expect(result.signals[2]).toBe('SIGTERM');
    expect(err.text()).toContain('rank 1 exited with code 3; stopping the other ranks');
  });

  it('a rank that ignores SIGTERM is killed after the grace period', async () => {
    // rank 1 says when its handler is in place (a file), and only then does rank 0 fail: no race with start-up
    const ready = join(mkdtempSync(join(tmpdir(), 'blip2-launch-')), 'ready');
    const script = `const fs = require('fs'); const ready = ${JSON.stringify(ready)};
      if (process.env.RANK === '1') { process.on('SIGTERM', () => {}); fs.writeFileSync(ready, ''); setInterval(() => {}, 1000) }
      else { const t = setInterval(() => { if (fs.existsSync(ready)) { clearInterval(t); process.exit(2) } }, 20) }`;
    const result = await launchRanks(process.execPath, ['-e', script], { nproc: 2, graceMs: 300, stdout: new PassThrough(), stderr: new PassThrough() });
    expect(result.failedRank).toBe(0);
    expect(result.signals[1]).toBe('SIGKILL');
  });

  it('names a bad option', async () => {
    await expect(launchRanks(process.execPath, [], { nproc: 0 })).rejects.toThrow('Expected integer between 1 and 1024 for nproc but received 0 of type number');
  });
});
