/**
 * What every tokenizer of this library offers ({@link Tokenizer}), the option and result types of its calls, and
 * the batch mechanics they share: option checking, Hugging Face's right-side truncation, padding on either side and
 * id validation. {@link T5Tokenizer} (SentencePiece unigram) and {@link ByteLevelBpeTokenizer} (GPT-2 / OPT) implement
 * the interface; {@link loadTokenizer} picks one for a model directory.
 */
import { boolean, integerInRange, invalidParameterError, knownKeys, oneOf, optional } from '../is.js';
import { ArgumentError } from '../errors.js';
import { IGNORE_INDEX } from './labels.js';
import { cleanUpTokenization } from './pystring.js';

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Add the tokenizer's special tokens (default true): T5 appends `</s>` unless the ids already end with it; a
   * byte-level BPE tokenizer with `add_bos_token` puts its BOS in front.
   */
  addSpecialTokens?: boolean;
}

/** Padding strategy of {@link Tokenizer.encodeBatch}: to the longest row, to `maxLength`, or none. */
export type PaddingStrategy = 'longest' | 'max_length' | false;

/** Which end of a row padding goes to (tokenizer_config.json's `padding_side`). */
export type PaddingSide = 'left' | 'right';

/** The values of {@link PaddingSide}. */
export const PADDING_SIDES: readonly PaddingSide[] = ['left', 'right'];

/** Options of {@link Tokenizer.encodeBatch}. */
export interface EncodeBatchOptions {
  /** Add the special tokens to each row, as {@link EncodeOptions.addSpecialTokens} (default true). */
  addSpecialTokens?: boolean;
  /** Pad with the pad id (default false). */
  padding?: PaddingStrategy;
  /** Where the padding goes (default: the tokenizer's {@link Tokenizer.paddingSide}). */
  paddingSide?: PaddingSide;
  /** Row length for `padding: 'max_length'` and the truncation limit. */
  maxLength?: number;
  /** Cut rows to `maxLength` at their end (special tokens kept) — default true when `maxLength` is given. */
  truncation?: boolean;
  /** Round the padded length up to a multiple of this (needs padding). */
  padToMultipleOf?: number;
}

/** Result of {@link Tokenizer.encodeBatch}. */
export interface BatchEncoding {
  inputIds: number[][];
  /** 1 for tokens, 0 for padding. */
  attentionMask: number[][];
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Drop the special tokens (T5: pad, eos, unk and `<extra_id_N>`; BPE: bos, eos, unk, pad) — default false. */
  skipSpecialTokens?: boolean;
  /** Apply `clean_up_tokenization` (default: the tokenizer config's `clean_up_tokenization_spaces`). */
  cleanUpTokenizationSpaces?: boolean;
}

/** Options of {@link Tokenizer.encodeTargets}. */
export interface EncodeTargetsOptions {
  /** Truncate each row to this many tokens (special tokens kept). */
  maxLength?: number;
}

/** Result of {@link Tokenizer.encodeTargets}: right-padded labels with -100 on the padding. */
export interface TargetEncoding {
  labels: number[][];
}

/** A list of token ids: a plain array or an integer typed array. */
export type TokenIds = readonly number[] | Int32Array | Uint32Array | Uint16Array | Float64Array;

/** The kinds of tokenizer this library implements. */
export type TokenizerKind = 't5' | 'byte-level-bpe';

/**
 * A tokenizer with Hugging Face's slow-tokenizer ids: what captioning, training and evaluation call, whatever the
 * language model. Implemented by {@link T5Tokenizer} and {@link ByteLevelBpeTokenizer}.
 */
export interface Tokenizer {
  /** Which implementation this is. */
  readonly kind: TokenizerKind;
  /** Number of ids the tokenizer can decode (`len(tokenizer)`: vocabulary plus added tokens). */
  readonly vocabSize: number;
  /** Id of the padding token. */
  readonly padTokenId: number;
  /** Id of the end-of-sequence token. */
  readonly eosTokenId: number;
  /** Id of the unknown token. */
  readonly unkTokenId: number;
  /** Id of the beginning-of-sequence token, or undefined when the tokenizer has none (T5). */
  readonly bosTokenId: number | undefined;
  /** Where {@link Tokenizer.encodeBatch} pads by default: `left` for OPT's prompts, `right` for T5. */
  readonly paddingSide: PaddingSide;
  /** `model_max_length` from tokenizer_config.json, or undefined when unset or unbounded. */
  readonly modelMaxLength: number | undefined;
  /** The token string of an id (`convert_ids_to_tokens`); throws for ids outside `[0, vocabSize)`. */
  idToToken(id: number): string;
  /** The id of a token string (`convert_tokens_to_ids`): the unk id for strings that are not tokens. */
  tokenToId(token: string): number;
  /** `convert_ids_to_tokens`, optionally dropping special ids; validates every id. */
  convertIdsToTokens(ids: TokenIds, options?: { skipSpecialTokens?: boolean }): string[];
  /** The tokens of a text as the slow `tokenize()` gives them, without special tokens added. */
  tokenize(text: string): string[];
  /** Token ids of one text, with the special tokens unless `addSpecialTokens` is false. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Several texts, with optional truncation and padding on {@link EncodeBatchOptions.paddingSide}. */
  encodeBatch(texts: readonly string[], options?: EncodeBatchOptions): BatchEncoding;
  /** Training labels: the texts encoded with special tokens, right-padded, -100 on the padding. */
  encodeTargets(texts: readonly string[], options?: EncodeTargetsOptions): TargetEncoding;
  /** Text of a list of ids, as the slow tokenizer's `decode`; ids outside `[0, vocabSize)` throw. */
  decode(ids: TokenIds, options?: DecodeOptions): string;
  /** {@link Tokenizer.decode} for each row. */
  batchDecode(sequences: readonly TokenIds[], options?: DecodeOptions): string[];
}

