/**
 * The settings of a byte-level BPE tokenizer (GPT-2, OPT), read as transformers 4.44's slow `GPT2Tokenizer` reads
 * them: the vocabulary from `vocab.json` and the merges from `merges.txt` — or both from the BPE model of a
 * `tokenizer.json` — and everything else from `tokenizer_config.json` / `special_tokens_map.json` /
 * `added_tokens.json`: the added tokens matched whole in the text, the special tokens, `add_bos_token`,
 * `add_prefix_space`, `padding_side`, `errors`, `clean_up_tokenization_spaces` and `model_max_length`.
 */
import { describe, isPlainObject } from '../is.js';
import { ConfigError } from '../errors.js';
import { isPythonWhitespace } from './pystring.js';
import type { PaddingSide } from './encoding.js';
import type { AddedToken, TokenizerConfig } from './tokenizer-config.js';

/** What a decoder does with bytes that are not valid UTF-8 (`errors` of tokenizer_config.json). */
export type DecodeErrors = 'replace' | 'strict';

/** Everything a {@link ByteLevelBpeTokenizer} needs, after validation. */
export interface BpeSpec {
  /** The token of each id, for every id below the vocabulary size (vocabulary and added tokens). */
  tokens: string[];
  /** Number of entries of the vocabulary file (`GPT2Tokenizer.vocab_size`). */
  baseVocabSize: number;
  /** The merges, lowest rank first. */
  merges: [string, string][];
  /** Tokens matched whole in the text (`added_tokens_decoder`, `added_tokens.json` and the special tokens). */
  addedTokens: AddedToken[];
  bosToken: string;
  eosToken: string;
  unkToken: string;
  padToken: string | undefined;
  additionalSpecialTokens: string[];
  addBosToken: boolean;
  addPrefixSpace: boolean;
  paddingSide: PaddingSide;
  errors: DecodeErrors;
  cleanUpTokenizationSpaces: boolean;
  /** `model_max_length`, or undefined when absent or HF's "very large" placeholder. */
  modelMaxLength: number | undefined;
}

/** Where the vocabulary and merges came from, for messages. */
export interface BpeSources {
  vocab: string;
  merges: string;
  config: string;
}

/**
 * `merges.txt` as `GPT2Tokenizer.__init__` reads it: `read().split("\n")[1:-1]` (the `#version` line and the
 * text after the last newline are dropped), each line split on whitespace; a line that does not give two symbols
 * is never a pair and is skipped.
 */
export function parseMerges(text: string): [string, string][] {
  const merges: [string, string][] = [];
  for (const line of text.split('\n').slice(1, -1)) {
    const parts = splitPythonWhitespace(line);
    if (parts.length === 2) merges.push([parts[0]!, parts[1]!]);
  }
  return merges;
}

