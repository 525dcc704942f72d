/**
 * ByteLevelBpeTokenizer: Hugging Face's slow `GPT2Tokenizer` (transformers 4.44) in TypeScript — the tokenizer of
 * OPT and so of `Salesforce/blip2-opt-*`.
 *
 * Encoding, as `PreTrainedTokenizer.tokenize` + `GPT2Tokenizer` do it:
 * 1. with `add_prefix_space`, a space is put in front of the text;
 * 2. the text is cut at added tokens (`</s>`, `<pad>`, ...), which become their own ids;
 * 3. every other chunk is split with GPT-2's pattern, each piece's UTF-8 bytes written with the byte table and
 *    merged by BPE; a symbol missing from the vocabulary becomes the unk id;
 * 4. with `add_bos_token`, the BOS id is put in front (nothing is appended).
 *
 * Decoding follows `PreTrainedTokenizer._decode` and `GPT2Tokenizer.convert_tokens_to_string`: the tokens' bytes are
 * decoded as UTF-8 with `errors="replace"` (U+FFFD for each invalid sequence), then clean-up as the config says.
 */
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { integerInRange, invalidParameterError, isPlainObject, knownKeys, nonEmptyString } from '../is.js';
import { ArgumentError, ConfigError, FileError } from '../errors.js';
import { readOptionalJsonFile, readTextFile } from '../io/json.js';
import { AddedTokenMatcher } from './added-tokens.js';
import { byteDecode, byteEncode, BytePairEncoding, preTokenize } from './byte-level.js';
import { parseMerges, readBpeTokenizerJson, readVocab, resolveBpeSpec, type BpeSpec } from './bpe-config.js';
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
import type { TokenizerConfig } from './tokenizer-config.js';

export type { BpeSpec } from './bpe-config.js';

const ENCODE_KEYS = ['addSpecialTokens'] as const;
const DECODE_KEYS = ['skipSpecialTokens', 'cleanUpTokenizationSpaces'] as const;

/** The files of a byte-level BPE tokenizer in memory, for {@link ByteLevelBpeTokenizer.fromFiles}. */
export interface BpeFiles {
  /** Parsed `vocab.json` (token → id); with `merges`, or leave both out and give `tokenizerJson`. */
  vocab?: unknown;
  /** The text of `merges.txt`. */
  merges?: string;
  /** Parsed `tokenizer.json` with a byte-level BPE model, read when `vocab` and `merges` are absent. */
  tokenizerJson?: unknown;
  /** tokenizer_config.json's values, with special_tokens_map.json's over them. */
  config?: TokenizerConfig;
  /** Parsed `added_tokens.json` (token → id). */
  addedTokens?: Record<string, unknown>;
}

/**
 * HF slow `GPT2Tokenizer` in TypeScript (byte-level BPE: GPT-2, OPT); build it with
 * {@link ByteLevelBpeTokenizer.fromPretrained} or {@link ByteLevelBpeTokenizer.fromFiles}.
 */
export class ByteLevelBpeTokenizer implements Tokenizer {
  private readonly spec: BpeSpec;
  private readonly bpe: BytePairEncoding;
  private readonly added: AddedTokenMatcher;
  private readonly vocabIds = new Map<string, number>();
  private readonly addedIds = new Map<string, number>();
  private readonly specialIds: Set<number>;
  private readonly legacyAddedTokens: Set<string>;
  private readonly utf8: { decode(input: Uint8Array): string };
  /** Always `'byte-level-bpe'`. */
  readonly kind = 'byte-level-bpe' as const;
  /** Id of the BOS token (`</s>` for OPT). */
  readonly bosTokenId: number;
  /** Id of the EOS token. */
  readonly eosTokenId: number;
  /** Id of the unknown token (OPT: `</s>`). */
  readonly unkTokenId: number;
  /** Id of the padding token. */
  readonly padTokenId: number;
  /** tokenizer_config.json's `padding_side` (`left` for OPT). */
  readonly paddingSide: PaddingSide;
  /** Whether {@link ByteLevelBpeTokenizer.encode} puts the BOS in front (`add_bos_token`). */
  readonly addBosToken: boolean;

