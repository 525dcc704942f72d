/**
 * `--nproc N` for commands that work image by image (`caption`): the inputs are cut into N contiguous shards, each
 * shard runs as this same command in its own process (one model copy each, cores / N threads), and their stdout is
 * written in shard order, so the output is in input order whatever its line format. Each shard's stderr lines are
 * prefixed with `[shard k]`. Needs no process group: the shards never talk to each other.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';

/**
 * Records the options of `command` as they were typed (commander announces each with its raw text before parsing
 * it), so that a shard gets exactly the same flags; returns what was typed, without the flags named in `omit`. Call
 * it after every option has been added and before the command line is parsed.
 */
export function recordOptions(command: Command): (omit: readonly string[]) => string[] {
  const typed: string[][] = [];
  for (const option of command.options) {
    command.on(`option:${option.name()}`, (value?: string | null) => {
      typed.push(value === undefined || value === null ? [option.long!] : [option.long!, value]);
    });
  }
  return (omit) => typed.filter(([flag]) => !omit.includes(flag!)).flat();
}

/** Contiguous shards of `items`, as even as possible, never empty. */
export function shardsOf<T>(items: readonly T[], n: number): T[][] {
  const count = Math.min(n, items.length);
  return Array.from({ length: count }, (_, k) => items.slice(Math.floor((k * items.length) / count), Math.floor(((k + 1) * items.length) / count)));
}

/**
 * Runs `subcommand ...options ...shardArgs[k]` for every k in parallel; resolves with the exit code of each shard
 * after writing their stdout in order. Each shard gets cores / shards threads (--threads, unless the options hold it).
 */
export async function runShards(
  subcommand: string, shards: readonly (readonly string[])[], options: readonly string[],
  stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream = process.stderr,
): Promise<(number | null)[]> {
  const threads = Math.max(1, Math.floor(availableParallelism() / shards.length));
  const extra = options.includes('--threads') ? [] : ['--threads', String(threads)];
  const outputs: Buffer[][] = shards.map(() => []);
  const codes = await Promise.all(shards.map((shard, k) => new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, subcommand, ...options, ...extra, ...shard], {
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => outputs[k]!.push(chunk));
    createInterface({ input: child.stderr }).on('line', (line) => stderr.write(`[shard ${k + 1}/${shards.length}] ${line}\n`));
    child.on('error', (err) => {
      stderr.write(`[shard ${k + 1}/${shards.length}] could not start: ${err.message}\n`);
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  })));
  for (const output of outputs) for (const chunk of output) stdout.write(chunk);
  return codes;
}
