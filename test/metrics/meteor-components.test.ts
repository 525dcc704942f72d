// Components of METEOR (NLTK 3.8): word_tokenize, PorterStemmer, WordNet lemma names, the scorer.
// Goldens: NLTK's own doctests (quoted where used), hand-worked examples, and the outputs of the real
// NLTK 3.8 recorded in test/fixtures/meteor-nltk/nltk_oracle.json (see its README).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  meteor,
  meteorScore,
  porterStem,
  sentTokenize,
  singleMeteorScore,
  wordTokenize,
  wordnetSynonyms,
} from '../../lib/metrics/meteor/index.js';

interface Oracle {
  word_tokenize: { text: string; sentences: string[]; tokens: string[]; ortho_dependent: boolean }[];
  porter_stem: [string, string][];
  wordnet_lemma_names: [string, string[]][];
  meteor: { reference: string[]; hypothesis: string[]; single_meteor_score: number; meteor_score_two_refs: number }[];
}
const oracle = JSON.parse(readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'meteor-nltk', 'nltk_oracle.json'), 'utf8')) as Oracle;

describe('wordTokenize (NLTK word_tokenize)', () => {
  it('matches NLTK tokenize.doctest', () => {
    expect(wordTokenize('On a $50,000 mortgage of 30 years at 8 percent, the monthly payment would be $366.88.')).toEqual(
      ['On', 'a', '$', '50,000', 'mortgage', 'of', '30', 'years', 'at', '8', 'percent', ',', 'the', 'monthly', 'payment',
        'would', 'be', '$', '366.88', '.']);
    expect(wordTokenize('"We beat some pretty good teams to get here," Slocum said.')).toEqual(
      ['``', 'We', 'beat', 'some', 'pretty', 'good', 'teams', 'to', 'get', 'here', ',', "''", 'Slocum', 'said', '.']);
    expect(wordTokenize('I cannot cannot work under these conditions!')).toEqual(
      ['I', 'can', 'not', 'can', 'not', 'work', 'under', 'these', 'conditions', '!']);
    expect(wordTokenize('The company spent 40.75% of its income last year.')).toEqual(
      ['The', 'company', 'spent', '40.75', '%', 'of', 'its', 'income', 'last', 'year', '.']);
    expect(wordTokenize('He arrived at 3:00 pm.')).toEqual(['He', 'arrived', 'at', '3:00', 'pm', '.']);
    expect(wordTokenize('Though there were 150, 100 of them were old.')).toEqual(
      ['Though', 'there', 'were', '150', ',', '100', 'of', 'them', 'were', 'old', '.']);
    expect(wordTokenize("It's more'n enough.")).toEqual(['It', "'s", 'more', "'n", 'enough', '.']);
    expect(wordTokenize('\u00abNow that I can do.\u00bb')).toEqual(['\u00ab', 'Now', 'that', 'I', 'can', 'do', '.', '\u00bb']);
  });

  it('splits sentences like the punkt docstring and tokenize.doctest', () => {
    const text = 'Punkt knows that the periods in Mr. Smith and Johann S. Bach\ndo not mark sentence boundaries.  ' +
      'And sometimes sentences\ncan start with non-capitalized words.  i is a good variable\nname.';
    expect(sentTokenize(text)).toEqual([
      'Punkt knows that the periods in Mr. Smith and Johann S. Bach\ndo not mark sentence boundaries.',
      'And sometimes sentences\ncan start with non-capitalized words.',
      'i is a good variable\nname.',
    ]);
    expect(sentTokenize('See Section 3).  Or Section 2).  ')).toEqual(['See Section 3).', 'Or Section 2).']);
    expect(sentTokenize('See Section 3.)  Or Section 2.)  ')).toEqual(['See Section 3.)', 'Or Section 2.)']);
    expect(sentTokenize('. This input starts with a dot. This used to cause issues.')).toEqual(
      ['.', 'This input starts with a dot.', 'This used to cause issues.']);
  });

  it('matches NLTK 3.8 on tricky strings (oracle)', () => {
    let same = 0;
    for (const c of oracle.word_tokenize) {
      expect(sentTokenize(c.text), JSON.stringify(c.text)).toEqual(c.sentences);
      expect(wordTokenize(c.text), JSON.stringify(c.text)).toEqual(c.tokens);
      same++;
    }
    console.log(`word_tokenize: ${same}/${oracle.word_tokenize.length} oracle strings identical`);
    expect(same).toBe(56);
  });

  it('rejects a non-string', () => {
    expect(() => wordTokenize(3 as unknown as string)).toThrow('Expected string for text but received 3 of type number');
  });
});

