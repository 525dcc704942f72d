import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ptbTokenize, ptbJavaLines, tokenizeForEval } from '../../lib/metrics/ptb.js';
import { lexTokens } from '../../lib/metrics/ptb-lexer.js';

interface PtbCase { input: string; java_line: string; pycocoevalcap: string; pycocoevalcap_alone: string; at_eof_in_batch: boolean }
interface HazardCase {
  input: string; java_lines_for_input_plus_sentinel: string[]; pycocoevalcap_case: string; pycocoevalcap_sentinel: string;
}

const file = fileURLToPath(new URL('../fixtures/caption-metrics/ptb_tokenizer_cases.json', import.meta.url));
const fixture = JSON.parse(readFileSync(file, 'utf8')) as { cases: PtbCase[]; hazard_cases: HazardCase[] };
const SENTINEL = 'sentinel caption.';

describe('PTB tokenizer cases (Stanford PTBTokenizer 3.4.1 + pycocoevalcap wrapper)', () => {
  const cases = fixture.cases;

  it('java line mid-batch (case followed by another caption) matches for every case', () => {
    const mismatches = cases.filter((c) => ptbJavaLines([c.input, SENTINEL])[0] !== c.java_line);
    console.log(`PTB java_line: ${cases.length - mismatches.length}/${cases.length} match`);
    expect(mismatches.map((c) => c.input)).toEqual([]);
  });

  it('pycocoevalcap batch output matches for every case', () => {
    const out = ptbTokenize(cases.map((c) => c.input));
    const ok = cases.filter((c, i) => out[i] === c.pycocoevalcap).length;
    console.log(`PTB pycocoevalcap (batch): ${ok}/${cases.length} match`);
    expect(ok).toBe(cases.length);
  });

  it('pycocoevalcap_alone (caption at end of input) matches for every case', () => {
    const mismatches = cases.filter((c) => ptbTokenize([c.input])[0] !== c.pycocoevalcap_alone);
    console.log(`PTB pycocoevalcap_alone: ${cases.length - mismatches.length}/${cases.length} match`);
    expect(mismatches.map((c) => c.input)).toEqual([]);
  });

  it('end-of-input rule: smileys lex differently at the end', () => {
    expect(ptbTokenize(['happy :)', 'x'])).toEqual(['happy :-rrb-', 'x']);
    expect(ptbTokenize(['happy :)'])).toEqual(['happy -rrb-']);
  });

  it('hazard cases: line-splitting characters shift the following captions', () => {
    let ok = 0;
    for (const h of fixture.hazard_cases) {
      const lines = ptbJavaLines([h.input, SENTINEL]);
      expect(lines.slice(0, h.java_lines_for_input_plus_sentinel.length)).toEqual(h.java_lines_for_input_plus_sentinel);
      const [c, s] = ptbTokenize([h.input, SENTINEL]);
      expect([c, s]).toEqual([h.pycocoevalcap_case, h.pycocoevalcap_sentinel]);
      ok++;
    }
    console.log(`PTB hazard cases: ${ok}/${fixture.hazard_cases.length} match`);
    expect(ok).toBe(13);
  });

  it('rejects non-string captions', () => {
    expect(() => ptbTokenize(['a', 3 as unknown as string])).toThrow('Expected string for captions[1] but received 3 of type number');
    expect(() => ptbTokenize('a' as unknown as string[])).toThrow('Expected array of strings for captions but received "a" of type string');
  });
});

describe('tokenizeForEval', () => {
  it('tokenizes refs and preds in two calls, so a split only shifts its own call', () => {
    const refs = new Map<number, string[]>([[1, ['A dog\rruns.', 'A cat.']], [2, ['Two birds.']]]);
    const preds = new Map<number, string[]>([[1, ['A dog.']], [2, ['Birds!']]]);
    const out = tokenizeForEval(refs, preds);
    expect([...out.refs.entries()]).toEqual([[1, ['a dog', 'runs']], [2, ['a cat']]]);
    expect([...out.preds.entries()]).toEqual([[1, ['a dog']], [2, ['birds']]]);
  });
});

