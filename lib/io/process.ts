import { readFileSync } from 'node:fs';

/**
 * Whether a process with this pid is running on this machine (EPERM: it exists but belongs to another user). A
 * zombie — exited, not yet reaped by its parent — still answers kill(pid, 0) but holds nothing, so it counts as gone
 * (Linux: its state in /proc/<pid>/stat is Z).
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return processState(pid) !== 'Z';
}

/** Field 3 of /proc/<pid>/stat; the command name before it may hold spaces and parentheses, so count from its end. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