/** Python `str.split()` with no argument. */
function splitPythonWhitespace(line: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (const c of line) {
    if (c.length === 1 && isPythonWhitespace(c.charCodeAt(0))) {
      if (current.length > 0) parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** Checks a parsed `vocab.json` (token → id) and returns it as a map. */
export function readVocab(json: unknown, source: string): Map<string, number> {
  if (!isPlainObject(json)) throw new ConfigError(`Expected a JSON object of token → id in ${source} but received ${describe(json)}`, { file: source });
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(json)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new ConfigError(`Expected a non-negative integer id for ${JSON.stringify(token)} in ${source} but received ${describe(id)}`, { file: source });
    }
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw new ConfigError(`${source} holds no tokens`, { file: source });
  return vocab;
}

/** A component's type as messages show it: the string quoted, anything else described. */
function typeName(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : describe(value);
}

function jsonFail(source: string, message: string): never {
  throw new ConfigError(`Unsupported tokenizer in ${source}: ${message}`, { file: source });
}

/** The parts of a byte-level `tokenizer.json` that are read, each checked against what the slow tokenizer does. */
function checkTokenizerJsonComponents(json: Record<string, unknown>, source: string): void {
  if (json.normalizer !== null && json.normalizer !== undefined) jsonFail(source, `normalizer ${typeName(isPlainObject(json.normalizer) ? json.normalizer.type : json.normalizer)} (a byte-level BPE tokenizer has none)`);
  const pre = json.pre_tokenizer;
  if (!isPlainObject(pre) || pre.type !== 'ByteLevel') jsonFail(source, `pre_tokenizer ${typeName(isPlainObject(pre) ? pre.type : pre)} (expected ByteLevel)`);
  if (pre.use_regex === false) jsonFail(source, 'ByteLevel pre_tokenizer with use_regex false (GPT-2 splits with its pattern)');
  const decoder = json.decoder;
  if (decoder !== null && decoder !== undefined && !(isPlainObject(decoder) && decoder.type === 'ByteLevel')) {
    jsonFail(source, `decoder ${typeName(isPlainObject(decoder) ? decoder.type : decoder)} (expected ByteLevel)`);
  }
}

/**
 * The vocabulary and merges of a byte-level BPE `tokenizer.json` (model `BPE` without dropout, affixes or byte
 * fallback; pre-tokenizer `ByteLevel`; no normalizer). Its added tokens and post-processor are not read: the slow
 * tokenizer takes those from tokenizer_config.json.
 */
export function readBpeTokenizerJson(json: unknown, source: string): { vocab: Map<string, number>; merges: [string, string][] } {
  if (!isPlainObject(json)) jsonFail(source, `expected a JSON object but received ${describe(json)}`);
  const model = json.model;
  if (!isPlainObject(model) || model.type !== 'BPE') jsonFail(source, `model.type ${typeName(isPlainObject(model) ? model.type : model)} (expected BPE)`);
  if (model.dropout !== null && model.dropout !== undefined) jsonFail(source, 'BPE dropout');
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[key] !== null && model[key] !== undefined && model[key] !== '') jsonFail(source, `BPE ${key} ${typeName(model[key])}`);
  }
  if (model.byte_fallback === true) jsonFail(source, 'BPE byte_fallback');
  checkTokenizerJsonComponents(json, source);
  const vocab = readVocab(model.vocab, `${source} (model.vocab)`);
  if (!Array.isArray(model.merges)) jsonFail(source, 'model.merges must be an array');
  const merges = model.merges.map((m: unknown, i: number): [string, string] => {
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length === 2) return [parts[0]!, parts[1]!];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      return [m[0], m[1]];
    }
    return jsonFail(source, `model.merges[${i}] is ${describe(m)}, not a pair "a b" or ["a", "b"]`);
  });
  return { vocab, merges };
}

/** A special-token entry: a string or an AddedToken-like `{ content, ... }` object. */
function tokenContent(value: unknown, key: string, source: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (isPlainObject(value) && typeof value.content === 'string') return value.content;
  throw new ConfigError(`Expected a string or an object with "content" for ${key} in ${source} but received ${describe(value)}`, { file: source });
}

function flag(entry: Record<string, unknown>, key: string): boolean {
  return entry[key] === true;
}

/** `added_tokens_decoder` ({ "id": { content, lstrip, rstrip, single_word, special } }) as added tokens. */
function readAddedTokensDecoder(value: unknown, source: string): AddedToken[] {
  if (value === undefined || value === null) return [];
  if (!isPlainObject(value)) throw new ConfigError(`Expected an object for added_tokens_decoder in ${source} but received ${describe(value)}`, { file: source });
  return Object.entries(value).map(([key, entry]) => {
    const id = Number(key);
    if (!/^\d+$/.test(key) || !Number.isSafeInteger(id) || !isPlainObject(entry) || typeof entry.content !== 'string' || entry.content.length === 0) {
      throw new ConfigError(`Expected added_tokens_decoder["${key}"] in ${source} to map an integer id to { content, ... } but received ${describe(entry)}`, { file: source });
    }
    return { id, content: entry.content, lstrip: flag(entry, 'lstrip'), rstrip: flag(entry, 'rstrip'), singleWord: flag(entry, 'single_word'), special: flag(entry, 'special') };
  });
}

function readChoice<T extends string>(config: TokenizerConfig, key: string, allowed: readonly T[], fallback: T, source: string): T {
  const value = config[key] ?? fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError(`Expected one of ${allowed.join(', ')} for ${key} in ${source} but received ${describe(value)}`, { file: source });
  }
  return value as T;
}

function readFlag(config: TokenizerConfig, key: string, fallback: boolean, source: string): boolean {
  const value = config[key] ?? fallback;
  if (typeof value !== 'boolean') throw new ConfigError(`Expected boolean for ${key} in ${source} but received ${describe(value)}`, { file: source });
  return value;
}

