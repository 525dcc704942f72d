/**
 * Starts N ranks of a command on this machine with torchrun's environment contract (RANK, LOCAL_RANK, WORLD_SIZE,
 * LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and OMP_NUM_THREADS = cores / N, as `torchrun --nproc-per-node N`
 * does. When one rank fails, the others are stopped (SIGTERM, then SIGKILL after a grace period), so a dead rank
 * never leaves the rest hanging. Rank 0's output passes through; the other ranks' stderr lines are prefixed with
 * `[rank k]` and their stdout is dropped (rank 0 alone reports).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { integerInRange, knownKeys, optional } from '../is.js';

export interface LaunchOptions {
  /** How many ranks. */
  nproc: number;
  /** Default 127.0.0.1. */
  masterAddr?: string;
  /** Default: a free port on this machine. */
  masterPort?: number;
  /** OMP_NUM_THREADS of each rank. Default max(1, floor(cores / nproc)). */
  threadsPerRank?: number;
  /** The ranks' environment before the variables above are added. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long the other ranks get to stop after one failed, before SIGKILL. Default 10 s. */
  graceMs?: number;
  /** Aborting stops every rank (SIGTERM, then SIGKILL after the grace period). */
  signal?: AbortSignal;
  /** Where rank 0's stdout and every rank's stderr go. Default this process's. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** How each rank ended. */
export interface LaunchResult {
  /** Exit code per rank (null when it was ended by a signal). */
  codes: (number | null)[];
  signals: (NodeJS.Signals | null)[];
  /** The first rank that failed, if any. */
  failedRank?: number;
  /** 0 when every rank succeeded, else the first failed rank's exit code, or 1 when a signal ended it. */
  exitCode: number;
}

/** A port nothing listens on right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs `command args` as `nproc` ranks and resolves when all of them have ended. */
export async function launchRanks(command: string, args: readonly string[], options: LaunchOptions): Promise<LaunchResult> {
  const o = knownKeys('options', options, ['nproc', 'masterAddr', 'masterPort', 'threadsPerRank', 'env', 'graceMs', 'signal', 'stdout', 'stderr']);
  const nproc = integerInRange('nproc', o.nproc, 1, 1024);
  const masterAddr = (o.masterAddr as string | undefined) ?? '127.0.0.1';
  const masterPort = optional(o.masterPort, undefined, (v) => integerInRange('masterPort', v, 1, 65535)) ?? await freePort(masterAddr);
  const threads = optional(o.threadsPerRank, Math.max(1, Math.floor(availableParallelism() / nproc)), (v) => integerInRange('threadsPerRank', v, 1, 1024));
  const graceMs = optional(o.graceMs, 10_000, (v) => integerInRange('graceMs', v, 0, 600_000));
  const stdout = (o.stdout as NodeJS.WritableStream | undefined) ?? process.stdout;
  const stderr = (o.stderr as NodeJS.WritableStream | undefined) ?? process.stderr;
  const signal = o.signal as AbortSignal | undefined;
  const baseEnv = (o.env as NodeJS.ProcessEnv | undefined) ?? process.env;

  const codes: (number | null)[] = Array(nproc).fill(null);
  const signals: (NodeJS.Signals | null)[] = Array(nproc).fill(null);
  let failedRank: number | undefined;
  const children: ChildProcess[] = [];
  const running = new Set<number>();
  let killTimer: NodeJS.Timeout | undefined;
  const stopAll = () => {
    for (const rank of running) children[rank]!.kill('SIGTERM');
    killTimer ??= setTimeout(() => { for (const rank of running) children[rank]!.kill('SIGKILL'); }, graceMs);
  };
  const onAbort = () => stopAll();
  signal?.addEventListener('abort', onAbort, { once: true });

  const ended = Array.from({ length: nproc }, (_, rank) => new Promise<void>((resolve) => {
    const child = spawn(command, [...args], {
      env: {
        ...baseEnv, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(nproc), LOCAL_WORLD_SIZE: String(nproc),
        MASTER_ADDR: masterAddr, MASTER_PORT: String(masterPort), OMP_NUM_THREADS: String(threads),
      },
      stdio: ['ignore', rank === 0 ? 'pipe' : 'ignore', 'pipe'],
    });
    children[rank] = child;
    running.add(rank);
    child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => stderr.write(rank === 0 ? `${line}\n` : `[rank ${rank}] ${line}\n`));
    child.on('error', (err) => {
      stderr.write(`[rank ${rank}] could not start ${command}: ${err.message}\n`);
    });
    child.on('close', (code, sig) => {
      running.delete(rank);
      codes[rank] = code;
      signals[rank] = sig;
      if ((code !== 0 || sig !== null) && failedRank === undefined) {
        failedRank = rank;
        if (running.size > 0) {
          stderr.write(`rank ${rank} ${sig ? `was killed by ${sig}` : `exited with code ${code}`}; stopping the other ranks\n`);
          stopAll();
        }
      }
      resolve();
    });
  }));
  await Promise.all(ended);
  if (killTimer) clearTimeout(killTimer);
  signal?.removeEventListener('abort', onAbort);
  const exitCode = failedRank === undefined ? 0 : (codes[failedRank] ?? 1) || 1;
  return { codes, signals, exitCode, ...(failedRank === undefined ? {} : { failedRank }) };
}
