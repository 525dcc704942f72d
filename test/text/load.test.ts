import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteLevelBpeTokenizer } from '../../lib/text/bpe-tokenizer.js';
import { detectTokenizerKind, loadTokenizer } from '../../lib/text/load.js';
import { T5Tokenizer } from '../../lib/text/tokenizer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const t5Dir = path.resolve(here, '../fixtures/blip2-tiny/model');
const optDir = path.resolve(here, '../fixtures/blip2-opt-tiny/model');
const dirs: string[] = [];

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tokenizer-load-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadTokenizer', () => {
  it('picks the tokenizer from tokenizer_class: T5Tokenizer for blip2-tiny, GPT2Tokenizer for blip2-opt-tiny', async () => {
    const t5 = await loadTokenizer(t5Dir);
    expect(t5).toBeInstanceOf(T5Tokenizer);
    expect([t5.kind, t5.paddingSide, t5.bosTokenId, t5.eosTokenId, t5.padTokenId]).toEqual(['t5', 'right', undefined, 1, 0]);
    const opt = await loadTokenizer(optDir);
    expect(opt).toBeInstanceOf(ByteLevelBpeTokenizer);
    expect([opt.kind, opt.paddingSide, opt.bosTokenId, opt.eosTokenId, opt.padTokenId]).toEqual(['byte-level-bpe', 'left', 2, 2, 1]);
    expect(opt.encode('a photo of')).toEqual([2, 68, 441, 428]);
  });

  it('without tokenizer_class, goes by the files: tokenizer.json Unigram → T5, BPE or vocab.json → byte-level BPE', async () => {
    const unigram = tempDir({});
    copyFileSync(path.join(t5Dir, 'tokenizer.json'), path.join(unigram, 'tokenizer.json'));
    expect(await detectTokenizerKind(unigram)).toBe('t5');
    expect((await loadTokenizer(unigram)).kind).toBe('t5');

    const bpeJson = tempDir({ 'tokenizer.json': JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] } }), 'tokenizer_config.json': '{}' });
    expect(await detectTokenizerKind(bpeJson)).toBe('byte-level-bpe');

    const vocabFiles = tempDir({ 'vocab.json': readFileSync(path.join(optDir, 'vocab.json'), 'utf8'), 'merges.txt': readFileSync(path.join(optDir, 'merges.txt'), 'utf8') });
    writeFileSync(path.join(vocabFiles, 'special_tokens_map.json'), JSON.stringify({ bos_token: '</s>', eos_token: '</s>', unk_token: '</s>', pad_token: '<pad>' }));
    expect(await detectTokenizerKind(vocabFiles)).toBe('byte-level-bpe');
    const loaded = await loadTokenizer(vocabFiles);
    // no tokenizer_config.json: GPT2Tokenizer's defaults, so no BOS and right padding
    expect([loaded.kind, loaded.paddingSide]).toEqual(['byte-level-bpe', 'right']);
    expect(loaded.encode('a photo of')).toEqual([68, 441, 428]);
  });

  it('names an unsupported tokenizer_class or tokenizer.json model and what is supported', async () => {
    const llama = tempDir({ 'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'LlamaTokenizer' }) });
    await expect(loadTokenizer(llama)).rejects.toThrow(
      `Unsupported tokenizer_class "LlamaTokenizer" of type string in ${path.join(llama, 'tokenizer_config.json')}: supported are T5Tokenizer, T5TokenizerFast, GPT2Tokenizer, GPT2TokenizerFast`,
    );
    const wordPiece = tempDir({ 'tokenizer.json': JSON.stringify({ model: { type: 'WordPiece' } }) });
    await expect(loadTokenizer(wordPiece)).rejects.toThrow(`Unsupported tokenizer model "WordPiece" of type string in ${path.join(wordPiece, 'tokenizer.json')} (model.type)`);
  });

  it('says how to write tokenizer.json when only spiece.model is there, and what it looked for when nothing is', async () => {
    const spiece = tempDir({ 'spiece.model': 'x' });
    await expect(loadTokenizer(spiece)).rejects.toThrow(`it has spiece.model but no tokenizer.json, which this library reads; write it with python -c "from transformers import AutoTokenizer;`);
    const empty = tempDir({});
    await expect(loadTokenizer(empty)).rejects.toThrow(`Cannot load a tokenizer from ${empty}: it has none of tokenizer_config.json (with tokenizer_class), tokenizer.json, vocab.json + merges.txt`);
    await expect(loadTokenizer(path.join(empty, 'missing'))).rejects.toThrow(`${JSON.stringify(path.join(empty, 'missing'))} does not exist; pass the model directory`);
    const vocabOnly = tempDir({ 'vocab.json': '{"a": 0}' });
    await expect(loadTokenizer(vocabOnly)).rejects.toThrow('merges.txt: no such file; vocab.json needs the merges.txt saved beside it');
  });
});
