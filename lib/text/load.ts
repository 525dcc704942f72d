/**
 * Picks and loads the tokenizer of a Hugging Face model directory: `tokenizer_config.json`'s `tokenizer_class` when
 * it names one, else the files present — a `tokenizer.json` with a Unigram model is T5's, one with a BPE model or
 * `vocab.json` + `merges.txt` is byte-level BPE (GPT-2 / OPT).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, isPlainObject, nonEmptyString } from '../is.js';
import { ConfigError, FileError } from '../errors.js';
import { readOptionalJsonFile } from '../io/json.js';
import { ByteLevelBpeTokenizer } from './bpe-tokenizer.js';
import type { Tokenizer, TokenizerKind } from './encoding.js';
import { T5Tokenizer } from './tokenizer.js';

/** The `tokenizer_class` values of tokenizer_config.json this library reads, and the tokenizer each gets. */
export const TOKENIZER_CLASSES: Readonly<Record<string, TokenizerKind>> = Object.freeze({
  T5Tokenizer: 't5',
  T5TokenizerFast: 't5',
  GPT2Tokenizer: 'byte-level-bpe',
  GPT2TokenizerFast: 'byte-level-bpe',
});

/** How each kind of tokenizer is named in messages. */
export const TOKENIZER_KIND_NAMES: Readonly<Record<TokenizerKind, string>> = Object.freeze({
  t5: 'T5 (SentencePiece unigram)',
  'byte-level-bpe': 'byte-level BPE (GPT-2 / OPT)',
});

const exists = (file: string) => stat(file).then((s) => s.isFile(), () => false);

/**
 * Which tokenizer a model directory holds, from `tokenizer_class` or, without one, from its files.
 * @throws FileError for a missing directory or one with no tokenizer files; ConfigError for a `tokenizer_class` or a
 *   tokenizer.json model this library does not implement.
 */
export async function detectTokenizerKind(modelDir: string): Promise<TokenizerKind> {
  nonEmptyString('modelDir', modelDir);
  const info = await stat(modelDir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new FileError(`Cannot load a tokenizer: ${JSON.stringify(modelDir)} ${info === undefined ? 'does not exist' : 'is not a directory'}; pass the model directory`, { path: modelDir });
  }
  const file = (name: string) => path.join(modelDir, name);
  const config = await readOptionalJsonFile(file('tokenizer_config.json'), 'tokenizer file');
  const tokenizerClass = isPlainObject(config) ? config.tokenizer_class : undefined;
  if (tokenizerClass !== undefined && tokenizerClass !== null) {
    const kind = typeof tokenizerClass === 'string' ? TOKENIZER_CLASSES[tokenizerClass] : undefined;
    if (kind === undefined) {
      throw new ConfigError(
        `Unsupported tokenizer_class ${describe(tokenizerClass)} in ${file('tokenizer_config.json')}: supported are ${Object.keys(TOKENIZER_CLASSES).join(', ')}`,
        { file: file('tokenizer_config.json') },
      );
    }
    return kind;
  }
  const tokenizerJson = await readOptionalJsonFile(file('tokenizer.json'), 'tokenizer file');
  if (tokenizerJson !== undefined) {
    const model = isPlainObject(tokenizerJson) ? tokenizerJson.model : undefined;
    const type = isPlainObject(model) ? model.type : undefined;
    if (type === 'Unigram') return 't5';
    if (type === 'BPE') return 'byte-level-bpe';
    throw new ConfigError(
      `Unsupported tokenizer model ${describe(type)} in ${file('tokenizer.json')} (model.type): supported are Unigram (T5) and BPE (byte-level, GPT-2 / OPT)`,
      { file: file('tokenizer.json') },
    );
  }
  if (await exists(file('vocab.json'))) return 'byte-level-bpe';
  if (await exists(file('spiece.model'))) {
    throw new FileError(
      `Cannot load the T5 tokenizer of ${modelDir}: it has spiece.model but no tokenizer.json, which this library reads; write it with ` +
        `python -c "from transformers import AutoTokenizer; AutoTokenizer.from_pretrained('${modelDir}').save_pretrained('${modelDir}')"`,
      { path: file('tokenizer.json') },
    );
  }
  throw new FileError(
    `Cannot load a tokenizer from ${modelDir}: it has none of tokenizer_config.json (with tokenizer_class), tokenizer.json, ` +
      'vocab.json + merges.txt; copy the tokenizer files of the model\'s Hugging Face snapshot into it',
    { path: file('tokenizer.json') },
  );
}

/**
 * Loads the tokenizer of a Hugging Face model directory ({@link detectTokenizerKind} decides which):
 * {@link T5Tokenizer} or {@link ByteLevelBpeTokenizer}.
 * @throws FileError / ConfigError that name the file and the fix.
 */
export async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  const kind = await detectTokenizerKind(modelDir);
  return kind === 't5' ? T5Tokenizer.fromPretrained(modelDir) : ByteLevelBpeTokenizer.fromPretrained(modelDir);
}
