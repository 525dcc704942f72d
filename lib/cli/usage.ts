import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ArgumentError } from '../errors.js';

/**
 * A bad command-line argument: reported without a stack trace, exit code 2. The command line's
 * {@link ArgumentError} (code `BLIP2_INVALID_ARGUMENT`); the message names the flag.
 */
export class UsageError extends ArgumentError {
  override name = 'UsageError';
}

/** Parses a flag value as an integer in [min, max], naming the flag in the error. */
export function parseIntegerFlag(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[-+]?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new UsageError(`${flag} expects an integer between ${min} and ${max} but received ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** Parses a flag value as a finite number in [min, max], naming the flag in the error. */
export function parseNumberFlag(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${flag} expects a number between ${min} and ${max} but received ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** Checks, before any work, that a flag's input file exists and is a file (a usage error naming the flag otherwise). */
export async function checkInputFile(flag: string, path: string, what = 'file'): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new UsageError(`${flag}: no such ${what}: ${path}`);
  if (info.isDirectory()) throw new UsageError(`${flag}: ${path} is a directory, not a ${what}`);
}

/** Checks, before any work, that a flag's output file can be made: its folder exists and it is not a directory. */
export async function checkOutputFile(flag: string, path: string): Promise<void> {
  const folder = await stat(dirname(resolve(path))).catch(() => undefined);
  if (folder === undefined || !folder.isDirectory()) throw new UsageError(`${flag}: the folder of ${path} does not exist`);
  if ((await stat(path).catch(() => undefined))?.isDirectory()) throw new UsageError(`${flag}: ${path} is a directory; give a file name`);
}