/** {@link EncodeBatchOptions} after validation, with the tokenizer's defaults applied. */
export interface ResolvedBatchOptions {
  addSpecialTokens: boolean;
  padding: PaddingStrategy;
  paddingSide: PaddingSide;
  maxLength: number | undefined;
  truncation: boolean;
  padToMultipleOf: number | undefined;
}

const MAX_LENGTH_LIMIT = 2 ** 31 - 1;
const BATCH_KEYS = ['addSpecialTokens', 'padding', 'paddingSide', 'maxLength', 'truncation', 'padToMultipleOf'] as const;
const PADDING_VALUES = ['longest', 'max_length'] as const;
/** Matches an unpaired UTF-16 surrogate (paired ones are single code points under the `u` flag). */
const LONE_SURROGATE = /\p{Cs}/u;

/** Text must be a string that UTF-8 can encode (Python's `str.encode` raises on lone surrogates). */
export function checkText(text: unknown, name: string): asserts text is string {
  if (typeof text !== 'string') throw invalidParameterError(name, 'string', text);
  if (LONE_SURROGATE.test(text)) throw invalidParameterError(name, 'string without unpaired surrogates', text);
}

/** `opts[key]` as a boolean, or `fallback` when absent. */
export function readBoolean(opts: Record<string, unknown>, key: string, fallback: boolean): boolean {
  return optional(opts[key], fallback, (v) => boolean(key, v));
}

/** Checks the options of `encodeBatch`; a missing `maxLength` falls back to `modelMaxLength` where one is needed. */
export function readBatchOptions(options: unknown, defaults: { modelMaxLength: number | undefined; paddingSide: PaddingSide }): ResolvedBatchOptions {
  const opts = knownKeys('options', options, BATCH_KEYS);
  const addSpecialTokens = readBoolean(opts, 'addSpecialTokens', true);
  const padding: PaddingStrategy = opts.padding === undefined || opts.padding === false ? false : oneOf('padding', opts.padding, PADDING_VALUES);
  const paddingSide = optional(opts.paddingSide, defaults.paddingSide, (v) => oneOf('paddingSide', v, PADDING_SIDES));
  let maxLength = optional(opts.maxLength, undefined, (v) => integerInRange('maxLength', v, 1, MAX_LENGTH_LIMIT));
  const truncation = readBoolean(opts, 'truncation', maxLength !== undefined);
  const padToMultipleOf = optional(opts.padToMultipleOf, undefined, (v) => integerInRange('padToMultipleOf', v, 1, MAX_LENGTH_LIMIT));
  if (maxLength === undefined && (truncation || padding === 'max_length')) maxLength = defaults.modelMaxLength;
  if (maxLength === undefined && (truncation || padding === 'max_length')) {
    throw new ArgumentError(`Expected maxLength with ${truncation ? 'truncation: true' : "padding: 'max_length'"} (the tokenizer config sets no model_max_length)`, { argument: 'maxLength' });
  }
  if (padToMultipleOf !== undefined && padding === false) {
    throw new ArgumentError("Expected padding 'longest' or 'max_length' with padToMultipleOf but received false", { argument: 'padding' });
  }
  return { addSpecialTokens, padding, paddingSide, maxLength, truncation, padToMultipleOf };
}

/**
 * HF `truncate_sequences` (right side) for one sequence: room is left for `numSpecial` tokens.
 * HF logs an error and returns the ids unchanged when they cannot be cut far enough; this throws.
 */
export function truncate(ids: number[], maxLength: number, numSpecial: number): number[] {
  const remove = ids.length + numSpecial - maxLength;
  if (remove <= 0) return ids;
  if (ids.length <= remove) {
    throw new ArgumentError(`Expected maxLength of at least ${numSpecial + 1} to truncate with special tokens but received ${maxLength}`, { argument: 'maxLength' });
  }
  return ids.slice(0, ids.length - remove);
}

