/**
 * T5Tokenizer: a pure-TypeScript tokenizer that reproduces Hugging Face's *slow* (SentencePiece)
 * `T5Tokenizer` with `legacy=True`, configured from a `tokenizer.json`.
 *
 * Encoding, as `PreTrainedTokenizer.tokenize` + `T5Tokenizer` do it:
 * 1. the raw text is cut at added tokens (`<pad>`, `</s>`, `<unk>`, `<extra_id_N>`), leftmost-longest;
 *    an added token with `lstrip`/`rstrip` eats the Python whitespace on that side;
 * 2. every other chunk goes through the SentencePiece normalizer and unigram Viterbi on its own
 *    (so each chunk gets its own "▁" dummy prefix);
 * 3. `</s>` is appended unless the ids already end with it (the fast tokenizer always appends).
 *
 * Decoding follows `PreTrainedTokenizer._decode` and `T5Tokenizer.convert_tokens_to_string`.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  boolean,
  integerInRange,
  invalidParameterError,
  isPlainObject,
  knownKeys,
  nonEmptyString,
  oneOf,
  optional,
} from '../is.js';
import { ArgumentError, ConfigError, FileError } from '../errors.js';
import { readOptionalJsonFile } from '../io/json.js';
import { IGNORE_INDEX } from './labels.js';
import { SentencePieceNormalizer } from './normalizer.js';
import { cleanUpTokenization, pythonLstrip, pythonRstrip, pythonStrip } from './pystring.js';
import { readTokenizerSpec, type AddedToken, type TokenizerConfig, type TokenizerSpec } from './tokenizer-config.js';
import { UnigramModel } from './unigram.js';

export { IGNORE_INDEX, shiftRight } from './labels.js';
export type { TokenizerConfig } from './tokenizer-config.js';

/** Options of {@link T5Tokenizer.encode}. */
export interface EncodeOptions {
  /** Append `</s>` unless the ids already end with it (default true). */
  addSpecialTokens?: boolean;
}

/** Padding strategy of {@link T5Tokenizer.encodeBatch}: to the longest row, to `maxLength`, or none. */
export type PaddingStrategy = 'longest' | 'max_length' | false;

/** Options of {@link T5Tokenizer.encodeBatch}. */
export interface EncodeBatchOptions {
  /** Append `</s>` to each row (default true). */
  addSpecialTokens?: boolean;
  /** Right padding with the pad id (default false). */
  padding?: PaddingStrategy;
  /** Row length for `padding: 'max_length'` and the truncation limit. */
  maxLength?: number;
  /** Cut rows to `maxLength` (the `</s>` kept) — default true when `maxLength` is given. */
  truncation?: boolean;
  /** Round the padded length up to a multiple of this (needs padding). */
  padToMultipleOf?: number;
}

/** Result of {@link T5Tokenizer.encodeBatch}. */
export interface BatchEncoding {
  inputIds: number[][];
  /** 1 for tokens, 0 for padding. */
  attentionMask: number[][];
}

/** Options of {@link T5Tokenizer.decode}. */
export interface DecodeOptions {
  /** Drop pad, eos, unk and `<extra_id_N>` (default false). */
  skipSpecialTokens?: boolean;
  /** Apply `clean_up_tokenization` (default: the tokenizer config's `clean_up_tokenization_spaces`). */
  cleanUpTokenizationSpaces?: boolean;
}

/** Options of {@link T5Tokenizer.encodeTargets}. */
export interface EncodeTargetsOptions {
  /** Truncate each row to this many tokens (the `</s>` kept). */
  maxLength?: number;
}

/** Result of {@link T5Tokenizer.encodeTargets}: right-padded labels with -100 on the padding. */
export interface TargetEncoding {
  labels: number[][];
}

/** A list of token ids: a plain array or an integer typed array. */
export type TokenIds = readonly number[] | Int32Array | Uint32Array | Uint16Array | Float64Array;

const SPACE_SYMBOL = '\u2581';
const UNK_SURFACE = ' \u2047 ';
const MAX_LENGTH_LIMIT = 2 ** 31 - 1;
const ENCODE_KEYS = ['addSpecialTokens'] as const;
const BATCH_KEYS = ['addSpecialTokens', 'padding', 'maxLength', 'truncation', 'padToMultipleOf'] as const;
const DECODE_KEYS = ['skipSpecialTokens', 'cleanUpTokenizationSpaces'] as const;
const TARGET_KEYS = ['maxLength'] as const;
const PADDING_VALUES = ['longest', 'max_length'] as const;
const utf8Decoder = new TextDecoder();

