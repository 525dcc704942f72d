/**
 * The library's error vocabulary: one class per kind of failure, each with a stable `code` that does not change
 * when a message is reworded.
 *
 * | class | `code` | thrown for |
 * |---|---|---|
 * | {@link ArgumentError} (a `TypeError`) | `BLIP2_INVALID_ARGUMENT` | a bad argument or option, named with what was expected |
 * | {@link FileError} | `BLIP2_BAD_FILE` | a file that is missing, a directory, unreadable or not valid JSON |
 * | {@link ConfigError} | `BLIP2_BAD_CONFIG` | a config file or object whose content is wrong, naming the key |
 * | {@link NativeError} | `BLIP2_NATIVE_FAILURE` | the native addon failed (libtorch, weights) or cannot be loaded |
 *
 * Domain errors keep their own classes beside these: `ImageLoadError` (with a reason code), `AbortError`
 * (`ABORT_ERR`), `NonFiniteError`, `NonFiniteLossError`, `ModelNotCachedError`.
 */

/** The `code` of each kind of error. */
export const ERROR_CODES = Object.freeze({
  argument: 'BLIP2_INVALID_ARGUMENT',
  file: 'BLIP2_BAD_FILE',
  config: 'BLIP2_BAD_CONFIG',
  native: 'BLIP2_NATIVE_FAILURE',
} as const);

/** One of {@link ERROR_CODES}' values. */
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/**
 * Sets the extra fields of an error as non-enumerable properties (as `message` and `stack` are), so that two errors
 * with the same class and message compare equal and an error's JSON or inspected form is what it was before.
 */
function hide(error: Error, fields: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(fields)) {
    Object.defineProperty(error, key, { value, enumerable: false, writable: false, configurable: true });
  }
}

/**
 * A bad argument or option: `Expected integer between 1 and 64 for numBeams but received 0 of type number`.
 * A `TypeError` whose `name` stays "TypeError" (as Node's own `ERR_INVALID_ARG_TYPE`), so code that catches
 * TypeErrors — the demo server answers them with 400 — keeps working.
 */
export class ArgumentError extends TypeError {
  /** The argument or option at fault (`numBeams`, `inputs.imageRepeat`), when one is known. */
  declare readonly argument: string | undefined;

  constructor(message: string, options: { argument?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    hide(this, { argument: options.argument });
  }

  /** `BLIP2_INVALID_ARGUMENT`. */
  get code(): typeof ERROR_CODES.argument {
    return ERROR_CODES.argument;
  }
}

/**
 * A file that cannot be used as it is: missing, a directory, unreadable or not valid JSON. The message names the
 * file, what is wrong (for JSON, the line and column) and, where one is known, the fix.
 */
export class FileError extends Error {
  override name = 'FileError';
  /** The file at fault. */
  declare readonly path: string;

  constructor(message: string, options: { path: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    hide(this, { path: options.path });
  }

  /** `BLIP2_BAD_FILE`. */
  get code(): typeof ERROR_CODES.file {
    return ERROR_CODES.file;
  }
}

/**
 * A config whose content is wrong (`config.json`, `generation_config.json`, `adapter_config.json`, a run config):
 * the message names the file (or "config") and the key path.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The config file at fault, when the config came from one. */
  declare readonly file: string | undefined;

  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    hide(this, { file: options.file });
  }

  /** `BLIP2_BAD_CONFIG`. */
  get code(): typeof ERROR_CODES.config {
    return ERROR_CODES.config;
  }
}

/**
 * A failure inside the native addon (a libtorch error, weights it cannot read, a failed collective) or an addon
 * that cannot be loaded. The message is the addon's own; `operation` names the call that failed and `cause` holds
 * the original error.
 */
export class NativeError extends Error {
  override name = 'NativeError';
  /** The call that failed: `Blip2Model.load`, `Blip2Model.forward`, `loading the addon`. */
  declare readonly operation: string;

  constructor(message: string, options: { operation: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    hide(this, { operation: options.operation });
  }

  /** `BLIP2_NATIVE_FAILURE`. */
  get code(): typeof ERROR_CODES.native {
    return ERROR_CODES.native;
  }
}