  private constructor(spec: BpeSpec, configFile: string) {
    this.spec = spec;
    this.bpe = new BytePairEncoding(spec.merges);
    this.added = new AddedTokenMatcher(spec.addedTokens);
    spec.tokens.forEach((token, id) => {
      if (!this.vocabIds.has(token)) this.vocabIds.set(token, id);
    });
    for (const t of spec.addedTokens) this.addedIds.set(t.content, t.id);
    if (spec.padToken === undefined) {
      throw new ConfigError(`${configFile} sets no pad_token; batches need one (OPT's is "<pad>"): add "pad_token" to it`, { file: configFile });
    }
    this.bosTokenId = this.tokenToId(spec.bosToken);
    this.eosTokenId = this.tokenToId(spec.eosToken);
    this.unkTokenId = this.tokenToId(spec.unkToken);
    this.padTokenId = this.tokenToId(spec.padToken);
    this.paddingSide = spec.paddingSide;
    this.addBosToken = spec.addBosToken;
    const special = [spec.bosToken, spec.eosToken, spec.unkToken, spec.padToken, ...spec.additionalSpecialTokens];
    this.specialIds = new Set(special.map((t) => this.tokenToId(t)));
    // _decode's legacy_added_tokens: added tokens that are not special, and additional special tokens past vocab.json
    this.legacyAddedTokens = new Set(
      spec.addedTokens
        .filter((t) => !special.includes(t.content) || (spec.additionalSpecialTokens.includes(t.content) && t.id >= spec.baseVocabSize))
        .map((t) => t.content),
    );
    this.utf8 = new TextDecoder('utf-8', { fatal: spec.errors === 'strict' });
  }

  /**
   * Loads a byte-level BPE tokenizer from a Hugging Face model directory: `vocab.json` + `merges.txt` (the slow
   * tokenizer's files), else the BPE model of `tokenizer.json`; with `tokenizer_config.json`,
   * `special_tokens_map.json` and `added_tokens.json` when present.
   * @throws FileError naming the files looked for when neither form is there; ConfigError for wrong content.
   */
  static async fromPretrained(modelDir: string): Promise<ByteLevelBpeTokenizer> {
    nonEmptyString('modelDir', modelDir);
    const file = (name: string) => path.join(modelDir, name);
    const readJson = (name: string) => readOptionalJsonFile(file(name), 'tokenizer file');
    const config = { ...asObject(await readJson('tokenizer_config.json'), file('tokenizer_config.json')), ...asObject(await readJson('special_tokens_map.json'), file('special_tokens_map.json')) };
    const addedTokens = await readJson('added_tokens.json');
    const files: BpeFiles = { config };
    if (addedTokens !== undefined) files.addedTokens = asObject(addedTokens, file('added_tokens.json'));
    const vocab = await readJson('vocab.json');
    if (vocab !== undefined) {
      files.vocab = vocab;
      files.merges = await readTextFile(file('merges.txt'), 'tokenizer file', { missingHint: 'vocab.json needs the merges.txt saved beside it' });
    } else {
      files.tokenizerJson = await readJson('tokenizer.json');
      if (files.tokenizerJson === undefined) {
        const dirInfo = await stat(modelDir).catch(() => undefined);
        const where = dirInfo?.isDirectory() ? `the directory ${modelDir}` : `${modelDir}, which is not a directory`;
        throw new FileError(
          `Cannot load the byte-level BPE tokenizer: found neither vocab.json + merges.txt nor tokenizer.json in ${where} ` +
            '(save them with AutoTokenizer.from_pretrained(...).save_pretrained(dir))',
          { path: file('vocab.json') },
        );
      }
    }
    return ByteLevelBpeTokenizer.fromFiles(files, { vocab: file('vocab.json'), merges: file('merges.txt'), tokenizerJson: file('tokenizer.json'), config: file('tokenizer_config.json') });
  }

