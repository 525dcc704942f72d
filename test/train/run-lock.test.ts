// run.lock: a live owner blocks with the way out in the message; a pid reused by another process, a lock from before
// a reboot or a dead process is taken over. A taken-over lock shows as the next check's error (a different config).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { runProgressive } from '../../lib/train/run.js';
import { lockRunDirectory } from '../../lib/train/run-lock.js';
import { TINY_MODEL } from '../helpers/paths.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-lock-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const startTime = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
};
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** A run directory holding a run of another config and the given lock; resumes it. */
function resumeWithLock(name: string, lock: string): Promise<unknown> {
  const outDir = join(root, name);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'config.json'), '{}\n');
  writeFileSync(join(outDir, 'run.lock'), lock);
  const spec = parseRunConfig({ model: TINY_MODEL, outDir, data: { train: { file: 't.json' }, val: { file: 'v.json' } }, stages: [{}] });
  return runProgressive(spec, { resume: true });
}
const takenOver = 'holds a run of a different config';

describe('run.lock', () => {
  it('a live owner blocks, and the message says how to clear a stale lock', async () => {
    const outDir = join(root, 'live');
    const lock = JSON.stringify({ pid: process.ppid, startTime: startTime(process.ppid), bootId: bootId(), host: hostname() });
    await expect(resumeWithLock('live', lock)).rejects.toThrow(
      `${outDir} is in use by another training process (pid ${process.ppid}); wait for it or stop it first. ` +
      `If no training process is using it (the lock is stale), delete ${join(outDir, 'run.lock')} and run again`,
    );
    await expect(resumeWithLock('legacy-live', `${process.ppid}\n`)).rejects.toThrow(`(pid ${process.ppid}); wait for it`);
  });

  it('a reused pid, a lock from before a reboot, a dead pid or a cut-short lock is stale', async () => {
    const self = { pid: process.ppid, startTime: startTime(process.ppid), bootId: bootId(), host: hostname() };
    await expect(resumeWithLock('reused', JSON.stringify({ ...self, startTime: self.startTime - 1 }))).rejects.toThrow(takenOver);
    await expect(resumeWithLock('rebooted', JSON.stringify({ ...self, bootId: 'another-boot' }))).rejects.toThrow(takenOver);
    await expect(resumeWithLock('dead', '999999999\n')).rejects.toThrow(takenOver);
    await expect(resumeWithLock('cut', '{"pid": 12')).rejects.toThrow(takenOver);
    await expect(resumeWithLock('other-host', JSON.stringify({ ...self, host: 'elsewhere' }))).rejects.toThrow(
      '(pid ' + self.pid + ' on host elsewhere); wait for it or stop it first',
    );
  });

  it('records pid, start time, boot id and host; one run per directory within a process too', async () => {
    const outDir = join(root, 'twice');
    mkdirSync(outDir);
    const unlock = await lockRunDirectory(outDir);
    expect(JSON.parse(readFileSync(join(outDir, 'run.lock'), 'utf8'))).toEqual({ pid: process.pid, startTime: startTime(process.pid), bootId: bootId(), host: hostname() });
    await expect(lockRunDirectory(outDir)).rejects.toThrow(`${outDir} is in use by another run in this process; wait for it to finish`);
    await unlock();
    await (await lockRunDirectory(outDir))();
  });
});