/** One piece of the raw text after cutting at added tokens. */
type Chunk = { text: string; added: AddedToken | undefined };

/** HF slow `T5Tokenizer` (legacy) in TypeScript; build it with {@link T5Tokenizer.fromPretrained} or {@link T5Tokenizer.fromJSON}. */
export class T5Tokenizer {
  private readonly spec: TokenizerSpec;
  private readonly normalizer: SentencePieceNormalizer;
  private readonly model: UnigramModel;
  private readonly tokenIds = new Map<string, number>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly addedByFirstChar = new Map<string, AddedToken[]>();
  private readonly specialTokens: Set<string>;
  private readonly specialIds: Set<number>;
  private readonly legacyAddedTokens: Set<string>;
  /** Id of `</s>`. */
  readonly eosTokenId: number;
  /** Id of `<pad>` (also T5's decoder start token). */
  readonly padTokenId: number;
  /** Id of `<unk>`. */
  readonly unkTokenId: number;

  private constructor(spec: TokenizerSpec) {
    this.spec = spec;
    this.normalizer = new SentencePieceNormalizer(spec.normalizer);
    this.model = new UnigramModel(spec.pieces, spec.unkId);
    spec.pieces.forEach((p, id) => {
      if (!this.tokenIds.has(p.piece)) this.tokenIds.set(p.piece, id);
    });
    for (const token of spec.addedTokens) {
      this.addedByContent.set(token.content, token);
      this.tokenIds.set(token.content, token.id);
      const first = token.content[0];
      const list = this.addedByFirstChar.get(first) ?? [];
      list.push(token);
      list.sort((a, b) => b.content.length - a.content.length);
      this.addedByFirstChar.set(first, list);
    }
    this.eosTokenId = this.requireId(spec.eosToken, 'eos_token');
    this.padTokenId = this.requireId(spec.padToken, 'pad_token');
    this.unkTokenId = this.requireId(spec.unkToken, 'unk_token');
    this.specialTokens = new Set([spec.eosToken, spec.unkToken, spec.padToken, ...spec.additionalSpecialTokens]);
    this.specialIds = new Set([...this.specialTokens].map((t) => this.requireId(t, 'additional_special_tokens')));
    this.legacyAddedTokens = new Set(
      spec.addedTokens
        .filter((t) => !this.specialTokens.has(t.content) || (spec.additionalSpecialTokens.includes(t.content) && t.id >= spec.pieceCount))
        .map((t) => t.content),
    );
  }

  /**
   * Loads `tokenizer.json` from a Hugging Face model directory, with `tokenizer_config.json`,
   * `special_tokens_map.json` (special-token names, `clean_up_tokenization_spaces`, `legacy`) and
   * `added_tokens.json` (checked against tokenizer.json) when present.
   */
  static async fromPretrained(modelDir: string): Promise<T5Tokenizer> {
    nonEmptyString('modelDir', modelDir);
    const tokenizerPath = path.join(modelDir, 'tokenizer.json');
    const tokenizerJson = await readOptionalJsonFile(tokenizerPath, 'tokenizer file');
    if (tokenizerJson === undefined) {
      const dirInfo = await stat(modelDir).catch(() => undefined);
      const where = dirInfo?.isDirectory() ? `the directory ${modelDir}` : `${modelDir}, which is not a directory`;
      throw new FileError(
        `Cannot load the T5 tokenizer: ${tokenizerPath} does not exist. Expected a Hugging Face tokenizer.json ` +
          `(the fast-tokenizer file that save_pretrained writes) in ${where}`,
        { path: tokenizerPath },
      );
    }
    const tokenizerConfig = (await readOptionalJsonFile(path.join(modelDir, 'tokenizer_config.json'), 'tokenizer file')) ?? {};
    const specialTokensMap = (await readOptionalJsonFile(path.join(modelDir, 'special_tokens_map.json'), 'tokenizer file')) ?? {};
    const config = { ...asConfig(tokenizerConfig, 'tokenizer_config.json'), ...asConfig(specialTokensMap, 'special_tokens_map.json') };
    const tokenizer = T5Tokenizer.fromJSON(tokenizerJson, config);
    const addedTokensPath = path.join(modelDir, 'added_tokens.json');
    const addedTokens = await readOptionalJsonFile(addedTokensPath, 'tokenizer file');
    if (addedTokens !== undefined) tokenizer.checkAddedTokens(asConfig(addedTokens, 'added_tokens.json'), addedTokensPath);
    return tokenizer;
  }

