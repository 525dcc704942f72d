#!/usr/bin/env node
/**
 * The `blip2-progressive` command line. Each command lives in its own module and registers
 * itself on the program (lib/cli/program.ts); this file runs it and maps errors to exit codes.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage (unknown flag, invalid value), 130 stopped by a signal.
 */
import { CommanderError } from 'commander';
import { createProgram } from './program.js';
import { UsageError } from './usage.js';
import { AbortError } from '../abort.js';

export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof AbortError ? 130 : 1;
  }
}

// `blip2-progressive ... | head`: a closed pipe ends the command quietly instead of with an EPIPE stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
