/** A bad command-line argument: reported without a stack trace, exit code 2. */
export class UsageError extends Error {
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