  /**
   * Builds the tokenizer from a parsed `tokenizer.json` object and optional `tokenizer_config.json`
   * values (special tokens, `clean_up_tokenization_spaces`, `add_prefix_space`, `model_max_length`).
   */
  static fromJSON(tokenizerJson: unknown, config: TokenizerConfig = {}): T5Tokenizer {
    if (!isPlainObject(config)) throw invalidParameterError('config', 'plain object', config);
    return new T5Tokenizer(readTokenizerSpec(tokenizerJson, config));
  }

  /** Number of ids the tokenizer can decode (`len(tokenizer)`: SentencePiece pieces + added tokens). */
  get vocabSize(): number {
    return this.spec.pieces.length;
  }

  /** Number of SentencePiece pieces (HF's `T5Tokenizer.vocab_size` in transformers 4.44). */
  get pieceCount(): number {
    return this.spec.pieceCount;
  }

  /** `model_max_length` from tokenizer_config.json, or undefined when unset or unbounded. */
  get modelMaxLength(): number | undefined {
    return this.spec.modelMaxLength;
  }

  /** The token string of an id (`convert_ids_to_tokens`); throws for ids outside `[0, vocabSize)`. */
  idToToken(id: number): string {
    integerInRange('id', id, 0, this.vocabSize - 1);
    return this.spec.pieces[id].piece;
  }

  /** The id of a token string (`convert_tokens_to_ids`): the unk id for strings that are not tokens. */
  tokenToId(token: string): number {
    if (typeof token !== 'string') throw invalidParameterError('token', 'string', token);
    return this.tokenIds.get(token) ?? this.unkTokenId;
  }

  /** `convert_ids_to_tokens`, optionally dropping special ids; validates every id. */
  convertIdsToTokens(ids: TokenIds, options?: { skipSpecialTokens?: boolean }): string[] {
    const skip = readBoolean(knownKeys('options', options, ['skipSpecialTokens']), 'skipSpecialTokens', false);
    const checked = this.checkIds(ids, 'ids');
    const tokens: string[] = [];
    for (const id of checked) {
      if (!(skip && this.specialIds.has(id))) tokens.push(this.spec.pieces[id].piece);
    }
    return tokens;
  }

  /**
   * Splits text into tokens as slow `tokenize()` does: added tokens verbatim, SentencePiece pieces
   * otherwise (a run of unknown characters comes back as its normalized text, which maps to `<unk>`).
   * No `</s>` is added.
   */
  tokenize(text: string): string[] {
    checkText(text, 'text');
    const tokens: string[] = [];
    for (const chunk of this.splitOnAddedTokens(text)) {
      if (chunk.added !== undefined) {
        tokens.push(chunk.added.content);
        continue;
      }
      const normalized = this.normalizer.normalize(chunk.text);
      for (const t of this.model.encode(normalized)) {
        tokens.push(t.id === this.unkTokenId ? utf8Decoder.decode(normalized.subarray(t.start, t.end)) : this.spec.pieces[t.id].piece);
      }
    }
    return tokens;
  }

  /** Token ids of one text; `</s>` is appended unless `addSpecialTokens` is false or the ids already end with it. */
  encode(text: string, options?: EncodeOptions): number[] {
    const opts = knownKeys('options', options, ENCODE_KEYS);
    const addSpecialTokens = readBoolean(opts, 'addSpecialTokens', true);
    checkText(text, 'text');
    const ids = this.encodeWithoutSpecial(text);
    return addSpecialTokens ? this.addEos(ids) : ids;
  }