describe('PTB tokenizer on the COCO corpora (real Java output in *_tok)', () => {
  for (const name of ['coco_fakecap_1000', 'coco_derived_5000']) {
    it(`${name}: gts and res tokenized in two calls match every caption`, () => {
      const corpusFile = fileURLToPath(new URL(`../fixtures/caption-metrics/corpus_${name}.json`, import.meta.url));
      const corpus = JSON.parse(readFileSync(corpusFile, 'utf8')) as { image_id: number; candidate: string; refs: string[]; candidate_tok: string; refs_tok: string[] }[];
      const refs = new Map(corpus.map((c) => [c.image_id, c.refs]));
      const preds = new Map(corpus.map((c) => [c.image_id, [c.candidate]]));
      const out = tokenizeForEval(refs, preds);
      let total = 0;
      let ok = 0;
      for (const c of corpus) {
        const r = out.refs.get(c.image_id)!;
        c.refs_tok.forEach((want, j) => { total++; if (r[j] === want) ok++; });
        total++;
        if (out.preds.get(c.image_id)![0] === c.candidate_tok) ok++;
      }
      console.log(`${name}: ${ok}/${total} captions tokenized exactly as the Java tokenizer`);
      expect(ok).toBe(total);
    });
  }
});

describe('PTB tokenizer behaviour documented in the fixture README', () => {
  const cases: [string, string][] = [
    ['a man (in a hat)', 'a man -lrb- in a hat -rrb-'],
    ['really?! yes!!! no??', 'really ?! yes !!! no ??'],
    ['salt &amp; pepper &lt; 3', 'salt & pepper < 3'],
    ['\u00a35 and \u20ac5', '# 5 and $ 5'],
    ['gonna go', 'gon na go'],
    ['a man \u2013 riding', 'a man riding'],
    ['a Ⅷ b', 'a b'],
    ['smile \u{1F600}\u{1F600} now', 'smile now'],
    ['\u0130stanbul', 'i\u0307stanbul'],
    ['\u03a3\u039f\u03a6\u039f\u03a3', '\u03c3\u03bf\u03c6\u03bf\u03c2'],
    ['colour', 'colour'],
    ['a 10.5 km walk, 1,000 steps', 'a 10.5 km walk 1,000 steps'],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => {
      expect(ptbTokenize([input, 'next caption'])[0]).toBe(want);
    });
  }
});

describe('PTB lexer shortcuts', () => {
  it('fast paths and first-character dispatch give the same tokens as trying every rule (20,000 random strings)', () => {
    const pieces = ['Mr.', 'etc.', 'Inc. ', 'a. ', 'vs. ', 'No. ', 'Ark. ', 'ark. ', 'cannot. ', 'gonna, ', 'dog. ', 'dog, ', 'dog; ',
      'dog: ', 'dog! ', 'dog? ', 'Jan. ', 'x.', "can't", "it's", 'U.S.', '&amp;', '&quot;', 'http://x.com/a', 'www.x.org',
      'a@b.com', ':)', ';-(', '^_^', '3 1/2', '(555) 123-4567', '...', '. . .', '---', "'tis", "y'all", "o'clock", 'AT&T',
      'C++', '$5', 'US$', '<a href="x">', '</b>', '1,000.5', '10:30', '12/25/2015', 'e.g.', "n't", "'s", '-LRB-', 'pro-', "'90",
      ...'aAbBnNtTsSyY09 .,;:!?\'"`-_/\\()[]{}<>&#$%@*+=^~|\u2019\u2018\u201c\u201d\u00ab\u00bb\u2026\u00a0\u00ad\r\u2028\t\u00e9\u4e2d\u0301'];
    let seed = 7;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
    let diffs = 0;
    for (let n = 0; n < 20000; n++) {
      let s = '';
      const len = 1 + Math.floor(rnd() * 12);
      for (let i = 0; i < len; i++) s += pieces[Math.floor(rnd() * pieces.length)]! + (rnd() < 0.3 ? ' ' : '');
      if (JSON.stringify(lexTokens(s)) !== JSON.stringify(lexTokens(s, true))) diffs++;
    }
    console.log(`PTB lexer shortcut check: ${diffs} differences in 20000 random strings`);
    expect(diffs).toBe(0);
  });
});
