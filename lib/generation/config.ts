/**
 * GenerationConfig: Hugging Face's `GenerationConfig` options in camelCase, with HF's defaults (transformers 4.44),
 * overridden by a model directory's `generation_config.json` (snake_case there), overridden by call options. The
 * options themselves (names, file keys, ranges, defaults) are the rows of options.ts.
 *
 * Validation uses lib/is.ts, so every bad option reads
 * `Expected integer between 1 and 64 for numBeams but received 0 of type number`, and unknown keys are errors.
 */
import { join } from 'node:path';
import {
  integerInRange,
  invalidParameterError,
  isDefined,
  isInteger,
  isPlainObject,
  knownKeys,
} from '../is.js';
import { ConfigError } from '../errors.js';
import { readOptionalJsonFile } from '../io/json.js';
import { GENERATION_LIMITS, GENERATION_OPTIONS, MAX_TOKEN_ID, checkScalarOption, generationOption, type GenerationKey } from './options.js';

export { GENERATION_LIMITS };

/**
 * `earlyStopping` as in HF: `true` stops at numBeams finished hypotheses, `false` uses a heuristic, `'never'` is exact.
 */
export type EarlyStopping = boolean | 'never';

/** A fully resolved generation configuration (every field set). */
export interface GenerationConfig {
  /** Tokens generated after the decoder start token. When undefined, `maxLength` applies. HF default: unset. */
  maxNewTokens: number | undefined;
  /** Maximum decoder length including the start token; used only when maxNewTokens is unset. HF default 20. */
  maxLength: number;
  /** EOS is forbidden until this many tokens are generated. HF default: unset (0). */
  minNewTokens: number;
  /** EOS is forbidden while the decoder sequence (start token included) is shorter. HF default 0. */
  minLength: number;
  /** Beam width; 1 is greedy search or sampling. HF default 1. */
  numBeams: number;
  /** Sequences returned per input (≤ numBeams for beam search; any for sampling; 1 for greedy). HF default 1. */
  numReturnSequences: number;
  /** Hypothesis score = sum logprob / generated_len ** lengthPenalty (beam search). HF default 1. */
  lengthPenalty: number;
  /** Beam-search stopping rule. HF default false. */
  earlyStopping: EarlyStopping;
  /** Multinomial sampling instead of argmax. HF default false. */
  doSample: boolean;
  /** Sampling temperature (logits divided by it). HF default 1. */
  temperature: number;
  /** Keep the k most likely tokens when sampling; 0 disables. HF default 50. */
  topK: number;
  /** Nucleus sampling: keep the smallest set with probability ≥ topP; 1 disables. HF default 1. */
  topP: number;
  /** CTRL repetition penalty on every decoder token so far (start token included); 1 disables. HF default 1. */
  repetitionPenalty: number;
  /** Forbid repeating any n-gram of this size (start token included); 0 disables. HF default 0. */
  noRepeatNgramSize: number;
  /** Token sequences that must never be generated. HF default: none. */
  badWordsIds: number[][] | undefined;
  /** Token ids whose scores are always -inf. HF default: none. */
  suppressTokens: number[] | undefined;
  /**
   * Also suppress ids the tokenizer cannot decode (model rows ≥ tokenizer size, e.g. Flan-T5's 32100..32127).
   * Not an HF option (HF may generate them). Default true.
   */
  suppressUndecodable: boolean;
  /** Seed of the sampling generator (xoshiro128**); undefined draws a fresh seed per call. */
  seed: number | undefined;
  /**
   * Return the processed per-step scores (HF `output_scores`); keeps finished rows running as HF does. Default false.
   */
  outputScores: boolean;
  /** Return log p(token) under the model (log-softmax of the raw logits) for every generated token. Default false. */
  outputTokenLogprobs: boolean;
  /** First decoder token. T5: 0. */
  decoderStartTokenId: number;
  /** End-of-sequence id(s). T5: 1. */
  eosTokenId: number[];
  /** Padding after a finished sequence. T5: 0. */
  padTokenId: number;
}

/** User-facing options: any subset of {@link GenerationConfig}; eosTokenId may be one id. */
export type GenerationOptions = Partial<Omit<GenerationConfig, 'eosTokenId'>> & { eosTokenId?: number | number[] };

