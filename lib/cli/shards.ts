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

/** The command line that reproduces `command`'s parsed options, without `omit` (e.g. --nproc). */
export function optionArgs(command: Command, omit: readonly string[]): string[] {
  const values = command.opts() as Record<string, unknown>;
  const args: string[] = [];
  for (const option of command.options) {
    const name = option.attributeName();
    const value = values[name];
    if (value === undefined || value === false || omit.includes(option.long ?? '')) continue;
    if (value === true) args.push(option.long!);
    else if (Array.isArray(value)) for (const v of value) args.push(option.long!, String(v));
    else args.push(option.long!, String(value));
  }
  return args;
}

/** Contiguous shards of `items`, as even as possible, never empty. */
export function shardsOf<T>(items: readonly T[], n: number): T[][] {
  const count = Math.min(n, items.length);
  return Array.from({ length: count }, (_, k) => items.slice(Math.floor((k * items.length) / count), Math.floor(((k + 1) * items.length) / count)));
}

/**
 * Runs `subcommand ...options ...shard` for each shard of `inputs` in parallel; resolves with the exit code of each
 * shard after writing their stdout in order. `threads` is given to each shard as --threads unless the options hold it.
 */
export async function runShards(
  subcommand: string, inputs: readonly string[], options: readonly string[], nproc: number,
  stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream = process.stderr,
): Promise<(number | null)[]> {
  const shards = shardsOf(inputs, nproc);
  const threads = Math.max(1, Math.floor(availableParallelism() / shards.length));
  const extra = options.includes('--threads') ? [] : ['--threads', String(threads)];
  const outputs: Buffer[][] = shards.map(() => []);
  const codes = await Promise.all(shards.map((shard, k) => new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, subcommand, ...options, ...extra, '--', ...shard], {
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
