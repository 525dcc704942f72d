/**
 * One process per run directory: `<outDir>/run.lock` records the owner's pid with what tells that process apart
 * from a later one given the same pid — its start time (/proc/<pid>/stat, clock ticks since boot), the boot id
 * and the host. A lock whose process is gone, whose pid now belongs to a process started at another time, or
 * that was written before the last reboot is stale and taken over.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../io/process.js';

interface LockOwner {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux), or null where /proc is not available. */
  startTime: number | null;
  bootId: string | null;
  host: string;
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses, so count from its end. */
function processStartTime(pid: number): number | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : null;
}

function currentOwner(): LockOwner {
  return { pid: process.pid, startTime: processStartTime(process.pid), bootId: readProc('/proc/sys/kernel/random/boot_id')?.trim() ?? null, host: hostname() };
}

/** The owner a lock file names: this format (JSON), or a bare pid as earlier versions wrote it. */
function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o === 'object' && o !== null && Number.isInteger(o.pid) && o.pid! > 0) {
      return { pid: o.pid!, startTime: typeof o.startTime === 'number' ? o.startTime : null, bootId: typeof o.bootId === 'string' ? o.bootId : null, host: typeof o.host === 'string' ? o.host : hostname() };
    }
    if (Number.isInteger(o) && (o as unknown as number) > 0) return { pid: o as unknown as number, startTime: null, bootId: null, host: hostname() };
  } catch {
    // an empty or cut-short lock: its writer died while writing it
  }
  return undefined;
}

/** Why a lock's owner is still running, or undefined when the lock is stale. */
function liveOwner(owner: LockOwner, self: LockOwner): string | undefined {
  if (owner.host !== self.host) return `pid ${owner.pid} on host ${owner.host}`;
  if (owner.bootId !== null && self.bootId !== null && owner.bootId !== self.bootId) return undefined;
  if (owner.pid === self.pid) return undefined; // this process holds no lock it did not release (see heldLocks)
  if (!processAlive(owner.pid)) return undefined;
  if (owner.startTime !== null) {
    const startTime = processStartTime(owner.pid);
    if (startTime !== null && startTime !== owner.startTime) return undefined; // the pid was reused
  }
  return `pid ${owner.pid}`;
}

/** Lock files this process holds (two runs of one process on one directory share a pid). */
const heldLocks = new Set<string>();

/** Takes `<outDir>/run.lock`; returns the function that releases it. */
export async function lockRunDirectory(outDir: string): Promise<() => Promise<void>> {
  const lock = join(outDir, 'run.lock');
  if (heldLocks.has(lock)) throw new Error(`${outDir} is in use by another run in this process; wait for it to finish`);
  const self = currentOwner();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lock, `${JSON.stringify(self)}\n`, { flag: 'wx' });
      heldLocks.add(lock);
      return async () => {
        heldLocks.delete(lock);
        await rm(lock, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`Cannot write ${lock}: ${(err as Error).message}`, { cause: err });
      const owner = parseOwner(await readFile(lock, 'utf8').catch(() => ''));
      const live = owner === undefined ? undefined : liveOwner(owner, self);
      if (live !== undefined) {
        throw new Error(
          `${outDir} is in use by another training process (${live}); wait for it or stop it first. ` +
          `If no training process is using it (the lock is stale), delete ${lock} and run again`,
          { cause: err },
        );
      }
      await rm(lock, { force: true });
    }
  }
  throw new Error(`Cannot lock ${outDir}: ${lock} was re-created by another process while a stale lock was being replaced`);
}