describe('porterStem (NLTK PorterStemmer, NLTK_EXTENSIONS)', () => {
  it('matches NLTK stem.doctest', () => {
    const plurals = ['caresses', 'flies', 'dies', 'mules', 'denied', 'died', 'agreed', 'owned', 'humbled', 'sized',
      'meeting', 'stating', 'siezing', 'itemization', 'sensational', 'traditional', 'reference', 'colonizer', 'plotted'];
    expect(plurals.map(porterStem).join(' ')).toBe(
      'caress fli die mule deni die agre own humbl size meet state siez item sensat tradit refer colon plot');
  });

  it('matches NLTK test_stem.py', () => {
    expect(porterStem('oed')).toBe('o');
    expect(porterStem('On')).toBe('on');
    expect(porterStem('I')).toBe('i');
    expect(porterStem('Github')).toBe('github');
  });

  it('matches NLTK 3.8 on every corpus word and extra cases (oracle)', () => {
    let mismatches = 0;
    for (const [word, stem] of oracle.porter_stem) if (porterStem(word) !== stem) mismatches++;
    console.log(`porter: ${oracle.porter_stem.length - mismatches}/${oracle.porter_stem.length} stems identical`);
    expect(mismatches).toBe(0);
    expect(oracle.porter_stem.length).toBe(4728);
  });
});

