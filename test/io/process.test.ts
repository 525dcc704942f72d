// processAlive: running processes count, exited and zombie ones (exited, not yet reaped) do not.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processAlive } from '../../lib/io/process.js';

describe('processAlive', () => {
  it('is true for this process and false for a pid that has exited', async () => {
    expect(processAlive(process.pid)).toBe(true);
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => child.on('exit', r));
    expect(processAlive(child.pid!)).toBe(false);
  });

  it('is false for a zombie, whose parent has not reaped it', async () => {
    // `sleep 0.1` exits while its parent (the shell, replaced by `sleep 5`) never waits for it
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5']);
    const pid = Number(await new Promise<string>((r) => parent.stdout.once('data', (c: Buffer) => r(c.toString()))));
    await new Promise((r) => setTimeout(r, 400));
    expect(() => process.kill(pid, 0)).not.toThrow(); // it still has a pid
    expect(processAlive(pid)).toBe(false);
    parent.kill('SIGKILL');
  });
});
