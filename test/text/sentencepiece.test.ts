import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PrecompiledCharsmap } from '../../lib/text/charsmap.js';
import { SentencePieceNormalizer } from '../../lib/text/normalizer.js';
import { cleanUpTokenization, pythonStrip } from '../../lib/text/pystring.js';
import { UnigramModel } from '../../lib/text/unigram.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tokenizerJson = JSON.parse(
  readFileSync(path.resolve(here, '../fixtures/blip2-tiny/model/tokenizer.json'), 'utf8'),
) as { normalizer: { normalizers: { type: string; precompiled_charsmap?: string }[] } };
const charsmapBase64 = tokenizerJson.normalizer.normalizers[0].precompiled_charsmap as string;
const charsmap = PrecompiledCharsmap.fromBase64(charsmapBase64);
const decoder = new TextDecoder();

function normalizer(overrides: Partial<ConstructorParameters<typeof SentencePieceNormalizer>[0]> = {}) {
  return new SentencePieceNormalizer({
    charsmap,
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
    ...overrides,
  });
}

describe('precompiled charsmap (nmt_nfkc of the fixture)', () => {
  it('applies NFKC rules by longest match', () => {
    const bytes = new TextEncoder().encode('ﬁ①');
    const fi = charsmap.longestMatch(bytes, 0, bytes.length);
    expect(fi?.length).toBe(3);
    expect(decoder.decode(fi?.replacement)).toBe('fi');
    const one = charsmap.longestMatch(bytes, 3, bytes.length);
    expect(one?.length).toBe(3);
    expect(decoder.decode(one?.replacement)).toBe('1');
    expect(charsmap.longestMatch(new TextEncoder().encode('a'), 0, 1)).toBe(undefined);
  });

  it('rejects a blob whose trie size does not fit', () => {
    expect(() => PrecompiledCharsmap.fromBytes(Uint8Array.of(1, 0))).toThrow(
      'Invalid precompiled charsmap: 2 bytes is too short for the 4-byte header',
    );
    expect(() => PrecompiledCharsmap.fromBytes(Uint8Array.of(64, 0, 0, 0, 1, 2, 3, 4))).toThrow(
      'Invalid precompiled charsmap: trie size 64 does not fit a blob of 8 bytes',
    );
  });
});

describe('SentencePiece normalizer', () => {
  const normalize = (n: SentencePieceNormalizer, text: string) => decoder.decode(n.normalize(text));

  it('adds the dummy prefix, drops leading/trailing spaces and collapses runs', () => {
    expect(normalize(normalizer(), '  Hello   World  ')).toBe('▁Hello▁World');
    expect(normalize(normalizer(), '\tTabs\tand\n')).toBe('▁Tabs▁and');
    expect(normalize(normalizer(), 'ｆｕｌｌ ＡＢＣ')).toBe('▁full▁ABC');
    expect(normalize(normalizer(), ' \u200b ')).toBe('');
    expect(normalize(normalizer(), '')).toBe('');
  });

  it('keeps spaces when remove_extra_whitespaces is off and escapes only when asked', () => {
    expect(normalize(normalizer({ removeExtraWhitespaces: false }), ' a  b ')).toBe('▁▁a▁▁b▁');
    expect(normalize(normalizer({ escapeWhitespaces: false, addDummyPrefix: false }), 'a  b')).toBe('a b');
    expect(normalize(normalizer({ charsmap: undefined }), 'ﬁ')).toBe('▁ﬁ');
  });
});

describe('unigram Viterbi', () => {
  const encoder = new TextEncoder();
  // Hand-made vocabulary: ids 0 <unk>, 1 a, 2 b, 3 ab, 4 c.
  const pieces = [
    { piece: '<unk>', score: 0, normal: false },
    { piece: 'a', score: -1, normal: true },
    { piece: 'b', score: -1, normal: true },
    { piece: 'ab', score: -1.5, normal: true },
    { piece: 'c', score: -3, normal: true },
  ];

  it('picks the best-scoring segmentation', () => {
    const model = new UnigramModel(pieces, 0);
    // "ab" (-1.5) beats "a"+"b" (-2); "abab" → ab ab
    expect(model.encode(encoder.encode('abab')).map((t) => t.id)).toEqual([3, 3]);
    expect(model.encode(encoder.encode('cab')).map((t) => t.id)).toEqual([4, 3]);
  });

  it('keeps the earlier-found path on a tie, as SentencePiece (strictly greater replaces)', () => {
    const tied = pieces.map((p) => (p.piece === 'ab' ? { ...p, score: -2 } : p));
    const model = new UnigramModel(tied, 0);
    // "ab" from position 0 (-2) is found before "a" then "b" (-1 + -1 = -2).
    expect(model.encode(encoder.encode('ab')).map((t) => t.id)).toEqual([3]);
  });

  it('scores unknown characters at min score - 10 and merges consecutive ones', () => {
    const model = new UnigramModel(pieces, 0);
    const tokens = model.encode(encoder.encode('aééb'));
    expect(tokens).toEqual([
      { id: 1, start: 0, end: 1 },
      { id: 0, start: 1, end: 5 },
      { id: 2, start: 5, end: 6 },
    ]);
    expect(() => new UnigramModel(pieces, 7)).toThrow('Unigram unk_id 7 is not a piece index (the vocabulary has 5 pieces)');
  });
});

describe('Python string helpers', () => {
  it('strips Python whitespace, not JavaScript whitespace', () => {
    expect(pythonStrip('\u001c a \u0085')).toBe('a');
    expect(pythonStrip('\ufeffa')).toBe('\ufeffa');
  });

  it('cleans up tokenization spaces in HF order', () => {
    expect(cleanUpTokenization("spaced , punctuation ! ? do n't it 's")).toBe("spaced, punctuation!? don't it's");
    expect(cleanUpTokenization("and ' single")).toBe("and'single");
  });
});