describe('wordnetSynonyms (lemma names of wordnet.synsets)', () => {
  it('lemmatises with morphy and keeps WordNet case', () => {
    // 'geese' is in noun.exc ("geese goose"), so synsets('geese') are those of 'goose'.
    expect(wordnetSynonyms('geese').has('goose')).toBe(true);
    expect(wordnetSynonyms('geese').has('geese')).toBe(false);
    expect(wordnetSynonyms('running').has('run')).toBe(true);
    expect(wordnetSynonyms('xyzzy').size).toBe(0);
    expect(wordnetSynonyms('dog').has('Canis')).toBe(false);
    expect(wordnetSynonyms('dog').has('domestic_dog')).toBe(false);
    expect(wordnetSynonyms('dog').has('frump')).toBe(true);
  });

  it('matches NLTK 3.8 + WordNet 3.0 (oracle)', () => {
    let mismatches = 0;
    for (const [word, names] of oracle.wordnet_lemma_names) {
      const ours = [...wordnetSynonyms(word)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (JSON.stringify(ours) !== JSON.stringify(names)) mismatches++;
    }
    console.log(`wordnet: ${oracle.wordnet_lemma_names.length - mismatches}/${oracle.wordnet_lemma_names.length} words identical`);
    expect(mismatches).toBe(0);
  });
});

describe('singleMeteorScore / meteorScore', () => {
  it('hand-worked: exact, stem and synonym matches with two chunks', () => {
    // hyp: the dogs run fast | ref: a dog runs quick
    // exact: none. stems: dogs->dog = dog, run = runs->run: 2 matches (1,1) (2,2).
    // synonyms (on stems): 'fast' vs 'quick': lemma names of synsets('fast') include 'quick'. 3 matches.
    // 'the' vs 'a': no. Matches sorted: (1,1) (2,2) (3,3) -> 1 chunk.
    // P = 3/4, R = 3/4, Fmean = 0.5625 / (0.9*0.75 + 0.1*0.75) = 0.75; penalty = 0.5 * (1/3)^3.
    expect(wordnetSynonyms('fast').has('quick')).toBe(true);
    const expected = (1 - 0.5 * (1 / 3) ** 3) * ((0.75 * 0.75) / (0.9 * 0.75 + (1 - 0.9) * 0.75));
    expect(singleMeteorScore(['a', 'dog', 'runs', 'quick'], ['the', 'dogs', 'run', 'fast'])).toBe(expected);
    // Reordered: hyp 'fast dogs run' vs ref 'dogs run fast': 3 matches (0,2) (1,0) (2,1) -> 2 chunks.
    const reordered = (1 - 0.5 * (2 / 3) ** 3) * 1;
    expect(singleMeteorScore(['dogs', 'run', 'fast'], ['fast', 'dogs', 'run'])).toBe(reordered);
  });

  it('matches the NLTK docstring and meteor.doctest', () => {
    const hypothesis1 = ['It', 'is', 'a', 'guide', 'to', 'action', 'which', 'ensures', 'that', 'the', 'military', 'always',
      'obeys', 'the', 'commands', 'of', 'the', 'party'];
    const reference1 = ['It', 'is', 'a', 'guide', 'to', 'action', 'that', 'ensures', 'that', 'the', 'military', 'will',
      'forever', 'heed', 'Party', 'commands'];
    expect(Math.round(singleMeteorScore(reference1, hypothesis1) * 1e4) / 1e4).toBe(0.6944);
    expect(singleMeteorScore(['this', 'is', 'a', 'cat'], ['non', 'matching', 'hypothesis'])).toBe(0);
    expect(meteorScore([wordTokenize('The cat sat on the mat')], wordTokenize('on the mat sat the cat'))).toBe(0.5);
  });

  it('matches NLTK 3.8 on scored pairs (oracle)', () => {
    for (const c of oracle.meteor) {
      expect(singleMeteorScore(c.reference, c.hypothesis)).toBe(c.single_meteor_score);
      expect(meteorScore([c.reference, wordTokenize('a cat on a mat')], c.hypothesis)).toBe(c.meteor_score_two_refs);
    }
  });

  it('validates arguments and options', () => {
    expect(() => meteorScore([], ['a'])).toThrow('Expected non-empty array of token arrays for references but received an array of length 0');
    expect(() => singleMeteorScore('a cat' as unknown as string[], ['a'])).toThrow(
      'Expected array of string tokens for reference but received "a cat" of type string');
    expect(() => singleMeteorScore(['a'], ['a'], { alpha: 2 })).toThrow('Expected number between 0 and 1 for alpha but received 2 of type number');
    expect(() => singleMeteorScore(['a'], ['a'], { beta: -1 })).toThrow('Expected number >= 0 for beta but received -1 of type number');
    expect(() => singleMeteorScore(['a'], ['a'], { delta: 1 } as never)).toThrow(
      'Unknown option "delta" in options; expected one of "alpha", "beta", "gamma"');
  });
});

describe('meteor (corpus)', () => {
  it('scores raw captions and averages with numpy pairwise summation', () => {
    const result = meteor([['The cat sat on the mat'], ['A dog runs.', 'Dogs running']], ['on the mat sat the cat', 'a dog runs']);
    expect(result.perImage[0]).toBe(0.5);
    // Best reference is 'Dogs running': stems dog, run match 2 of 3 hypothesis words in one chunk.
    const p = 2 / 3;
    const r = 2 / 2;
    expect(result.perImage[1]).toBe((1 - 0.5 * (1 / 2) ** 3) * ((p * r) / (0.9 * p + (1 - 0.9) * r)));
    expect(result.perImage[1]).toBeGreaterThan(singleMeteorScore(['a', 'dog', 'runs', '.'], ['a', 'dog', 'runs']));
    expect(result.score).toBe((result.perImage[0]! + result.perImage[1]!) / 2);
  });

  it('rejects malformed input', () => {
    expect(() => meteor([['a']], ['a', 'b'])).toThrow(
      'Expected array of length 1 (one per image, as references) for candidates but received an array of length 2');
    expect(() => meteor([[]], ['a'])).toThrow('Expected non-empty array of strings for references[0] but received an array of length 0');
    expect(() => meteor([['a', 3 as unknown as string]], ['a'])).toThrow('Expected string for references[0][1] but received 3 of type number');
    expect(() => meteor([['a']], [null as unknown as string])).toThrow('Expected string for candidates[0] but received null');
  });
});
