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
import { integerInRange, invalidParameterError, isPlainObject, knownKeys, nonEmptyString } from '../is.js';
import { ConfigError, FileError } from '../errors.js';
import { readOptionalJsonFile } from '../io/json.js';
import { AddedTokenMatcher } from './added-tokens.js';
import {
  checkIds,
  checkText,
  decodeTokens,
  encodeRows,
  encodeTargetRows,
  readBatchOptions,
  readBoolean,
  type BatchEncoding,
  type DecodeOptions,
  type EncodeBatchOptions,
  type EncodeOptions,
  type EncodeTargetsOptions,
  type PaddingSide,
  type TargetEncoding,
  type TokenIds,
  type Tokenizer,
} from './encoding.js';
import { SentencePieceNormalizer } from './normalizer.js';
import { pythonStrip } from './pystring.js';
import { readTokenizerSpec, type TokenizerConfig, type TokenizerSpec } from './tokenizer-config.js';
import { UnigramModel } from './unigram.js';

export { IGNORE_INDEX, shiftRight } from './labels.js';
export type { TokenizerConfig } from './tokenizer-config.js';
export type {
  BatchEncoding,
  DecodeOptions,
  EncodeBatchOptions,
  EncodeOptions,
  EncodeTargetsOptions,
  PaddingSide,
  PaddingStrategy,
  TargetEncoding,
  TokenIds,
  Tokenizer,
} from './encoding.js';

const SPACE_SYMBOL = '\u2581';
const UNK_SURFACE = ' \u2047 ';
const ENCODE_KEYS = ['addSpecialTokens'] as const;
const DECODE_KEYS = ['skipSpecialTokens', 'cleanUpTokenizationSpaces'] as const;
const utf8Decoder = new TextDecoder();

/**
 * HF slow `T5Tokenizer` (legacy) in TypeScript; build it with {@link T5Tokenizer.fromPretrained} or
 * {@link T5Tokenizer.fromJSON}. Pads on the right.
 */
export class T5Tokenizer implements Tokenizer {
  private readonly spec: TokenizerSpec;
  private readonly normalizer: SentencePieceNormalizer;
  private readonly model: UnigramModel;
  private readonly tokenIds = new Map<string, number>();
  private readonly added: AddedTokenMatcher;
  private readonly specialTokens: Set<string>;
  private readonly specialIds: Set<number>;
  private readonly legacyAddedTokens: Set<string>;
  /** Id of `</s>`. */
  readonly eosTokenId: number;
  /** Id of `<pad>` (also T5's decoder start token). */
  readonly padTokenId: number;
  /** Id of `<unk>`. */
  readonly unkTokenId: number;
  /** Always `'t5'`. */
  readonly kind = 't5' as const;
  /** T5 has no beginning-of-sequence token. */
  readonly bosTokenId: undefined = undefined;
  /** Always `'right'`: the T5 encoder reads padded prompts with their mask, so the side never mattered. */
  readonly paddingSide: PaddingSide = 'right';

  private constructor(spec: TokenizerSpec) {
    this.spec = spec;
    this.normalizer = new SentencePieceNormalizer(spec.normalizer);
    this.model = new UnigramModel(spec.pieces, spec.unkId);
    spec.pieces.forEach((p, id) => {
      if (!this.tokenIds.has(p.piece)) this.tokenIds.set(p.piece, id);
    });
    for (const token of spec.addedTokens) this.tokenIds.set(token.content, token.id);
    this.added = new AddedTokenMatcher(spec.addedTokens);
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
    for (const chunk of this.added.split(text)) {
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
    return encodeRows(texts, readBatchOptions(options, this), {
      encodeWithoutSpecial: (text) => this.encodeWithoutSpecial(text),
      addSpecial: (ids) => this.addEos(ids),
      numSpecial: 1,
      padTokenId: this.padTokenId,
    });
  }

  /**
   * Labels for training: texts encoded with `</s>`, right-padded to the longest row, padding set to
   * -100 so the loss ignores it; rows longer than `maxLength` are truncated (keeping `</s>`).
   */
  encodeTargets(texts: readonly string[], options?: EncodeTargetsOptions): TargetEncoding {
    return encodeTargetRows((t, o) => this.encodeBatch(t, o), texts, options);
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
      const token = this.added.get(content);
      if (token === undefined || token.id !== id) {
        throw new Error(
          `${file} gives ${JSON.stringify(content)} the id ${JSON.stringify(id)}, but tokenizer.json has ` +
            (token === undefined ? 'no such added token' : `id ${token.id}`),
        );
      }
    }
  }

  private encodeWithoutSpecial(text: string): number[] {
    const ids: number[] = [];
    for (const chunk of this.added.split(text)) {
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

  private checkIds(ids: TokenIds, name: string): number[] {
    return checkIds(ids, name, this.vocabSize);
  }

  /** `PreTrainedTokenizer._decode` (spaces_between_special_tokens=True). */
  private decodeChecked(ids: number[], skipSpecialTokens: boolean, cleanUp: boolean): string {
    const kept = skipSpecialTokens ? ids.filter((id) => !this.specialIds.has(id)) : ids;
    return decodeTokens(kept.map((id) => this.spec.pieces[id].piece), this.legacyAddedTokens, (tokens) => this.tokensToString(tokens), cleanUp);
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

function asConfig(value: unknown, file: string): TokenizerConfig {
  if (!isPlainObject(value)) throw new ConfigError(`${file} must hold a JSON object`, { file });
  return value;
}
