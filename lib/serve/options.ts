/**
 * The caption options a client may send to `POST /api/caption`: a small, validated subset of the library's
 * generation options (the server is public-facing, so work per request is bounded by these limits).
 */
import { invalidParameterError, knownKeys } from '../is.js';
import type { CaptionOptions } from '../generation/caption.js';
import { resolveGenerationConfig } from '../generation/config.js';
import { checkScalarOption, generationOptionsOn } from '../generation/options.js';
import { ArgumentError } from '../errors.js';

/** The options accepted by the API, with their meaning in {@link CaptionOptions}. */
export interface ApiCaptionOptions {
  /** Text before the caption (e.g. "a photo of"). At most {@link ApiOptionLimits.maxPromptLength} characters. */
  prompt?: string;
  /** Tokens to generate at most, 1..{@link ApiOptionLimits.maxNewTokens}. */
  maxNewTokens?: number;
  /** End of sequence forbidden until this many tokens, 0..{@link ApiOptionLimits.maxNewTokens}. */
  minNewTokens?: number;
  /** Beam width, 1..{@link ApiOptionLimits.maxBeams} (1: greedy search or sampling). */
  numBeams?: number;
  /**
   * Captions per model, 1..{@link ApiOptionLimits.maxBeams}; more than 1 needs numBeams ≥ it, or doSample (as in the
   * library).
   */
  numReturnSequences?: number;
  /** Beam score = sum log p / length ** lengthPenalty, -10..10 (beam search only). */
  lengthPenalty?: number;
  /** No n-gram of this size repeats, 0 (off)..{@link ApiOptionLimits.maxNewTokens}. */
  noRepeatNgramSize?: number;
  /** Sample instead of taking the most likely token. */
  doSample?: boolean;
  /** Sampling temperature, 0.01..10. */
  temperature?: number;
  /** Nucleus sampling mass, 0..1. */
  topP?: number;
  /** Sampling seed (reproducible captions), 0..2^53-1. */
  seed?: number;
}

/** Upper bounds on the work one request may ask for. */
export interface ApiOptionLimits {
  /** Largest maxNewTokens. Default 64. */
  maxNewTokens: number;
  /** Largest numBeams, and largest numReturnSequences. Default 8. */
  maxBeams: number;
  /** Longest prompt in characters. Default 500. */
  maxPromptLength: number;
}

/** The default {@link ApiOptionLimits}. */
export const DEFAULT_OPTION_LIMITS: Readonly<ApiOptionLimits> = Object.freeze({ maxNewTokens: 64, maxBeams: 8, maxPromptLength: 500 });

/** The option names the API accepts. */
export const API_OPTION_KEYS: readonly (keyof ApiCaptionOptions)[] = ['prompt', ...generationOptionsOn('server').map((o) => o.name as keyof ApiCaptionOptions)];

/**
 * Parses the options' JSON text (from a multipart field, the `options` query parameter or the
 * `X-Caption-Options` header).
 *
 * @throws TypeError naming the source when the text is not JSON
 */
export function parseOptionsJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ArgumentError(`Expected JSON for ${source} but received ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`);
  }
}

/**
 * Validates API options (unknown keys, types and ranges within the server's limits, then the library's own rules
 * between options, with the library's error messages) and returns them as library {@link CaptionOptions}.
 *
 * @throws TypeError `Expected integer between 1 and 8 for numBeams but received 0 of type number`,
 *   `Unknown option "beams" in options; expected one of …`, `Expected integer between 1 and 1 (greedy search returns
 *   one sequence; set numBeams or doSample) for numReturnSequences but received 3 of type number`
 */
export function validateApiOptions(value: unknown, limits: ApiOptionLimits = DEFAULT_OPTION_LIMITS): CaptionOptions {
  const o = knownKeys('options', value ?? undefined, API_OPTION_KEYS);
  const out: CaptionOptions = {};
  if (o.prompt !== undefined) {
    if (typeof o.prompt !== 'string' || o.prompt.length > limits.maxPromptLength) {
      throw invalidParameterError('prompt', `string of at most ${limits.maxPromptLength} characters`, o.prompt);
    }
    if (o.prompt.length > 0) out.prompt = o.prompt;
  }
  const generation: Record<string, unknown> = {};
  for (const spec of generationOptionsOn('server')) {
    const value = (o as Record<string, unknown>)[spec.name];
    if (value !== undefined) generation[spec.name] = checkScalarOption(spec, value, spec.serverMax === undefined ? undefined : limits[spec.serverMax]);
  }
  Object.assign(out, generation);
  // the rules between options (numReturnSequences against numBeams and doSample) are the library's, word for word
  resolveGenerationConfig(generation);
  return out;
}
