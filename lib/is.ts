/**
 * Argument validation with one error shape everywhere:
 * `Expected integer between 1 and 64 for numBeams but received 0 of type number`.
 *
 * Every public entry point validates its options with these helpers so that a
 * bad argument is reported by name, with what was expected and what was given. Every validator throws an
 * {@link ArgumentError}.
 */
import { ArgumentError } from './errors.js';

/** Describes a received value for an error message: `0 of type number`, `"x" of type string`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `${JSON.stringify(value)} of type string`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object of type ${value.constructor?.name ?? 'Object'}`;
  return `${String(value)} of type ${typeof value}`;
}

/**
 * The error thrown for an invalid argument, an {@link ArgumentError} (a TypeError, code `BLIP2_INVALID_ARGUMENT`):
 * `name` is the argument or option name, `expected` says what would be accepted, which is the fix.
 */
export function invalidParameterError(name: string, expected: string, actual: unknown): ArgumentError {
  return new ArgumentError(`Expected ${expected} for ${name} but received ${describe(actual)}`, { argument: name });
}

/**
 * An optional argument: `fallback` when `value` is undefined, else `check(value)` (which throws for a bad value).
 * The one way to write a default beside its validator:
 * `optional(o.batchSize, 8, (v) => integerInRange('batchSize', v, 1, 4096))`. Only undefined takes the fallback;
 * null goes to `check` like any other value, so `{ batchSize: null }` is reported, not ignored.
 */
export function optional<V, T, D = T>(value: V | undefined, fallback: D, check: (value: V) => T): T | D {
  return value === undefined ? fallback : check(value);
}

export function isDefined<T>(value: T | undefined | null): value is T {
  return value !== undefined && value !== null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);
}

export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

export function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Asserts an integer in [min, max] and returns it. */
export function integerInRange(name: string, value: unknown, min: number, max: number): number {
  if (!isInteger(value) || value < min || value > max) {
    throw invalidParameterError(name, `integer between ${min} and ${max}`, value);
  }
  return value;
}

/** Asserts a finite number in [min, max] and returns it. */
export function numberInRange(name: string, value: unknown, min: number, max: number): number {
  if (!isNumber(value) || value < min || value > max) {
    throw invalidParameterError(name, `number between ${min} and ${max}`, value);
  }
  return value;
}

/** Asserts a finite number > 0 and returns it. */
export function positiveNumber(name: string, value: unknown): number {
  if (!isNumber(value) || value <= 0) throw invalidParameterError(name, 'positive number', value);
  return value;
}

/** Asserts a boolean and returns it. */
export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidParameterError(name, 'boolean', value);
  return value;
}

/** Asserts a non-empty string and returns it. */
export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidParameterError(name, 'non-empty string', value);
  }
  return value;
}

/** Asserts one of the listed values and returns it. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalidParameterError(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

/**
 * Asserts that `options` is undefined or a plain object whose keys are all in `known`.
 * Unknown keys are errors so that a typo never passes silently.
 */
export function knownKeys(name: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw invalidParameterError(name, 'plain object', options);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ArgumentError(
        `Unknown option ${JSON.stringify(key)} in ${name}; expected one of ${known.map((k) => JSON.stringify(k)).join(', ')}`,
        { argument: name },
      );
    }
  }
  return options;
}