/** The option names, in the order they are documented. */
export const GENERATION_KEYS: readonly GenerationKey[] = GENERATION_OPTIONS.map((o) => o.name);

/** Hugging Face's GenerationConfig defaults (T5 token ids). */
export const HF_DEFAULTS: Readonly<GenerationConfig> = Object.freeze(
  Object.fromEntries(GENERATION_OPTIONS.map((o) => [o.name, o.default])) as unknown as GenerationConfig,
);

/** generation_config.json keys (snake_case) that map onto options; other keys in the file are ignored. */
const SNAKE_TO_CAMEL: Record<string, GenerationKey> = Object.fromEntries(
  GENERATION_OPTIONS.flatMap((o) => ('snake' in o ? [[o.snake, o.name]] : [])),
);

/**
 * HF options this library does not implement, with the values that mean "off". A generation_config.json that
 * turns one of them on is an error rather than a silently different result.
 */
const UNSUPPORTED_OFF_VALUES: Record<string, unknown[]> = {
  num_beam_groups: [1],
  diversity_penalty: [0],
  penalty_alpha: [],
  typical_p: [1],
  epsilon_cutoff: [0],
  eta_cutoff: [0],
  min_p: [],
  encoder_repetition_penalty: [1],
  encoder_no_repeat_ngram_size: [0],
  forced_bos_token_id: [],
  forced_eos_token_id: [],
  begin_suppress_tokens: [],
  forced_decoder_ids: [],
  sequence_bias: [],
  exponential_decay_length_penalty: [],
  constraints: [],
  force_words_ids: [],
  guidance_scale: [1],
  max_time: [],
  stop_strings: [],
  renormalize_logits: [false],
  remove_invalid_values: [false],
};

function tokenId(name: string, value: unknown): number {
  return integerInRange(name, value, 0, MAX_TOKEN_ID);
}

function tokenIdList(name: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw invalidParameterError(name, 'array of token ids', value);
  return value.map((v, i) => tokenId(`${name}[${i}]`, v));
}

/**
 * Converts a parsed generation_config.json into options (camelCase). `null` values mean "unset" as in HF and
 * are skipped; bookkeeping keys (transformers_version, bos_token_id, return_dict_in_generate, ...) are ignored;
 * an HF option this library does not implement, set to a value that changes decoding, is an error.
 */
export function generationOptionsFromJson(json: unknown, source = 'generation_config.json'): GenerationOptions {
  if (!isPlainObject(json)) throw invalidParameterError(source, 'JSON object', json);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const off = UNSUPPORTED_OFF_VALUES[key];
    if (off !== undefined && value !== null && !off.includes(value)) {
      throw new Error(`${source} sets ${key} = ${JSON.stringify(value)}, which this library does not implement; remove it or set it to ${off.length ? JSON.stringify(off[0]) : 'null'}`);
    }
    const camel = SNAKE_TO_CAMEL[key];
    if (camel === undefined || value === null) continue;
    out[camel] = value;
  }
  // Some hub configs carry temperature 0 with do_sample false; it only matters for sampling, where HF rejects it too.
  if (out.temperature === 0 && out.doSample !== true) delete out.temperature;
  return out as GenerationOptions;
}

/**
 * Reads `<dir>/generation_config.json` as options; a missing file gives `{}`.
 * @throws FileError for a file that is not JSON; ConfigError naming the file and its snake_case key for a bad value.
 */
export async function readGenerationOptions(dir: string): Promise<GenerationOptions> {
  const file = join(dir, 'generation_config.json');
  const json = await readOptionalJsonFile(file, 'generation config');
  if (json === undefined) return {};
  try {
    const options = generationOptionsFromJson(json, file);
    resolveGenerationConfig(options);
    return options;
  } catch (err) {
    const message = (err as Error).message.replace(/ for (\w+) but /, (all, name: string) => ` for ${CAMEL_TO_SNAKE[name] ?? name} but `);
    throw new ConfigError(message.startsWith(file) ? message : `Invalid ${file}: ${message}`, { file, cause: err });
  }
}