/** Fills the vocabulary's ids with the added tokens; every id below the size must name exactly one token. */
function buildTokens(vocab: Map<string, number>, added: AddedToken[], sources: BpeSources): string[] {
  const tokens: string[] = [];
  for (const [token, id] of vocab) {
    if (tokens[id] !== undefined) throw new ConfigError(`${sources.vocab} gives the id ${id} to both ${JSON.stringify(tokens[id])} and ${JSON.stringify(token)}`, { file: sources.vocab });
    tokens[id] = token;
  }
  for (const t of added) {
    const vocabId = vocab.get(t.content);
    if (vocabId !== undefined && vocabId !== t.id) {
      throw new ConfigError(`${sources.config} gives the added token ${JSON.stringify(t.content)} the id ${t.id}, but ${sources.vocab} has it at ${vocabId}`, { file: sources.config });
    }
    if (tokens[t.id] !== undefined && tokens[t.id] !== t.content) {
      throw new ConfigError(`${sources.config} gives the added token ${JSON.stringify(t.content)} the id ${t.id}, which ${sources.vocab} gives to ${JSON.stringify(tokens[t.id])}`, { file: sources.config });
    }
    tokens[t.id] = t.content;
  }
  for (let id = 0; id < tokens.length; id++) {
    if (tokens[id] === undefined) throw new ConfigError(`No token has the id ${id} in ${sources.vocab} or the added tokens of ${sources.config}: ids must run from 0 without gaps`, { file: sources.vocab });
  }
  return tokens;
}

/**
 * Combines the vocabulary, the merges and the tokenizer config (tokenizer_config.json with special_tokens_map.json
 * over it, and `added_tokens.json` when given) into a {@link BpeSpec}, with `GPT2Tokenizer`'s defaults
 * (`<|endoftext|>` for bos, eos and unk, no pad, no BOS added, right padding, `errors` "replace").
 * @throws ConfigError naming the file and key of a wrong value.
 */
export function resolveBpeSpec(
  vocab: Map<string, number>,
  merges: [string, string][],
  config: TokenizerConfig,
  sources: BpeSources,
  addedTokensJson?: Record<string, unknown>,
): BpeSpec {
  const source = sources.config;
  const bosToken = tokenContent(config.bos_token, 'bos_token', source) ?? '<|endoftext|>';
  const eosToken = tokenContent(config.eos_token, 'eos_token', source) ?? '<|endoftext|>';
  const unkToken = tokenContent(config.unk_token, 'unk_token', source) ?? '<|endoftext|>';
  const padToken = tokenContent(config.pad_token, 'pad_token', source);
  const extra = config.additional_special_tokens ?? [];
  if (!Array.isArray(extra)) throw new ConfigError(`Expected an array for additional_special_tokens in ${source} but received ${describe(extra)}`, { file: source });
  const additionalSpecialTokens = extra.map((t, i) => tokenContent(t, `additional_special_tokens[${i}]`, source) as string);

  const added = readAddedTokensDecoder(config.added_tokens_decoder, source);
  const known = new Set(added.map((t) => t.content));
  for (const [content, id] of Object.entries(addedTokensJson ?? {})) {
    if (known.has(content)) continue;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new ConfigError(`Expected an integer id for ${JSON.stringify(content)} in added_tokens.json but received ${describe(id)}`, { file: source });
    added.push({ id, content, lstrip: false, rstrip: false, singleWord: false, special: false });
    known.add(content);
  }
  // PreTrainedTokenizer.__init__ adds every special token that is not an added token yet, with the vocabulary's id.
  for (const content of [bosToken, eosToken, unkToken, padToken, ...additionalSpecialTokens]) {
    if (content === undefined || known.has(content)) continue;
    const id = vocab.get(content);
    if (id === undefined) {
      throw new ConfigError(`The special token ${JSON.stringify(content)} of ${source} is not in ${sources.vocab}; name a token of the vocabulary`, { file: source });
    }
    added.push({ id, content, lstrip: false, rstrip: false, singleWord: false, special: true });
    known.add(content);
  }
  const tokens = buildTokens(vocab, added, sources);
  const maxLength = config.model_max_length;
  return {
    tokens,
    baseVocabSize: vocab.size,
    merges,
    addedTokens: added,
    bosToken,
    eosToken,
    unkToken,
    padToken,
    additionalSpecialTokens,
    addBosToken: readFlag(config, 'add_bos_token', false, source),
    addPrefixSpace: readFlag(config, 'add_prefix_space', false, source),
    paddingSide: readChoice(config, 'padding_side', ['left', 'right'] as const, 'right', source),
    errors: readChoice(config, 'errors', ['replace', 'strict'] as const, 'replace', source),
    cleanUpTokenizationSpaces: config.clean_up_tokenization_spaces !== false,
    modelMaxLength: typeof maxLength === 'number' && Number.isSafeInteger(maxLength) && maxLength > 0 ? maxLength : undefined,
  };
}