  /**
   * Builds the tokenizer from files already read: `vocab` + `merges`, or `tokenizerJson`. `names` gives the file
   * names used in messages.
   * @throws ConfigError naming the file and key of a wrong value.
   */
  static fromFiles(files: BpeFiles, names: { vocab?: string; merges?: string; tokenizerJson?: string; config?: string } = {}): ByteLevelBpeTokenizer {
    if (!isPlainObject(files as unknown)) throw invalidParameterError('files', 'object with vocab and merges, or tokenizerJson', files);
    const sources = { vocab: names.vocab ?? 'vocab.json', merges: names.merges ?? 'merges.txt', config: names.config ?? 'tokenizer_config.json' };
    let vocab: Map<string, number>;
    let merges: [string, string][];
    if (files.vocab !== undefined || files.merges !== undefined) {
      if (typeof files.merges !== 'string') throw invalidParameterError('files.merges', 'string (the text of merges.txt)', files.merges);
      vocab = readVocab(files.vocab, sources.vocab);
      merges = parseMerges(files.merges);
    } else if (files.tokenizerJson !== undefined) {
      const source = names.tokenizerJson ?? 'tokenizer.json';
      ({ vocab, merges } = readBpeTokenizerJson(files.tokenizerJson, source));
      sources.vocab = source;
      sources.merges = source;
    } else {
      throw invalidParameterError('files', 'object with vocab and merges, or tokenizerJson', files);
    }
    const config = files.config ?? {};
    if (!isPlainObject(config)) throw invalidParameterError('files.config', 'plain object', config);
    return new ByteLevelBpeTokenizer(resolveBpeSpec(vocab, merges, config, sources, files.addedTokens), sources.config);
  }

  /** Number of ids the tokenizer can decode (`len(tokenizer)`: vocabulary plus added tokens). */
  get vocabSize(): number {
    return this.spec.tokens.length;
  }

  /** `model_max_length` from tokenizer_config.json, or undefined when unset or unbounded. */
  get modelMaxLength(): number | undefined {
    return this.spec.modelMaxLength;
  }

  /** The token string of an id (`convert_ids_to_tokens`); throws for ids outside `[0, vocabSize)`. */
  idToToken(id: number): string {
    integerInRange('id', id, 0, this.vocabSize - 1);
    return this.spec.tokens[id]!;
  }

  /** The id of a token string (`convert_tokens_to_ids`): added tokens first, then the vocabulary, else the unk id. */
  tokenToId(token: string): number {
    if (typeof token !== 'string') throw invalidParameterError('token', 'string', token);
    return this.addedIds.get(token) ?? this.vocabIds.get(token) ?? this.vocabIds.get(this.spec.unkToken) ?? this.addedIds.get(this.spec.unkToken)!;
  }

  /** `convert_ids_to_tokens`, optionally dropping special ids; validates every id. */
  convertIdsToTokens(ids: TokenIds, options?: { skipSpecialTokens?: boolean }): string[] {
    const skip = readBoolean(knownKeys('options', options, ['skipSpecialTokens']), 'skipSpecialTokens', false);
    return checkIds(ids, 'ids', this.vocabSize).filter((id) => !(skip && this.specialIds.has(id))).map((id) => this.spec.tokens[id]!);
  }

  /** The tokens of a text as the slow `tokenize()` gives them: added tokens whole, byte-level BPE symbols otherwise. */
  tokenize(text: string): string[] {
    checkText(text, 'text');
    const tokens: string[] = [];
    for (const chunk of this.added.split(this.spec.addPrefixSpace ? ` ${text}` : text)) {
      if (chunk.added !== undefined) tokens.push(chunk.added.content);
      else for (const piece of preTokenize(chunk.text)) tokens.push(...this.bpe.encode(byteEncode(piece)));
    }
    return tokens;
  }

  /** Token ids of one text; with `add_bos_token` the BOS id comes first unless `addSpecialTokens` is false. */
  encode(text: string, options?: EncodeOptions): number[] {
    const addSpecialTokens = readBoolean(knownKeys('options', options, ENCODE_KEYS), 'addSpecialTokens', true);
    const ids = this.tokenize(text).map((t) => this.tokenToId(t));
    return addSpecialTokens ? this.addSpecial(ids) : ids;
  }