/** The row length padding aims at (0 without padding: rows keep their lengths). */
function paddedLength(rows: number[][], opts: ResolvedBatchOptions): number {
  if (opts.padding === false) return 0;
  let length = opts.padding === 'longest' ? Math.max(0, ...rows.map((r) => r.length)) : (opts.maxLength as number);
  const multiple = opts.padToMultipleOf;
  if (multiple !== undefined && length % multiple !== 0) length = (Math.floor(length / multiple) + 1) * multiple;
  return length;
}

/** Pads encoded rows as `opts` says (rows longer than the target stay as they are) and builds their masks. */
export function padRows(rows: number[][], opts: ResolvedBatchOptions, padTokenId: number): BatchEncoding {
  const target = paddedLength(rows, opts);
  const left = opts.paddingSide === 'left';
  const inputIds = rows.map((ids) => {
    if (ids.length >= target) return ids;
    const pad = new Array<number>(target - ids.length).fill(padTokenId);
    return left ? [...pad, ...ids] : [...ids, ...pad];
  });
  const attentionMask = rows.map((ids) => {
    const length = Math.max(target, ids.length);
    const mask = new Array<number>(length).fill(0);
    return left ? mask.fill(1, length - ids.length) : mask.fill(1, 0, ids.length);
  });
  return { inputIds, attentionMask };
}

/** Labels from a right-padded batch: the ids, with -100 where the mask is 0. */
export function labelsFrom({ inputIds, attentionMask }: BatchEncoding): TargetEncoding {
  return { labels: inputIds.map((ids, r) => ids.map((id, i) => (attentionMask[r]![i] === 1 ? id : IGNORE_INDEX))) };
}

/** How one tokenizer encodes a text without and then with its special tokens (`numSpecial` of them). */
export interface RowEncoder {
  encodeWithoutSpecial(text: string): number[];
  addSpecial(ids: number[]): number[];
  numSpecial: number;
  padTokenId: number;
}

/**
 * `encodeBatch` of every tokenizer: each text encoded, truncated at the end (room kept for the special tokens),
 * the special tokens added, and the rows padded as `opts` says.
 */
export function encodeRows(texts: readonly string[], opts: ResolvedBatchOptions, encoder: RowEncoder): BatchEncoding {
  if (!Array.isArray(texts)) throw invalidParameterError('texts', 'array of strings', texts);
  texts.forEach((text, i) => checkText(text, `texts[${i}]`));
  const rows = texts.map((text) => {
    let ids = encoder.encodeWithoutSpecial(text);
    if (opts.truncation) ids = truncate(ids, opts.maxLength as number, opts.addSpecialTokens ? encoder.numSpecial : 0);
    return opts.addSpecialTokens ? encoder.addSpecial(ids) : ids;
  });
  return padRows(rows, opts, encoder.padTokenId);
}

const TARGET_KEYS = ['maxLength'] as const;

/** `encodeTargets` of every tokenizer: the batch right-padded to its longest row, -100 on the padding. */
export function encodeTargetRows(
  encodeBatch: (texts: readonly string[], options: EncodeBatchOptions) => BatchEncoding, texts: readonly string[], options: unknown,
): TargetEncoding {
  const opts = knownKeys('options', options, TARGET_KEYS);
  const batchOptions: EncodeBatchOptions = { padding: 'longest', paddingSide: 'right' };
  if (opts.maxLength !== undefined) batchOptions.maxLength = opts.maxLength as number;
  return labelsFrom(encodeBatch(texts, batchOptions));
}

/** Validates a list of ids against `[0, vocabSize)`, naming the position of a bad one; returns them as numbers. */
export function checkIds(ids: TokenIds, name: string, vocabSize: number): number[] {
  if (!Array.isArray(ids) && !(ArrayBuffer.isView(ids) && !(ids instanceof DataView) && typeof (ids as Int32Array)[0] !== 'bigint')) {
    throw invalidParameterError(name, 'array of token ids', ids);
  }
  const max = vocabSize - 1;
  return Array.from(ids as ArrayLike<number>, (id, i) => integerInRange(`${name}[${i}]`, id, 0, max));
}

/**
 * `PreTrainedTokenizer._decode` (spaces_between_special_tokens=True) for every tokenizer: runs of ordinary tokens
 * become text through `tokensToString`; legacy added tokens stand alone; the parts are joined with spaces.
 */
export function decodeTokens(
  tokens: readonly string[], legacyAddedTokens: ReadonlySet<string>, tokensToString: (tokens: string[]) => string, cleanUp: boolean,
): string {
  const subTexts: string[] = [];
  let current: string[] = [];
  for (const token of tokens) {
    if (!legacyAddedTokens.has(token)) {
      current.push(token);
      continue;
    }
    if (current.length > 0) {
      const text = tokensToString(current);
      if (text.length > 0) subTexts.push(text);
      current = [];
    }
    subTexts.push(token);
  }
  if (current.length > 0) subTexts.push(tokensToString(current));
  const text = subTexts.join(' ');
  return cleanUp ? cleanUpTokenization(text) : text;
}
