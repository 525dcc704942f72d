/** What one request to the demo server may cost: the limits, their defaults and their validation. */
import { integerInRange, knownKeys, optional } from '../is.js';
import { DEFAULT_OPTION_LIMITS, type ApiOptionLimits } from './options.js';

/** Limits on what one request may cost. */
export interface ServerLimits {
  /** Largest upload in bytes (raw body or the multipart file). Default 10 MiB; larger → 413. */
  uploadBytes: number;
  /** Largest image in pixels, judged from its header before decoding. Default 25,000,000; larger → 413. */
  maxPixels: number;
  /** Captions computed at once. Default 1 (the model already uses every core). */
  concurrency: number;
  /** Requests allowed to wait for a slot. Default 8; more → 503 with Retry-After, answered before the body is read. */
  maxWaiting: number;
  /**
   * Uploads received at once (each up to `uploadBytes`). Default 16; more → 503 with Retry-After, before the body is
   * read.
   */
  maxUploads: number;
  /** Open connections. Default 64; more are closed as they arrive. */
  maxConnections: number;
  /**
   * Time to receive a request: headers from the connection, the body from the end of the headers, in ms. Default
   * 30,000; later → 408 and the connection closes.
   */
  receiveTimeoutMs: number;
  /**
   * Deadline of a caption request, queueing included, in ms. Default 60,000; later → 504 and the caption is aborted.
   */
  timeoutMs: number;
  /** Bounds on the generation options (maxNewTokens ≤ 64, numBeams ≤ 8, prompt ≤ 500 characters by default). */
  options: ApiOptionLimits;
}

/** The default {@link ServerLimits}. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  uploadBytes: 10 * 1024 * 1024,
  maxPixels: 25_000_000,
  concurrency: 1,
  maxWaiting: 8,
  maxUploads: 16,
  maxConnections: 64,
  receiveTimeoutMs: 30_000,
  timeoutMs: 60_000,
  options: DEFAULT_OPTION_LIMITS,
});

const LIMIT_KEYS = ['uploadBytes', 'maxPixels', 'concurrency', 'maxWaiting', 'maxUploads', 'maxConnections', 'receiveTimeoutMs', 'timeoutMs', 'options'] as const;

/** Validates limit overrides and fills in the defaults. */
export function resolveLimits(limits?: Partial<ServerLimits>): ServerLimits {
  const o = knownKeys('limits', limits, LIMIT_KEYS);
  const int = (key: Exclude<(typeof LIMIT_KEYS)[number], 'options'>, min: number) =>
    optional(o[key], DEFAULT_LIMITS[key], (v) => integerInRange(key, v, min, Number.MAX_SAFE_INTEGER));
  const options = knownKeys('limits.options', o.options, ['maxNewTokens', 'maxBeams', 'maxPromptLength']);
  return {
    uploadBytes: int('uploadBytes', 1),
    maxPixels: int('maxPixels', 1),
    concurrency: int('concurrency', 1),
    maxWaiting: int('maxWaiting', 0),
    maxUploads: int('maxUploads', 1),
    maxConnections: int('maxConnections', 1),
    receiveTimeoutMs: int('receiveTimeoutMs', 1),
    timeoutMs: int('timeoutMs', 0),
    options: {
      maxNewTokens: optional(options.maxNewTokens, DEFAULT_OPTION_LIMITS.maxNewTokens, (v) => integerInRange('maxNewTokens', v, 1, 1 << 16)),
      maxBeams: optional(options.maxBeams, DEFAULT_OPTION_LIMITS.maxBeams, (v) => integerInRange('maxBeams', v, 1, 64)),
      maxPromptLength: optional(options.maxPromptLength, DEFAULT_OPTION_LIMITS.maxPromptLength, (v) => integerInRange('maxPromptLength', v, 0, 1 << 20)),
    },
  };
}
