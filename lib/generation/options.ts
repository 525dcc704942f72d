/**
 * The generation options, one row each: the camelCase name of the API, the snake_case key of generation_config.json,
 * the command-line flag, the kind and range of its values (what validates it), Hugging Face's default, and where it
 * is exposed. The library's option list and defaults, `caption`'s flags, a run config's `eval`, the server's API
 * options and their OpenAPI schema are all read from this table.
 */
import { boolean, integerInRange, numberInRange } from '../is.js';

/** Where an option can be set. */
export type GenerationSurface =
  /** The library's options (`captioner.caption`, `generate`, `captionImages`). */
  | 'api'
  /** The `caption` command's flags. */
  | 'cli'
  /** A run config's `eval` (and `eval --data`'s flags, which mirror it). */
  | 'runConfig'
  /** The demo server's `POST /api/caption` options. */
  | 'server'
  /** The demo page's form. */
  | 'page';

/** The values an option takes: integers and numbers within `range`, booleans, or a kind checked on its own. */
export type GenerationOptionKind = 'integer' | 'number' | 'boolean' | 'earlyStopping' | 'tokenIds' | 'tokenIdLists';

/** One generation option. */
export interface GenerationOptionSpec {
  /** The option's name (camelCase). */
  readonly name: string;
  /** Its key in a model's generation_config.json, when the file can set it. */
  readonly snake?: string;
  readonly kind: GenerationOptionKind;
  /** Smallest and largest value (integers and numbers). */
  readonly range?: readonly [number, number];
  /** Hugging Face's default (transformers 4.44; T5's token ids). */
  readonly default: unknown;
  /** Where the option can be set. */
  readonly exposed: readonly GenerationSurface[];
  /** The server's limit that replaces the top of `range` for a request (see `ApiOptionLimits`). */
  readonly serverMax?: 'maxNewTokens' | 'maxBeams';
  /** The `caption` flag's help. */
  readonly cliHelp?: string;
  /** The option's description in the server's OpenAPI schema. */
  readonly apiDoc?: string;
  /** The demo page's slider: its range (within `range`; the server's limit lowers its top) and starting value. */
  readonly pageSlider?: { readonly range: readonly [number, number]; readonly default: number };
}

/** Largest token id. */
export const MAX_TOKEN_ID = 2 ** 31 - 1;
/** Largest n-gram size. */
const MAX_TOKENS = 1 << 20;

/**
 * Bounds on generation settings. The decoder's cache and per-step work grow with the length, so it is capped;
 * temperatures outside [0.01, 10] (the demo server's range) overflow or flatten fp32 logits into an error or an
 * empty caption, and penalties far from 1 do the same.
 */
export const GENERATION_LIMITS = Object.freeze({
  /** Largest maxNewTokens (and maxLength - 1, minNewTokens, minLength - 1). */
  maxNewTokens: 1024,
  /** Sampling temperature range. */
  temperature: [0.01, 10] as const,
  /** Repetition penalty range. */
  repetitionPenalty: [1e-6, 1e6] as const,
  /**
   * Beam length penalty range: length ** ±10 stays finite in fp32 up to the length bound; ±1e6 gave scores of -0 and
   * -Infinity.
   */
  lengthPenalty: [-10, 10] as const,
});

const ALL: readonly GenerationSurface[] = ['api', 'cli', 'server', 'page'];

