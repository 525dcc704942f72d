/**
 * A lock file per blob, so that two of our processes never append to the same `blobs/<etag>.incomplete`.
 *
 * The lock is a file created with O_EXCL holding `<host> <pid>`; its holder touches it every `heartbeatMs`. A
 * waiter takes it over when its holder is a dead process on this host, or when it has not been touched for
 * `staleMs` (a holder on another host sharing the cache). Node has no flock(2), so this does not exclude Python's
 * huggingface_hub, which locks `<cache>/.locks/<repo>/<etag>.lock` with flock: that is why the name differs.
 */
import { open, readFile, stat, unlink, utimes, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from '../io/process.js';

export interface LockTimings {
  /** How often the holder touches the lock. */
  heartbeatMs: number;
  /** A lock untouched this long is abandoned. */
  staleMs: number;
  /** How often a waiter looks again. */
  pollMs: number;
}

export const DEFAULT_LOCK_TIMINGS: LockTimings = { heartbeatMs: 10_000, staleMs: 60_000, pollMs: 200 };

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    if (Date.now() - info.mtimeMs > staleMs) return true;
    const [host, pid] = text.trim().split(' ');
    return host === hostname() && /^\d+$/.test(pid ?? '') && !processAlive(Number(pid));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // released meanwhile: try again at once
    throw err;
  }
}

async function acquire(path: string, timings: LockTimings, signal: AbortSignal | undefined): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    signal?.throwIfAborted();
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${hostname()} ${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(path, timings.staleMs)) {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      continue;
    }
    await sleep(timings.pollMs, undefined, signal ? { signal } : {});
  }
}

/** Runs `fn` holding the lock file `path` (created, with its folder, if absent; removed afterwards). */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
  timings: LockTimings = DEFAULT_LOCK_TIMINGS,
): Promise<T> {
  await acquire(path, timings, signal);
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, timings.heartbeatMs);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await unlink(path).catch(() => {});
  }
}
