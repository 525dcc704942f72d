/**
 * Reads a Hugging Face `tokenizer.json` (plus the optional `tokenizer_config.json` /
 * `special_tokens_map.json` values) into the settings of a SentencePiece-unigram T5 tokenizer.
 *
 * The components a T5 `tokenizer.json` declares map onto SentencePiece's NormalizerSpec:
 * `Precompiled` is the charsmap; `Replace(" {2,}" → "▁" or " ")` (with `Strip` right, or a
 * `WhitespaceSplit` pre-tokenizer) is `remove_extra_whitespaces`; `Metaspace` with
 * `prepend_scheme` "always"/"first" (or `add_prefix_space`) is `add_dummy_prefix`, and its
 * replacement "▁" is `escape_whitespaces`. Anything else is refused with an error naming it,
 * rather than silently tokenizing differently.
 */
import { isPlainObject } from '../is.js';
import { PrecompiledCharsmap } from './charsmap.js';
import type { NormalizerSpec } from './normalizer.js';
import type { UnigramPiece } from './unigram.js';

/** An added token (`added_tokens` of tokenizer.json), matched in the raw text before normalization. */
export interface AddedToken {
  id: number;
  content: string;
  /** Eats the whitespace on its left (Python `rstrip()` of the text before it). */
  lstrip: boolean;
  /** Eats the whitespace on its right. */
  rstrip: boolean;
  singleWord: boolean;
  special: boolean;
}

/** Everything the tokenizer needs, after validation. */
export interface TokenizerSpec {
  normalizer: NormalizerSpec;
  /** Unigram vocabulary, indexed by id; covers every id of the tokenizer. */
  pieces: UnigramPiece[];
  unkId: number;
  addedTokens: AddedToken[];
  padToken: string;
  eosToken: string;
  unkToken: string;
  additionalSpecialTokens: string[];
  /** Number of SentencePiece pieces (ids at or above it are added tokens only), HF's `vocab_size`. */
  pieceCount: number;
  cleanUpTokenizationSpaces: boolean;
  /** T5Tokenizer `add_prefix_space`: decoding drops the "▁" of the first token. */
  addPrefixSpace: boolean;
  /** `model_max_length`, or undefined when it is absent or HF's "very large" placeholder. */
  modelMaxLength: number | undefined;
}

/** The subset of tokenizer_config.json / special_tokens_map.json the tokenizer reads. */
export interface TokenizerConfig {
  eos_token?: unknown;
  pad_token?: unknown;
  unk_token?: unknown;
  additional_special_tokens?: unknown;
  clean_up_tokenization_spaces?: unknown;
  legacy?: unknown;
  add_prefix_space?: unknown;
  added_tokens_decoder?: unknown;
  model_max_length?: unknown;
  [key: string]: unknown;
}

const DUPLICATE_SPACES = ' {2,}';

function fail(message: string): never {
  throw new Error(`Invalid tokenizer.json: ${message}`);
}

function field(obj: Record<string, unknown>, key: string, where: string): unknown {
  if (!(key in obj)) fail(`${where} has no "${key}"`);
  return obj[key];
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(value)) fail(`${where} must be an object`);
  return value;
}

function componentList(value: unknown, where: string): Record<string, unknown>[] {
  if (value === null || value === undefined) return [];
  const obj = asObject(value, where);
  if (obj.type === 'Sequence') {
    const key = where === 'normalizer' ? 'normalizers' : 'pretokenizers';
    const list = field(obj, key, where);
    if (!Array.isArray(list)) fail(`${where}.${key} must be an array`);
    return list.map((item, i) => asObject(item, `${where}.${key}[${i}]`));
  }
  return [obj];
}

function readNormalizers(value: unknown): { charsmap: PrecompiledCharsmap | undefined; collapse: boolean } {
  let charsmap: PrecompiledCharsmap | undefined;
  let collapse = false;
  for (const component of componentList(value, 'normalizer')) {
    switch (component.type) {
      case 'Precompiled': {
        const blob = component.precompiled_charsmap;
        if (typeof blob !== 'string') fail('Precompiled normalizer has no precompiled_charsmap string');
        charsmap = PrecompiledCharsmap.fromBase64(blob);
        break;
      }
      case 'Strip':
        if (component.strip_left === true) fail('Strip normalizer with strip_left is not a SentencePiece setting');
        break;
      case 'Replace': {
        const pattern = isPlainObject(component.pattern) ? component.pattern.Regex : undefined;
        // Older converters wrote " {2,}" → " ", newer ones " {2,}" → "▁": both stand for remove_extra_whitespaces.
        if (pattern !== DUPLICATE_SPACES || (component.content !== '\u2581' && component.content !== ' ')) {
          fail(`Replace normalizer ${JSON.stringify(component.pattern)} → ${JSON.stringify(component.content)} is not supported (only " {2,}" → "▁" or " ")`);
        }
        collapse = true;
        break;
      }
      default:
        fail(`unsupported normalizer type ${JSON.stringify(component.type)} (supported: Precompiled, Strip, Replace)`);
    }
  }
  return { charsmap, collapse };
}