/** The options, in the order they are documented (and listed by every surface). */
export const GENERATION_OPTIONS = [
  {
    name: 'maxNewTokens', snake: 'max_new_tokens', kind: 'integer', range: [1, GENERATION_LIMITS.maxNewTokens], default: undefined,
    exposed: [...ALL, 'runConfig'], serverMax: 'maxNewTokens',
    // the seed project's Gradio demo: a tokens slider from 8 to 40, at 40
    pageSlider: { range: [8, 40], default: 40 },
    cliHelp: 'tokens to generate at most (default: the model\'s generation_config.json, as Hugging Face generate: max_new_tokens, ' +
      'else max_length 20 counting the start token, i.e. 19; the built-in default model sets 24. eval --data uses 24 for every model, as training\'s validation)',
  },
  { name: 'maxLength', snake: 'max_length', kind: 'integer', range: [2, GENERATION_LIMITS.maxNewTokens + 1], default: 20, exposed: ['api'] },
  {
    name: 'minNewTokens', snake: 'min_new_tokens', kind: 'integer', range: [0, GENERATION_LIMITS.maxNewTokens], default: 0, exposed: ALL,
    serverMax: 'maxNewTokens', cliHelp: 'no EOS before this many tokens', apiDoc: 'End of sequence forbidden until this many tokens.',
  },
  { name: 'minLength', snake: 'min_length', kind: 'integer', range: [0, GENERATION_LIMITS.maxNewTokens + 1], default: 0, exposed: ['api'] },
  {
    name: 'numBeams', snake: 'num_beams', kind: 'integer', range: [1, 64], default: 1, exposed: [...ALL, 'runConfig'], serverMax: 'maxBeams',
    cliHelp: 'beam search width (1: greedy)', apiDoc: '1: greedy search (or sampling with doSample).',
  },
  {
    name: 'numReturnSequences', snake: 'num_return_sequences', kind: 'integer', range: [1, 64], default: 1, exposed: ALL, serverMax: 'maxBeams',
    cliHelp: 'captions per image (≤ num-beams, or with --do-sample)',
    apiDoc: 'Sequences per model (each caption then has "sequences"); more than 1 needs numBeams ≥ it, or doSample.',
  },
  {
    name: 'lengthPenalty', snake: 'length_penalty', kind: 'number', range: GENERATION_LIMITS.lengthPenalty, default: 1, exposed: ALL,
    cliHelp: 'beam score = sum log-prob / length^x (default 1)',
    apiDoc: 'Beam search: score = sum log p / length ** lengthPenalty (above 1 favours longer captions).',
  },
  {
    name: 'earlyStopping', snake: 'early_stopping', kind: 'earlyStopping', default: false, exposed: ['api', 'cli'],
    cliHelp: 'stop beam search as soon as num-beams captions are finished',
  },
  {
    name: 'noRepeatNgramSize', snake: 'no_repeat_ngram_size', kind: 'integer', range: [0, MAX_TOKENS], default: 0, exposed: ALL, serverMax: 'maxNewTokens',
    cliHelp: 'forbid repeating any n-gram of this size', apiDoc: 'No n-gram of this size repeats (0: off).',
  },
  {
    name: 'repetitionPenalty', snake: 'repetition_penalty', kind: 'number', range: GENERATION_LIMITS.repetitionPenalty, default: 1, exposed: ['api', 'cli'],
    cliHelp: 'penalty for tokens already generated (1: none)',
  },
  { name: 'doSample', snake: 'do_sample', kind: 'boolean', default: false, exposed: ALL, cliHelp: 'sample instead of taking the most likely token' },
  {
    name: 'temperature', snake: 'temperature', kind: 'number', range: GENERATION_LIMITS.temperature, default: 1, exposed: ALL,
    cliHelp: 'sampling temperature',
  },
  {
    name: 'topK', snake: 'top_k', kind: 'integer', range: [0, MAX_TOKEN_ID], default: 50, exposed: ['api', 'cli'],
    cliHelp: 'sample among the k most likely tokens (0: all; default 50)',
  },
  { name: 'topP', snake: 'top_p', kind: 'number', range: [0, 1], default: 1, exposed: ALL, cliHelp: 'nucleus sampling probability mass' },
  { name: 'badWordsIds', snake: 'bad_words_ids', kind: 'tokenIdLists', default: undefined, exposed: ['api'] },
  { name: 'suppressTokens', snake: 'suppress_tokens', kind: 'tokenIds', default: undefined, exposed: ['api'] },
  { name: 'suppressUndecodable', kind: 'boolean', default: true, exposed: ['api'] },
  {
    name: 'seed', kind: 'integer', range: [0, Number.MAX_SAFE_INTEGER], default: undefined, exposed: ALL,
    cliHelp: 'sampling seed (reproducible runs)', apiDoc: 'Sampling seed (reproducible captions).',
  },
  { name: 'outputScores', snake: 'output_scores', kind: 'boolean', default: false, exposed: ['api'] },
  { name: 'outputTokenLogprobs', kind: 'boolean', default: false, exposed: ['api'] },
  { name: 'decoderStartTokenId', snake: 'decoder_start_token_id', kind: 'integer', range: [0, MAX_TOKEN_ID], default: 0, exposed: ['api'] },
  { name: 'eosTokenId', snake: 'eos_token_id', kind: 'tokenIds', default: [1], exposed: ['api'] },
  { name: 'padTokenId', snake: 'pad_token_id', kind: 'integer', range: [0, MAX_TOKEN_ID], default: 0, exposed: ['api'] },
] as const satisfies readonly GenerationOptionSpec[];

/** A generation option's name. */
export type GenerationKey = (typeof GENERATION_OPTIONS)[number]['name'];

/** The row of an option. */
export function generationOption(name: GenerationKey): GenerationOptionSpec {
  return GENERATION_OPTIONS.find((o) => o.name === name)!;
}

/** The options exposed on a surface, in table order. */
export function generationOptionsOn(surface: GenerationSurface): GenerationOptionSpec[] {
  return GENERATION_OPTIONS.filter((o) => (o.exposed as readonly GenerationSurface[]).includes(surface));
}

/** The option's flag: `numReturnSequences` → `--num-return-sequences`. */
export function generationFlag(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Checks an integer, number or boolean option against its range (`max` replaces the top of it, as a server limit
 * does), with the library's message: `Expected integer between 1 and 64 for numBeams but received 0 of type number`.
 */
export function checkScalarOption(spec: GenerationOptionSpec, value: unknown, max?: number): number | boolean {
  if (spec.kind === 'boolean') return boolean(spec.name, value);
  const [min, top] = spec.range!;
  if (spec.kind === 'integer') return integerInRange(spec.name, value, min, max ?? top);
  return numberInRange(spec.name, value, min, max ?? top);
}