const CAMEL_TO_SNAKE: Record<string, string> = Object.fromEntries(Object.entries(SNAKE_TO_CAMEL).map(([snake, camel]) => [camel, snake]));

function earlyStopping(value: unknown): EarlyStopping {
  if (value === true || value === false || value === 'never') return value;
  throw invalidParameterError('earlyStopping', 'true, false or "never"', value);
}

function badWords(value: unknown): number[][] | undefined {
  if (!isDefined(value)) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidParameterError('badWordsIds', 'non-empty array of non-empty token id arrays', value);
  }
  return value.map((seq, i) => {
    if (!Array.isArray(seq) || seq.length === 0) {
      throw invalidParameterError(`badWordsIds[${i}]`, 'non-empty array of token ids', seq);
    }
    return tokenIdList(`badWordsIds[${i}]`, seq);
  });
}

/**
 * Resolves options into a full {@link GenerationConfig}: HF defaults, then each layer in order (e.g. the model's
 * generation_config.json, then the call's options). Every value is validated; unknown keys are errors.
 */
export function resolveGenerationConfig(...layers: (GenerationOptions | undefined)[]): GenerationConfig {
  const merged: Record<string, unknown> = { ...HF_DEFAULTS };
  layers.forEach((layer, i) => {
    const o = knownKeys(i === layers.length - 1 ? 'options' : 'generation defaults', layer, GENERATION_KEYS);
    for (const [k, v] of Object.entries(o)) if (v !== undefined) merged[k] = v;
  });
  const m = merged;
  const scalar = <T extends number | boolean>(name: GenerationKey): T => checkScalarOption(generationOption(name), m[name]) as T;
  const optionalScalar = (name: GenerationKey): number | undefined => (isDefined(m[name]) ? scalar<number>(name) : undefined);
  const numBeams = scalar<number>('numBeams');
  const doSample = scalar<boolean>('doSample');
  const greedy = numBeams === 1 && !doSample;
  if (greedy && m.numReturnSequences !== 1) {
    throw invalidParameterError(
      'numReturnSequences', 'integer between 1 and 1 (greedy search returns one sequence; set numBeams or doSample)', m.numReturnSequences);
  }
  // beam search returns at most numBeams sequences
  const numReturnSequences = checkScalarOption(generationOption('numReturnSequences'), m.numReturnSequences, numBeams > 1 ? numBeams : undefined) as number;
  const eos = m.eosTokenId;
  const eosTokenId = isInteger(eos) ? [tokenId('eosTokenId', eos)] : tokenIdList('eosTokenId', eos);
  if (eosTokenId.length === 0) throw invalidParameterError('eosTokenId', 'token id or non-empty array of token ids', eos);
  const config: GenerationConfig = {
    maxNewTokens: optionalScalar('maxNewTokens'),
    maxLength: scalar('maxLength'),
    minNewTokens: scalar('minNewTokens'),
    minLength: scalar('minLength'),
    numBeams,
    numReturnSequences,
    lengthPenalty: scalar('lengthPenalty'),
    earlyStopping: earlyStopping(m.earlyStopping),
    doSample,
    temperature: scalar('temperature'),
    topK: scalar('topK'),
    topP: scalar('topP'),
    repetitionPenalty: scalar('repetitionPenalty'),
    noRepeatNgramSize: scalar('noRepeatNgramSize'),
    badWordsIds: badWords(m.badWordsIds),
    suppressTokens: isDefined(m.suppressTokens) ? tokenIdList('suppressTokens', m.suppressTokens) : undefined,
    suppressUndecodable: scalar('suppressUndecodable'),
    seed: optionalScalar('seed'),
    outputScores: scalar('outputScores'),
    outputTokenLogprobs: scalar('outputTokenLogprobs'),
    decoderStartTokenId: scalar('decoderStartTokenId'),
    eosTokenId,
    padTokenId: scalar('padTokenId'),
  };
  return Object.freeze(config) as GenerationConfig;
}

/** Decoder length limit including the start token: `1 + maxNewTokens`, else `maxLength`. */
export function maxDecoderLength(config: GenerationConfig): number {
  return config.maxNewTokens !== undefined ? 1 + config.maxNewTokens : config.maxLength;
}
