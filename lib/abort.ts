/**
 * Cancellation with an AbortSignal, as Node's own APIs do it (fs.promises, timers/promises): an aborted signal
 * rejects with an error named 'AbortError' (code 'ABORT_ERR') whose `cause` is the signal's reason.
 */
import { invalidParameterError } from './is.js';

/** The error of an operation cancelled through its `signal`. */
export class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Asserts undefined or an AbortSignal and returns it. */
export function abortSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidParameterError(name, 'AbortSignal', value);
  return value;
}

/** Throws an {@link AbortError} when `signal` has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}