  /**
   * Encodes several texts, with optional truncation and right padding (pad id, attention mask 0),
   * like calling the HF tokenizer on a list.
   */
  encodeBatch(texts: readonly string[], options?: EncodeBatchOptions): BatchEncoding {
    const opts = this.readBatchOptions(options);
    if (!Array.isArray(texts)) throw invalidParameterError('texts', 'array of strings', texts);
    texts.forEach((text, i) => checkText(text, `texts[${i}]`));
    const rows = texts.map((text) => {
      let ids = this.encodeWithoutSpecial(text);
      if (opts.truncation) ids = truncate(ids, opts.maxLength as number, opts.addSpecialTokens ? 1 : 0);
      return opts.addSpecialTokens ? this.addEos(ids) : ids;
    });
    const target = paddedLength(rows, opts);
    const inputIds = rows.map((ids) => (ids.length < target ? [...ids, ...new Array<number>(target - ids.length).fill(this.padTokenId)] : ids));
    const attentionMask = rows.map((ids) => {
      const mask = new Array<number>(Math.max(target, ids.length)).fill(0);
      return mask.fill(1, 0, ids.length);
    });
    return { inputIds, attentionMask };
  }

  /**
   * Labels for training: texts encoded with `</s>`, right-padded to the longest row, padding set to
   * -100 so the loss ignores it; rows longer than `maxLength` are truncated (keeping `</s>`).
   */
  encodeTargets(texts: readonly string[], options?: EncodeTargetsOptions): TargetEncoding {
    const opts = knownKeys('options', options, TARGET_KEYS);
    const batchOptions: EncodeBatchOptions = { padding: 'longest' };
    if (opts.maxLength !== undefined) batchOptions.maxLength = opts.maxLength as number;
    const { inputIds, attentionMask } = this.encodeBatch(texts, batchOptions);
    return { labels: inputIds.map((ids, r) => ids.map((id, i) => (attentionMask[r][i] === 1 ? id : IGNORE_INDEX))) };
  }

  /**
   * Text of a list of ids, as the slow tokenizer's `decode`. Ids outside `[0, vocabSize)` (for
   * example the model's vocabulary-padding rows) throw, naming the position, the id and the range.
   */
  decode(ids: TokenIds, options?: DecodeOptions): string {
    const opts = knownKeys('options', options, DECODE_KEYS);
    const skip = readBoolean(opts, 'skipSpecialTokens', false);
    const cleanUp = readBoolean(opts, 'cleanUpTokenizationSpaces', this.spec.cleanUpTokenizationSpaces);
    return this.decodeChecked(this.checkIds(ids, 'ids'), skip, cleanUp);
  }

  /** {@link T5Tokenizer.decode} for each row. */
  batchDecode(sequences: readonly TokenIds[], options?: DecodeOptions): string[] {
    const opts = knownKeys('options', options, DECODE_KEYS);
    const skip = readBoolean(opts, 'skipSpecialTokens', false);
    const cleanUp = readBoolean(opts, 'cleanUpTokenizationSpaces', this.spec.cleanUpTokenizationSpaces);
    if (!Array.isArray(sequences)) throw invalidParameterError('sequences', 'array of id arrays', sequences);
    return sequences.map((ids, r) => this.decodeChecked(this.checkIds(ids, `sequences[${r}]`), skip, cleanUp));
  }

