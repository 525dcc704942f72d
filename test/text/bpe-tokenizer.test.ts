import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteLevelBpeTokenizer } from '../../lib/text/bpe-tokenizer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtureDir = path.resolve(here, '../fixtures/blip2-opt-tiny');
const modelDir = path.join(fixtureDir, 'model');

interface Case {
  text: string;
  ids: number[];
  decoded: string;
  decoded_skip_special: string;
}
interface GenerationCase {
  sequences: number[][];
  texts: string[];
}

const cases = (JSON.parse(readFileSync(path.join(fixtureDir, 'tokenizer-cases.json'), 'utf8')) as { cases: Case[] }).cases;
const generation = (JSON.parse(readFileSync(path.join(fixtureDir, 'generation.json'), 'utf8')) as { cases: Record<string, GenerationCase> }).cases;
const readModelJson = (name: string) => JSON.parse(readFileSync(path.join(modelDir, name), 'utf8')) as Record<string, unknown>;
let tok: ByteLevelBpeTokenizer;

beforeAll(async () => {
  tok = await ByteLevelBpeTokenizer.fromPretrained(modelDir);
});

/** Runs every fixture case through `t`, returning the mismatches (empty when all match). */
function mismatches(t: ByteLevelBpeTokenizer): string[] {
  const out: string[] = [];
  for (const c of cases) {
    const ids = t.encode(c.text);
    if (JSON.stringify(ids) !== JSON.stringify(c.ids)) out.push(`${JSON.stringify(c.text)}: ids ${JSON.stringify(ids)} != ${JSON.stringify(c.ids)}`);
    const decoded = t.decode(c.ids);
    if (decoded !== c.decoded) out.push(`${JSON.stringify(c.text)}: decoded ${JSON.stringify(decoded)}`);
    const skipped = t.decode(c.ids, { skipSpecialTokens: true });
    if (skipped !== c.decoded_skip_special) out.push(`${JSON.stringify(c.text)}: decoded_skip_special ${JSON.stringify(skipped)}`);
  }
  return out;
}