function readPreTokenizer(value: unknown): { addDummyPrefix: boolean; collapse: boolean } {
  let addDummyPrefix: boolean | undefined;
  let collapse = false;
  for (const component of componentList(value, 'pre_tokenizer')) {
    if (component.type === 'WhitespaceSplit') {
      collapse = true;
    } else if (component.type === 'Metaspace') {
      if (component.replacement !== '\u2581') fail(`Metaspace replacement must be "▁", got ${JSON.stringify(component.replacement)}`);
      const scheme = component.prepend_scheme;
      addDummyPrefix = scheme === undefined ? component.add_prefix_space !== false : scheme !== 'never';
    } else {
      fail(`unsupported pre_tokenizer type ${JSON.stringify(component.type)} (supported: Metaspace, WhitespaceSplit)`);
    }
  }
  if (addDummyPrefix === undefined) fail('pre_tokenizer must contain a Metaspace pre-tokenizer');
  return { addDummyPrefix, collapse };
}

function readAddedTokens(value: unknown): AddedToken[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail('added_tokens must be an array');
  return value.map((item, i) => {
    const t = asObject(item, `added_tokens[${i}]`);
    if (!Number.isInteger(t.id) || typeof t.content !== 'string' || t.content.length === 0) {
      fail(`added_tokens[${i}] needs an integer id and a non-empty content`);
    }
    return {
      id: t.id as number,
      content: t.content,
      lstrip: t.lstrip === true,
      rstrip: t.rstrip === true,
      singleWord: t.single_word === true,
      special: t.special === true,
    };
  });
}

function readVocab(model: Record<string, unknown>): { vocab: [string, number][]; unkId: number } {
  if (model.type !== 'Unigram') fail(`model.type must be "Unigram", got ${JSON.stringify(model.type)}`);
  if (model.byte_fallback === true) fail('Unigram byte_fallback is not supported');
  const vocab = field(model, 'vocab', 'model');
  if (!Array.isArray(vocab) || vocab.length === 0) fail('model.vocab must be a non-empty array');
  vocab.forEach((entry, i) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      fail(`model.vocab[${i}] must be a [piece, score] pair`);
    }
  });
  const unkId = model.unk_id;
  if (!Number.isInteger(unkId) || (unkId as number) < 0 || (unkId as number) >= vocab.length) {
    fail(`model.unk_id must be an integer id below ${vocab.length}, got ${JSON.stringify(unkId)}`);
  }
  return { vocab: vocab as [string, number][], unkId: unkId as number };
}

const EXTRA_ID = /^<extra_id_\d+>$/;

/**
 * The slow tokenizer takes its AddedToken flags from tokenizer_config.json's `added_tokens_decoder`
 * when present; older configs have none, and T5Tokenizer's `__init__` then creates every
 * `<extra_id_N>` with lstrip=rstrip=True (tokenizer.json files converted by older versions say False).
 */
function applySlowAddedTokenFlags(tokens: AddedToken[], decoder: unknown): AddedToken[] {
  if (decoder === undefined || decoder === null) {
    return tokens.map((t) => (EXTRA_ID.test(t.content) ? { ...t, lstrip: true, rstrip: true, singleWord: false, special: true } : t));
  }
  if (!isPlainObject(decoder)) throw new Error('Invalid tokenizer config: added_tokens_decoder must be an object');
  return tokens.map((t) => {
    const entry = decoder[String(t.id)];
    if (entry === undefined) return t;
    if (!isPlainObject(entry) || entry.content !== t.content) {
      throw new Error(
        `Invalid tokenizer config: added_tokens_decoder["${t.id}"] is ${JSON.stringify(isPlainObject(entry) ? entry.content : entry)}, ` +
          `but tokenizer.json has ${JSON.stringify(t.content)} at id ${t.id}`,
      );
    }
    return { ...t, lstrip: entry.lstrip === true, rstrip: entry.rstrip === true, singleWord: entry.single_word === true, special: entry.special === true };
  });
}