  /**
   * Encodes several texts, with optional truncation (at the end, the BOS kept) and padding on the tokenizer's
   * padding side (left for OPT, as HF pads decoder-only prompts) or `options.paddingSide`.
   */
  encodeBatch(texts: readonly string[], options?: EncodeBatchOptions): BatchEncoding {
    return encodeRows(texts, readBatchOptions(options, this), {
      encodeWithoutSpecial: (text) => this.encode(text, { addSpecialTokens: false }),
      addSpecial: (ids) => this.addSpecial(ids),
      numSpecial: this.addBosToken ? 1 : 0,
      padTokenId: this.padTokenId,
    });
  }

  /**
   * Labels: each text encoded as {@link ByteLevelBpeTokenizer.encode} does (BOS first with `add_bos_token`, no EOS
   * appended), right-padded to the longest row whatever the padding side, -100 on the padding; rows longer than
   * `maxLength` are cut at the end.
   */
  encodeTargets(texts: readonly string[], options?: EncodeTargetsOptions): TargetEncoding {
    return encodeTargetRows((t, o) => this.encodeBatch(t, o), texts, options);
  }

  /**
   * Text of a list of ids, as the slow tokenizer's `decode`: invalid UTF-8 becomes U+FFFD (`errors="replace"`).
   * Ids outside `[0, vocabSize)` (the model's vocabulary-padding rows) throw, naming the position and the range.
   */
  decode(ids: TokenIds, options?: DecodeOptions): string {
    const { skip, cleanUp } = this.readDecodeOptions(options);
    return this.decodeChecked(checkIds(ids, 'ids', this.vocabSize), skip, cleanUp);
  }

  /** {@link ByteLevelBpeTokenizer.decode} for each row. */
  batchDecode(sequences: readonly TokenIds[], options?: DecodeOptions): string[] {
    const { skip, cleanUp } = this.readDecodeOptions(options);
    if (!Array.isArray(sequences)) throw invalidParameterError('sequences', 'array of id arrays', sequences);
    return sequences.map((ids, r) => this.decodeChecked(checkIds(ids, `sequences[${r}]`, this.vocabSize), skip, cleanUp));
  }

  private readDecodeOptions(options: unknown): { skip: boolean; cleanUp: boolean } {
    const opts = knownKeys('options', options, DECODE_KEYS);
    return {
      skip: readBoolean(opts, 'skipSpecialTokens', false),
      cleanUp: readBoolean(opts, 'cleanUpTokenizationSpaces', this.spec.cleanUpTokenizationSpaces),
    };
  }

  /** `build_inputs_with_special_tokens`: the BOS in front with `add_bos_token`. */
  private addSpecial(ids: number[]): number[] {
    return this.addBosToken ? [this.bosTokenId, ...ids] : ids;
  }

  /** `PreTrainedTokenizer._decode` (spaces_between_special_tokens=True) over `convert_tokens_to_string`. */
  private decodeChecked(ids: number[], skipSpecialTokens: boolean, cleanUp: boolean): string {
    const kept = skipSpecialTokens ? ids.filter((id) => !this.specialIds.has(id)) : ids;
    return decodeTokens(kept.map((id) => this.spec.tokens[id]!), this.legacyAddedTokens, (tokens) => this.tokensToString(tokens), cleanUp);
  }

  /** `GPT2Tokenizer.convert_tokens_to_string`: the tokens' bytes, decoded as UTF-8 with the config's `errors`. */
  private tokensToString(tokens: string[]): string {
    const bytes: number[] = [];
    for (const token of tokens) byteDecode(token, bytes);
    try {
      return this.utf8.decode(Uint8Array.from(bytes));
    } catch (err) {
      throw new ArgumentError(`Expected ids whose bytes are valid UTF-8 (the tokenizer config sets errors "strict") but received ${JSON.stringify(tokens)}`, { argument: 'ids', cause: err });
    }
  }
}

function asObject(value: unknown, file: string): TokenizerConfig {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError(`${file} must hold a JSON object`, { file });
  return value;
}
