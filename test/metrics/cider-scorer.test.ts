import { describe, expect, it } from 'vitest';
import { CiderDScorer, ciderD } from '../../lib/metrics/cider.js';

describe('CIDEr-D, hand-worked', () => {
  it('two images, each candidate equal to its only reference: 5 each', () => {
    // N = 2 images, so ref_len = ln 2; every reference n-gram occurs in one image: df = 1,
    // weight = tf * (ln 2 - ln 1) = ln 2. For "a b": 1-grams {a, b} -> vec (ln2, ln2), 2-gram
    // {a b} -> ln2; orders 3 and 4 are empty (norm 0, val 0). Candidate == reference, so
    // val1 = 2 ln2^2 / (sqrt2 ln2)^2 = 1, val2 = ln2^2 / ln2^2 = 1; one bigram each, delta = 0,
    // penalty e^0 = 1. Image score = mean(1, 1, 0, 0) / 1 ref * 10 = 5.
    const r = ciderD([['a b'], ['c d']], ['a b', 'c d']);
    expect(r.perImage[0]).toBeCloseTo(5, 14);
    expect(r.perImage[1]).toBeCloseTo(5, 14);
    expect(r.score).toBeCloseTo(5, 14);
  });

  it('an extra word: clipping, an unseen n-gram at full weight and the bigram length penalty', () => {
    // Image 1: ref "a b", candidate "a b c"; image 2 only sets N = 2 (ref_len = ln 2).
    // 1-grams: hyp a, b, c all weigh ln2 (c is in no reference: df 0 -> ln(max(1, 0)) = 0);
    //   |hyp| = sqrt3 ln2, |ref| = sqrt2 ln2, dot = 2 ln2^2  -> val1 = 2 / sqrt6.
    // 2-grams: hyp "a b", "b c" (ln2 each), ref "a b" -> val2 = ln2^2 / (sqrt2 ln2 * ln2) = 1 / sqrt2.
    // 3-gram: hyp "a b c", ref has none (norm 0: no division) -> val3 = 0; val4 = 0.
    // Bigram counts: hyp 2, ref 1 -> delta = 1 -> penalty e^(-1/72).
    // Score = (2/sqrt6 + 1/sqrt2) * e^(-1/72) / 4 * 10.
    const expected = ((2 / Math.sqrt(6) + 1 / Math.SQRT2) * Math.exp(-1 / 72)) / 4 * 10;
    const r = ciderD([['a b'], ['x y']], ['a b c', 'x y']);
    console.log(`hand-worked CIDEr-D: got ${r.perImage[0]}, expected ${expected}, |diff| ${Math.abs(r.perImage[0]! - expected)}`);
    expect(Math.abs(r.perImage[0]! - expected)).toBeLessThanOrEqual(1e-14);
  });

  it('document frequencies come from the whole reference corpus of the scorer', () => {
    // 4 images; "dog" occurs in the references of images 1 and 2 -> weight ln4 - ln2 = ln2;
    // every other n-gram occurs in one image -> weight ln4. Candidate "dog" for image 1 whose
    // only reference is "dog": 1-gram vectors equal -> val1 = 1; other orders 0; no bigrams,
    // delta 0. Score = 1/4 * 10 = 2.5, whatever the weight.
    // Candidate "cat" for image 1: no overlap -> 0.
    const scorer = new CiderDScorer({ 1: ['dog'], 2: ['a dog'], 3: ['a cat'], 4: ['the sky'] }, { refsTokenized: true });
    const out = scorer.score([1, '1', 3], ['dog', 'cat', 'a cat']);
    expect(out[0]).toBeCloseTo(2.5, 14);
    expect(out[1]).toBe(0);
    // Image 3, ref "a cat" = candidate: val1 = val2 = 1, delta 0 -> mean(1, 1, 0, 0) * 10 = 5.
    expect(out[2]).toBeCloseTo(5, 14);
    expect(scorer.numImages).toBe(4);
  });

  it('tokenizes raw references and candidates with the PTB tokenizer by default', () => {
    const scorer = new CiderDScorer(new Map([[7, ['A Dog.']], [8, ['The sky!']]]));
    const out = scorer.score([7], ['a dog']);
    expect(out[0]).toBeCloseTo(5, 14);
  });
});

describe('CiderDScorer bad input', () => {
  const scorer = new CiderDScorer({ 1: ['a dog'], 2: ['a cat'] }, { refsTokenized: true, candidatesTokenized: true });
  it('unknown image id', () => {
    expect(() => scorer.score([3], ['a dog'])).toThrow('Expected an image id of the reference corpus for imageIds[0] but received 3 of type number');
  });
  it('lengths differ', () => {
    expect(() => scorer.score([1, 2], ['a dog'])).toThrow('Expected array of 2 strings (one per image id) for candidates but received an array of length 1');
  });
  it('non-string candidate', () => {
    expect(() => scorer.score([1], [5 as unknown as string])).toThrow('Expected string for candidates[0] but received 5 of type number');
  });
  it('empty reference list', () => {
    expect(() => new CiderDScorer({ 1: [] })).toThrow('Expected non-empty array of strings for references[0] but received an array of length 0');
  });
  it('every reference empty', () => {
    expect(() => new CiderDScorer({ 1: [''], 2: [' '] }, { refsTokenized: true })).toThrow('CIDEr-D needs at least one non-empty reference');
  });
  it('unknown option', () => {
    expect(() => new CiderDScorer({ 1: ['a'] }, { tokenized: true } as never)).toThrow(
      'Unknown option "tokenized" in options; expected one of "refsTokenized", "candidatesTokenized"');
  });
  it('empty candidate scores 0', () => {
    expect(scorer.score([1], [''])[0]).toBe(0);
  });
});