/** A special-token entry is either a string or an AddedToken-like `{ content }` object. */
function tokenContent(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (isPlainObject(value) && typeof value.content === 'string') return value.content;
  throw new Error(`Invalid tokenizer config: ${name} must be a string or an object with "content"`);
}

function lastTemplateToken(postProcessor: unknown): string | undefined {
  if (!isPlainObject(postProcessor) || !Array.isArray(postProcessor.single)) return undefined;
  const last: unknown = postProcessor.single[postProcessor.single.length - 1];
  if (!isPlainObject(last) || !isPlainObject(last.SpecialToken)) return undefined;
  return typeof last.SpecialToken.id === 'string' ? last.SpecialToken.id : undefined;
}

function resolveSpecialTokens(json: Record<string, unknown>, config: TokenizerConfig, added: AddedToken[]) {
  const padToken = tokenContent(config.pad_token, 'pad_token') ?? '<pad>';
  const eosToken = tokenContent(config.eos_token, 'eos_token') ?? lastTemplateToken(json.post_processor) ?? '</s>';
  const unkToken = tokenContent(config.unk_token, 'unk_token') ?? '<unk>';
  let additional: string[];
  if (config.additional_special_tokens !== undefined) {
    if (!Array.isArray(config.additional_special_tokens)) {
      throw new Error('Invalid tokenizer config: additional_special_tokens must be an array');
    }
    additional = config.additional_special_tokens.map((t, i) => tokenContent(t, `additional_special_tokens[${i}]`) as string);
  } else {
    const core = new Set([padToken, eosToken, unkToken]);
    additional = added.filter((t) => t.special && !core.has(t.content)).map((t) => t.content);
  }
  return { padToken, eosToken, unkToken, additionalSpecialTokens: additional };
}

/** Validates `tokenizer.json` (and the optional config values) and returns the tokenizer settings. */
export function readTokenizerSpec(tokenizerJson: unknown, config: TokenizerConfig = {}): TokenizerSpec {
  const json = asObject(tokenizerJson, 'the top level');
  if (config.legacy === false) {
    throw new Error('tokenizer_config.json sets "legacy": false; only the legacy T5Tokenizer behaviour (legacy=True) is implemented');
  }
  const { vocab, unkId } = readVocab(asObject(field(json, 'model', 'the top level'), 'model'));
  const normalizers = readNormalizers(json.normalizer);
  const preTokenizer = readPreTokenizer(json.pre_tokenizer);
  const addedTokens = applySlowAddedTokenFlags(readAddedTokens(json.added_tokens), config.added_tokens_decoder);
  const special = resolveSpecialTokens(json, config, addedTokens);

  const addedByContent = new Set(addedTokens.map((t) => t.content));
  const pieces: UnigramPiece[] = vocab.map(([piece, score], id) => ({
    piece,
    score: Math.fround(score),
    normal: id !== unkId && !addedByContent.has(piece),
  }));
  for (const t of addedTokens) {
    if (t.id >= pieces.length) pieces[t.id] = { piece: t.content, score: 0, normal: false };
    else if (pieces[t.id].piece !== t.content) {
      fail(`added token ${JSON.stringify(t.content)} has id ${t.id}, but the vocabulary has ${JSON.stringify(pieces[t.id].piece)} there`);
    }
  }
  for (let id = 0; id < pieces.length; id++) {
    if (pieces[id] === undefined) fail(`no token has id ${id}: added token ids must follow the vocabulary without gaps`);
  }
  const additional = new Set(special.additionalSpecialTokens);
  let pieceCount = 0;
  pieces.forEach((p, id) => {
    if (!additional.has(p.piece)) pieceCount = id + 1;
  });

  const maxLength = config.model_max_length;
  return {
    normalizer: {
      charsmap: normalizers.charsmap,
      addDummyPrefix: preTokenizer.addDummyPrefix,
      removeExtraWhitespaces: normalizers.collapse || preTokenizer.collapse,
      escapeWhitespaces: true,
    },
    pieces,
    unkId,
    addedTokens,
    ...special,
    pieceCount,
    cleanUpTokenizationSpaces: config.clean_up_tokenization_spaces !== false,
    addPrefixSpace: config.add_prefix_space !== false,
    modelMaxLength: typeof maxLength === 'number' && Number.isSafeInteger(maxLength) && maxLength > 0 ? maxLength : undefined,
  };
}
