// The per-blob download lock: exclusive, taken over from dead or silent holders.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { withFileLock } from '../../lib/hub/lock.js';

const FAST = { heartbeatMs: 20, staleMs: 60_000, pollMs: 5 };
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-hub-lock-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('withFileLock', () => {
  it('runs one holder at a time, writes host and pid, and removes the lock after', async () => {
    const lock = join(root, 'locks', 'x.lock');
    const order: string[] = [];
    const hold = (name: string) => withFileLock(lock, async () => {
      expect(readFileSync(lock, 'utf8')).toBe(`${hostname()} ${process.pid}\n`);
      order.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 30));
      order.push(`${name} out`);
      return name;
    }, undefined, FAST);
    expect(await Promise.all([hold('a'), hold('b')])).toEqual(['a', 'b']);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over the lock of a dead process on this host, and one untouched for staleMs', async () => {
    const lock = join(root, 'x.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(lock, `${hostname()} ${dead}\n`);
    expect(await withFileLock(lock, async () => 'dead holder', undefined, FAST)).toBe('dead holder');
    writeFileSync(lock, `other-host 1\n`);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    expect(await withFileLock(lock, async () => 'silent holder', undefined, FAST)).toBe('silent holder');
  });

  it('waits for a live holder on another host and gives up on abort', async () => {
    const lock = join(root, 'x.lock');
    writeFileSync(lock, `other-host 1\n`);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(withFileLock(lock, async () => 'never', controller.signal, FAST)).rejects.toMatchObject({ name: 'AbortError' });
    expect(readFileSync(lock, 'utf8')).toBe('other-host 1\n');
  });
});