describe('ByteLevelBpeTokenizer parity with the slow GPT2Tokenizer (blip2-opt-tiny tokenizer-cases.json)', () => {
  it('encodes and decodes (with and without special tokens) every case as transformers 4.44', () => {
    const bad = mismatches(tok);
    console.log(`byte-level BPE: ${cases.length - new Set(bad.map((b) => b.split(':')[0])).size}/${cases.length} cases identical (ids, decoded, decoded_skip_special)`);
    expect(bad).toEqual([]);
    expect(cases.length).toBe(24);
  });

  it('reads the tokenizer settings of tokenizer_config.json', () => {
    expect([tok.kind, tok.vocabSize, tok.bosTokenId, tok.eosTokenId, tok.unkTokenId, tok.padTokenId]).toEqual(['byte-level-bpe', 644, 2, 2, 2, 1]);
    expect([tok.paddingSide, tok.addBosToken, tok.modelMaxLength]).toEqual(['left', true, undefined]);
  });

  it('decodes every generated sequence of generation.json to its text (U+FFFD for bytes that are not UTF-8)', () => {
    let rows = 0;
    for (const [name, c] of Object.entries(generation)) {
      expect(tok.batchDecode(c.sequences, { skipSpecialTokens: true }), name).toEqual(c.texts);
      rows += c.sequences.length;
    }
    expect(rows).toBe(32);
    expect(generation['main/greedy']!.texts[1]).toBe('\ufffd'.repeat(12));
  });

  it('gives the same ids from an equivalent tokenizer.json (as real OPT snapshots ship) as from vocab.json + merges.txt', () => {
    const vocab = readModelJson('vocab.json');
    const mergeLines = readFileSync(path.join(modelDir, 'merges.txt'), 'utf8').split('\n').slice(1).filter((l) => l.length > 0);
    // The structure transformers' GPT2Converter writes: BPE model, ByteLevel pre-tokenizer and decoder, the added
    // tokens of the vocabulary (here all four: <s> among them, which the slow tokenizer does not match whole) and a
    // BOS template.
    const special = ['<s>', '<pad>', '</s>', '<unk>'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }));
    const tokenizerJson = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: special,
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }] },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: mergeLines },
    };
    const config = { ...readModelJson('tokenizer_config.json'), ...readModelJson('special_tokens_map.json') };
    const fromJson = ByteLevelBpeTokenizer.fromFiles({ tokenizerJson, config });
    expect(mismatches(fromJson)).toEqual([]);
    // merges as pairs, the newer serialisation
    const pairs = { ...tokenizerJson, model: { ...tokenizerJson.model, merges: mergeLines.map((l) => l.split(' ')) } };
    expect(mismatches(ByteLevelBpeTokenizer.fromFiles({ tokenizerJson: pairs, config }))).toEqual([]);
  });

  it('loads tokenizer.json from a directory without vocab.json and merges.txt', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bpe-json-'));
    try {
      const vocab = readModelJson('vocab.json');
      const merges = readFileSync(path.join(modelDir, 'merges.txt'), 'utf8').split('\n').slice(1).filter((l) => l.length > 0);
      writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges }, pre_tokenizer: { type: 'ByteLevel', use_regex: true }, decoder: { type: 'ByteLevel' } }));
      writeFileSync(path.join(dir, 'tokenizer_config.json'), readFileSync(path.join(modelDir, 'tokenizer_config.json')));
      const loaded = await ByteLevelBpeTokenizer.fromPretrained(dir);
      expect(mismatches(loaded)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('byte table and merges, worked by hand', () => {
  // A vocabulary of the 256 byte characters (ids 0..255 in byte order) plus merged symbols from 256 on.
  const byteChars = (() => {
    const chars: string[] = [];
    let next = 0;
    for (let b = 0; b < 256; b++) {
      const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      chars.push(String.fromCharCode(printable ? b : 256 + next++));
    }
    return chars;
  })();
  const make = (merges: string[], extra: string[] = [], config: Record<string, unknown> = {}) => {
    const vocab: Record<string, number> = {};
    byteChars.forEach((c, b) => (vocab[c] = b));
    extra.forEach((t, i) => (vocab[t] = 256 + i));
    return ByteLevelBpeTokenizer.fromFiles({
      vocab,
      merges: `#version: 0.2\n${merges.map((m) => `${m}\n`).join('')}`,
      config: { bos_token: '!', eos_token: '!', unk_token: '!', pad_token: '"', ...config },
    });
  };

  it('maps bytes to the characters of bytes_to_unicode: printable ones to themselves, the rest from U+0100 on', () => {
    const t = make([]);
    // space 0x20 is the 33rd non-printable byte (0x00..0x1f come first): U+0100 + 32 = "Ġ"; newline 0x0a: U+010A "Ċ";
    // tab 0x09: "ĉ"; 0x7f: U+0121 "ġ"; U+00AD (soft hyphen) is UTF-8 c2 ad: "Â" (printable) and U+0143 "Ń", the
    // last of the 68.
    expect(t.tokenize(' \n\t\x7f\u00ad')).toEqual(['Ġ', 'Ċ', 'ĉ', 'ġ', 'Â', 'Ń']);
    // "é" is UTF-8 c3 a9: both printable Latin-1 bytes, "Ã" and "©"; "A" stays "A".
    expect(t.tokenize('Aé')).toEqual(['A', 'Ã', '©']);
    expect(t.encode('A', { addSpecialTokens: false })).toEqual([65]);
    expect(t.decode([0xc3, 0xa9])).toBe('é');
  });

  it('decodes bytes that are not UTF-8 to one U+FFFD per invalid sequence (errors="replace")', () => {
    const t = make([]);
    // c3 alone (truncated), then a lone continuation byte a9, then "A"
    expect(t.decode([0xc3, 0x41])).toBe('\ufffdA');
    expect(t.decode([0xa9, 0xa9])).toBe('\ufffd\ufffd');
    // the first three bytes of a four-byte sequence (f0 9f 90) are one maximal subpart: one U+FFFD
    expect(t.decode([0xf0, 0x9f, 0x90])).toBe('\ufffd');
    const strict = make([], [], { errors: 'strict' });
    expect(() => strict.decode([0xc3])).toThrow('Expected ids whose bytes are valid UTF-8 (the tokenizer config sets errors "strict")');
  });

  it('merges the lowest-ranked pair first, everywhere, left to right', () => {
    // merges: rank 0 "a b", rank 1 "b c", rank 2 "ab c"; "abc": (a,b) has rank 0 → "ab c" → rank 2 → "abc"
    const t = make(['a b', 'b c', 'ab c'], ['ab', 'bc', 'abc']);
    expect(t.tokenize('abc')).toEqual(['abc']);
    // "bcab": (b,c) rank 1 and (a,b) rank 0 → "bc" "ab" after both passes → no ranked pair (bc,ab)
    expect(t.tokenize('bcab')).toEqual(['bc', 'ab']);
    expect(t.encode('bcab', { addSpecialTokens: false })).toEqual([257, 256]);
    // "aaa" with "a a": non-overlapping from the left → "aa" "a"
    const u = make(['a a'], ['aa']);
    expect(u.tokenize('aaa')).toEqual(['aa', 'a']);
    expect(u.tokenize('aaaa')).toEqual(['aa', 'aa']);
  });

  it('ranks by position in merges.txt, skips the #version line, needs the final newline and gives a repeated pair its later rank', () => {
    // "b c" ranked before "a b": "abc" → "a" "bc"
    expect(make(['b c', 'a b'], ['ab', 'bc']).tokenize('abc')).toEqual(['a', 'bc']);
    // no header line: the first merge is read as the header and dropped
    const vocab: Record<string, number> = {};
    byteChars.forEach((c, b) => (vocab[c] = b));
    vocab.ab = 256;
    const config = { bos_token: '!', eos_token: '!', unk_token: '!', pad_token: '"' };
    expect(ByteLevelBpeTokenizer.fromFiles({ vocab, merges: 'a b\n', config }).tokenize('ab')).toEqual(['a', 'b']);
    // without a final newline the last line is dropped, as GPT2Tokenizer's split("\n")[1:-1]
    expect(ByteLevelBpeTokenizer.fromFiles({ vocab, merges: '#version: 0.2\na b', config }).tokenize('ab')).toEqual(['a', 'b']);
    // "a b" listed at ranks 0 and 2: rank 2 counts, so "b c" (rank 1) merges first in "abc"
    expect(make(['a b', 'b c', 'a b'], ['ab', 'bc']).tokenize('abc')).toEqual(['a', 'bc']);
  });

  it('maps a merged symbol missing from the vocabulary to the unk id', () => {
    const t = make(['a b']);
    expect(t.tokenize('ab')).toEqual(['ab']);
    expect(t.encode('ab', { addSpecialTokens: false })).toEqual([t.unkTokenId]);
  });

  it('splits with GPT-2\'s pattern, whose \\s is Unicode White_Space as in Python\'s regex module', () => {
    const t = make([]);
    // contractions, letters with a leading space, numbers, punctuation runs, spaces before a word kept on it
    expect(t.tokenize("it's  ok??")).toEqual(['i', 't', "'", 's', 'Ġ', 'Ġ', 'o', 'k', '?', '?']);
    // regex.findall(pat, " \ufeffb") == [" \ufeff", "b"]: U+FEFF is not White_Space, so it joins the punctuation
    // branch with its space (JavaScript's \s would give [" ", "\ufeff", "b"]).
    const bom = make(['Ġ ï', 'Ġï »', 'Ġï» ¿'], ['Ġï', 'Ġï»', 'Ġï»¿']);
    expect(bom.tokenize(' \ufeffb')).toEqual(['Ġï»¿', 'b']);
    // regex.findall(pat, "a \x85b") == ["a", " ", "\x85", "b"]: U+0085 is White_Space, so the space does not join it
    // (JavaScript's \s leaves U+0085 out and would give " \x85" as one piece, merged here into "ĠÂ").
    const nel = make(['Ġ Â'], ['ĠÂ']);
    expect(nel.tokenize('a \x85b')).toEqual(['a', 'Ġ', 'Â', 'ħ', 'b']);
  });

  it('matches added tokens whole and honours add_prefix_space and add_bos_token', () => {
    const t = make([], ['<sep>'], { added_tokens_decoder: { 256: { content: '<sep>', special: false } }, add_bos_token: true, add_prefix_space: true });
    expect(t.tokenize('a<sep>b')).toEqual(['Ġ', 'a', '<sep>', 'b']);
    // BOS "!" (33), "Ġ" (byte 0x20 at id 32), "a" (97), "<sep>" (256), "b" (98)
    expect(t.encode('a<sep>b')).toEqual([33, 32, 97, 256, 98]);
    // a non-special added token is its own sub-text, joined with spaces, as the slow _decode does
    expect(t.decode(t.encode('a<sep>b', { addSpecialTokens: false }))).toBe(' a <sep> b');
  });
});

describe('batches', () => {
  it('left-pads by default for OPT, with the mask, and right-pads on request', () => {
    const batch = tok.encodeBatch(['a photo of', 'a'], { padding: 'longest' });
    expect(batch.inputIds).toEqual([[2, 68, 441, 428], [1, 1, 2, 68]]);
    expect(batch.attentionMask).toEqual([[1, 1, 1, 1], [0, 0, 1, 1]]);
    const right = tok.encodeBatch(['a photo of', 'a'], { padding: 'longest', paddingSide: 'right' });
    expect(right.inputIds).toEqual([[2, 68, 441, 428], [2, 68, 1, 1]]);
    expect(right.attentionMask).toEqual([[1, 1, 1, 1], [1, 1, 0, 0]]);
  });

  it('truncates at the end keeping the BOS, and pads to max_length', () => {
    expect(tok.encodeBatch(['a photo of'], { maxLength: 3 }).inputIds).toEqual([[2, 68, 441]]);
    expect(tok.encodeBatch(['a'], { padding: 'max_length', maxLength: 4 }).inputIds).toEqual([[1, 1, 2, 68]]);
    expect(() => tok.encodeBatch(['a photo of'], { maxLength: 1 })).toThrow('Expected maxLength of at least 2 to truncate with special tokens but received 1');
    expect(() => tok.encodeBatch(['a'], { padding: 'max_length' })).toThrow("Expected maxLength with padding: 'max_length' (the tokenizer config sets no model_max_length)");
    expect(() => tok.encodeBatch(['a'], { paddingSide: 'top' as 'left' })).toThrow('paddingSide');
  });

  it('builds right-padded labels with -100 on the padding whatever the padding side', () => {
    expect(tok.encodeTargets(['a photo of', 'a']).labels).toEqual([[2, 68, 441, 428], [2, 68, -100, -100]]);
    expect(tok.encodeTargets(['a photo of'], { maxLength: 2 }).labels).toEqual([[2, 68]]);
  });
});

describe('errors', () => {
  it('rejects ids outside the vocabulary, naming the position and the range', () => {
    expect(() => tok.decode([2, 644])).toThrow('Expected integer between 0 and 643 for ids[1] but received 644');
    expect(() => tok.batchDecode([[2], [-1]])).toThrow('sequences[1][0]');
  });

  it('rejects text that UTF-8 cannot encode', () => {
    expect(() => tok.encode('x\ud800y')).toThrow('Expected string without unpaired surrogates for text');
  });

  it('names the missing files of a directory with neither form', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bpe-empty-'));
    try {
      await expect(ByteLevelBpeTokenizer.fromPretrained(dir)).rejects.toThrow(`found neither vocab.json + merges.txt nor tokenizer.json in the directory ${dir}`);
      writeFileSync(path.join(dir, 'vocab.json'), '{"a": 0}');
      await expect(ByteLevelBpeTokenizer.fromPretrained(dir)).rejects.toThrow(`Cannot read tokenizer file ${path.join(dir, 'merges.txt')}: no such file; vocab.json needs the merges.txt saved beside it`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file and key of wrong settings', () => {
    const vocab = { '!': 0, '"': 1, a: 2 };
    const files = (config: Record<string, unknown>) => ({ vocab, merges: '#v\n', config: { bos_token: '!', eos_token: '!', unk_token: '!', pad_token: '"', ...config } });
    expect(() => ByteLevelBpeTokenizer.fromFiles(files({ padding_side: 'top' }))).toThrow('Expected one of left, right for padding_side in tokenizer_config.json but received "top"');
    expect(() => ByteLevelBpeTokenizer.fromFiles(files({ errors: 'ignore' }))).toThrow('Expected one of replace, strict for errors in tokenizer_config.json');
    expect(() => ByteLevelBpeTokenizer.fromFiles(files({ pad_token: '<pad>' }))).toThrow('The special token "<pad>" of tokenizer_config.json is not in vocab.json');
    expect(() => ByteLevelBpeTokenizer.fromFiles(files({ pad_token: undefined }))).toThrow('tokenizer_config.json sets no pad_token');
    expect(() => ByteLevelBpeTokenizer.fromFiles(files({ added_tokens_decoder: { 1: { content: 'a' } } }))).toThrow('gives the added token "a" the id 1, but vocab.json has it at 2');
    expect(() => ByteLevelBpeTokenizer.fromFiles({ vocab: { '!': 0, '"': 2 }, merges: '', config: files({}).config })).toThrow('No token has the id 1');
    expect(() => ByteLevelBpeTokenizer.fromFiles({ tokenizerJson: { model: { type: 'Unigram' } } })).toThrow('Unsupported tokenizer in tokenizer.json: model.type "Unigram" (expected BPE)');
    expect(() => ByteLevelBpeTokenizer.fromFiles({ tokenizerJson: { model: { type: 'BPE', vocab, merges: [] }, pre_tokenizer: { type: 'Metaspace' } } })).toThrow('pre_tokenizer "Metaspace" (expected ByteLevel)');
  });
});