  private requireId(token: string, name: string): number {
    const id = this.tokenIds.get(token);
    if (id === undefined) throw new Error(`Invalid tokenizer config: ${name} ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  }

  private checkAddedTokens(addedTokens: Record<string, unknown>, file: string): void {
    for (const [content, id] of Object.entries(addedTokens)) {
      const token = this.addedByContent.get(content);
      if (token === undefined || token.id !== id) {
        throw new Error(
          `${file} gives ${JSON.stringify(content)} the id ${JSON.stringify(id)}, but tokenizer.json has ` +
            (token === undefined ? 'no such added token' : `id ${token.id}`),
        );
      }
    }
  }

  private readBatchOptions(options: unknown) {
    const opts = knownKeys('options', options, BATCH_KEYS);
    const addSpecialTokens = readBoolean(opts, 'addSpecialTokens', true);
    const padding: PaddingStrategy = opts.padding === undefined || opts.padding === false ? false : oneOf('padding', opts.padding, PADDING_VALUES);
    let maxLength = optional(opts.maxLength, undefined, (v) => integerInRange('maxLength', v, 1, MAX_LENGTH_LIMIT));
    const truncation = readBoolean(opts, 'truncation', maxLength !== undefined);
    const padToMultipleOf = optional(opts.padToMultipleOf, undefined, (v) => integerInRange('padToMultipleOf', v, 1, MAX_LENGTH_LIMIT));
    if (maxLength === undefined && (truncation || padding === 'max_length')) maxLength = this.spec.modelMaxLength;
    if (maxLength === undefined && (truncation || padding === 'max_length')) {
      throw new ArgumentError(`Expected maxLength with ${truncation ? 'truncation: true' : "padding: 'max_length'"} (the tokenizer config sets no model_max_length)`, { argument: 'maxLength' });
    }
    if (padToMultipleOf !== undefined && padding === false) {
      throw new ArgumentError("Expected padding 'longest' or 'max_length' with padToMultipleOf but received false", { argument: 'padding' });
    }
    return { addSpecialTokens, padding, maxLength, truncation, padToMultipleOf };
  }

  private encodeWithoutSpecial(text: string): number[] {
    const ids: number[] = [];
    for (const chunk of this.splitOnAddedTokens(text)) {
      if (chunk.added !== undefined) {
        ids.push(chunk.added.id);
      } else {
        for (const token of this.model.encode(this.normalizer.normalize(chunk.text))) ids.push(token.id);
      }
    }
    return ids;
  }

  /** `_add_eos_if_not_present`. */
  private addEos(ids: number[]): number[] {
    if (ids.length > 0 && ids[ids.length - 1] === this.eosTokenId) return ids;
    ids.push(this.eosTokenId);
    return ids;
  }

  /**
   * `tokens_trie.split` followed by the AddedToken lstrip/rstrip/single_word handling of
   * `PreTrainedTokenizer.tokenize`; empty chunks are dropped.
   */
  private splitOnAddedTokens(text: string): Chunk[] {
    const parts: Chunk[] = [];
    let last = 0;
    for (let i = 0; i < text.length; ) {
      const candidates = this.addedByFirstChar.get(text[i]);
      const match = candidates?.find((t) => text.startsWith(t.content, i));
      if (match === undefined) {
        i++;
        continue;
      }
      if (i > last) parts.push({ text: text.slice(last, i), added: undefined });
      parts.push({ text: match.content, added: match });
      i += match.content.length;
      last = i;
    }
    if (last < text.length) parts.push({ text: text.slice(last), added: undefined });
    parts.forEach((part, i) => {
      const token = part.added;
      if (token === undefined) return;
      const left = parts[i - 1];
      const right = parts[i + 1];
      if (token.rstrip && right !== undefined && right.text.length > 0) right.text = pythonLstrip(right.text);
      if (token.lstrip && left !== undefined && left.text.length > 0) left.text = pythonRstrip(left.text);
      if (token.singleWord && left !== undefined && left.text.length > 0 && !left.text.endsWith(' ')) {
        left.text += part.text;
        part.text = '';
      } else if (token.singleWord && right !== undefined && right.text.length > 0 && !right.text.startsWith(' ')) {
        part.text += right.text;
        right.text = '';
      }
    });
    return parts
      .filter((part) => part.text.length > 0)
      .map((part) => ({ text: part.text, added: this.addedByContent.get(part.text) }));
  }

  private checkIds(ids: TokenIds, name: string): number[] {
    if (!Array.isArray(ids) && !(ArrayBuffer.isView(ids) && !(ids instanceof DataView) && typeof (ids as Int32Array)[0] !== 'bigint')) {
      throw invalidParameterError(name, 'array of token ids', ids);
    }
    const max = this.vocabSize - 1;
    return Array.from(ids as ArrayLike<number>, (id, i) => integerInRange(`${name}[${i}]`, id, 0, max));
  }

  /** `PreTrainedTokenizer._decode` (spaces_between_special_tokens=True). */
  private decodeChecked(ids: number[], skipSpecialTokens: boolean, cleanUp: boolean): string {
    const subTexts: string[] = [];
    let current: string[] = [];
    for (const id of ids) {
      if (skipSpecialTokens && this.specialIds.has(id)) continue;
      const token = this.spec.pieces[id].piece;
      if (!this.legacyAddedTokens.has(token)) {
        current.push(token);
        continue;
      }
      if (current.length > 0) {
        const text = this.tokensToString(current);
        if (text.length > 0) subTexts.push(text);
        current = [];
      }
      subTexts.push(token);
    }
    if (current.length > 0) subTexts.push(this.tokensToString(current));
    const text = subTexts.join(' ');
    return cleanUp ? cleanUpTokenization(text) : text;
  }

  /** `T5Tokenizer.convert_tokens_to_string`: special tokens verbatim, the rest through SentencePiece. */
  private tokensToString(tokens: string[]): string {
    const pieces = tokens.slice();
    if (this.spec.addPrefixSpace && pieces[0].startsWith(SPACE_SYMBOL)) pieces[0] = pieces[0].slice(1);
    let out = '';
    let pending: string[] = [];
    let prevIsSpecial = false;
    for (const token of pieces) {
      if (this.specialTokens.has(token)) {
        if (!prevIsSpecial) out += ' ';
        out += this.decodePieces(pending) + token;
        prevIsSpecial = true;
        pending = [];
      } else {
        pending.push(token);
        prevIsSpecial = false;
      }
    }
    out += this.decodePieces(pending);
    return pythonStrip(out);
  }

  /** SentencePiece `DecodePieces`: drops control pieces, strips the dummy-prefix "▁", maps "▁" to spaces. */
  private decodePieces(pieces: string[]): string {
    const { addDummyPrefix, removeExtraWhitespaces } = this.spec.normalizer;
    let text = '';
    let bosWsSeen = false;
    let isBosWs = true;
    for (const piece of pieces) {
      if (bosWsSeen || text.length > 0) isBosWs = false;
      bosWsSeen = false;
      const id = this.tokenIds.get(piece);
      const isPiece = id !== undefined && id < this.spec.pieceCount;
      if (!isPiece || id === this.unkTokenId) {
        text += piece === this.spec.pieces[this.unkTokenId].piece ? UNK_SURFACE : piece;
      } else if (!this.spec.pieces[id].normal) {
        continue;
      } else {
        let surface = piece;
        if (isBosWs && (addDummyPrefix || removeExtraWhitespaces) && surface.startsWith(SPACE_SYMBOL)) {
          surface = surface.slice(1);
          bosWsSeen = !removeExtraWhitespaces;
        }
        text += surface.split(SPACE_SYMBOL).join(' ');
      }
    }
    return text;
  }
}

/** Matches an unpaired UTF-16 surrogate (paired ones are single code points under the `u` flag). */
const LONE_SURROGATE = /\p{Cs}/u;

/** Text must be a string that UTF-8 can encode (Python's sp_model.encode raises on lone surrogates). */
function checkText(text: unknown, name: string): asserts text is string {
  if (typeof text !== 'string') throw invalidParameterError(name, 'string', text);
  if (LONE_SURROGATE.test(text)) throw invalidParameterError(name, 'string without unpaired surrogates', text);
}

function readBoolean(opts: Record<string, unknown>, key: string, fallback: boolean): boolean {
  return optional(opts[key], fallback, (v) => boolean(key, v));
}

function asConfig(value: unknown, file: string): TokenizerConfig {
  if (!isPlainObject(value)) throw new ConfigError(`${file} must hold a JSON object`, { file });
  return value;
}

/**
 * HF `truncate_sequences` (right side) for one sequence: room is left for `numSpecial` tokens.
 * HF logs an error and returns the ids unchanged when they cannot be cut far enough; this throws.
 */
function truncate(ids: number[], maxLength: number, numSpecial: number): number[] {
  const remove = ids.length + numSpecial - maxLength;
  if (remove <= 0) return ids;
  if (ids.length <= remove) {
    throw new ArgumentError(`Expected maxLength of at least ${numSpecial + 1} to truncate with special tokens but received ${maxLength}`, { argument: 'maxLength' });
  }
  return ids.slice(0, ids.length - remove);
}

function paddedLength(rows: number[][], opts: { padding: PaddingStrategy; maxLength: number | undefined; padToMultipleOf: number | undefined }): number {
  if (opts.padding === false) return 0;
  let length = opts.padding === 'longest' ? Math.max(0, ...rows.map((r) => r.length)) : (opts.maxLength as number);
  const multiple = opts.padToMultipleOf;
  if (multiple !== undefined && length % multiple !== 0) length = (Math.floor(length / multiple) + 1) * multiple;
  return length;
}
