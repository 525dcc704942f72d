import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../lib/random.js';
import {
  augmentCaption, DEFAULT_SYNONYMS, SEED_SYNONYMS, matchCase, PAPER_CAPTION_AUGMENT, parseCaptionAugmentSpec, shuffleSentences, splitSentences,
  reverseWordLists, substituteSynonyms, swapLeftRight, SYNONYM_GROUPS,
} from '../../lib/text/augment.js';

describe('synonym substitution', () => {
  it('replaces every table word at p = 1, keeping case and punctuation (hand-worked)', () => {
    const table = { dog: ['puppy'], picture: ['photo'], 'close-up': ['closeup'] };
    expect(augmentCaption('A Picture of a DOG, running... (dog!) close-up', { synonymProb: 1, synonyms: table }, 3)).toBe(
      'A Photo of a PUPPY, running... (puppy!) closeup',
    );
  });

  it('uses the default table: "small" -> "little", "couch" -> "sofa", "beside" -> "next to"', () => {
    expect(augmentCaption('A small dog beside a couch.', { synonymProb: 1 }, 0)).toBe('A little dog next to a sofa.');
  });

  it('leaves text unchanged at p = 0 and draws about 20 % of eligible words at p = 0.2', () => {
    const text = 'a small cup on a big plate';
    expect(augmentCaption(text, { synonymProb: 0 }, 1)).toBe(text);
    const rng = new Xoshiro128(9);
    let changed = 0;
    for (let n = 0; n < 2000; n++) if (substituteSynonyms('small', DEFAULT_SYNONYMS, 0.2, rng) !== 'small') changed++;
    console.log(`synonym substitution rate at p=0.2: ${changed / 2000}`);
    expect(Math.abs(changed / 2000 - 0.2)).toBeLessThan(0.03);
  });

  it('ships a richer default table than the paper\'s nine words, without colours or sides', () => {
    const words = Object.keys(DEFAULT_SYNONYMS);
    console.log(`default synonym table: ${words.length} words in ${SYNONYM_GROUPS.length} groups`);
    expect(words.length).toBeGreaterThanOrEqual(60);
    for (const w of ['red', 'blue', 'left', 'right', 'one', 'two', 'circle', 'square']) expect(Object.hasOwn(DEFAULT_SYNONYMS, w)).toBe(false);
    expect(DEFAULT_SYNONYMS.picture).toEqual(['photo', 'image', 'photograph']);
    expect(Object.hasOwn(DEFAULT_SYNONYMS, 'next to')).toBe(false);
  });

  it('matchCase keeps ALL CAPS, Capitalised and lower case', () => {
    expect([matchCase('DOG', 'puppy'), matchCase('Dog', 'puppy'), matchCase('dog', 'puppy'), matchCase('A', 'the')]).toEqual(['PUPPY', 'Puppy', 'puppy', 'The']);
  });
});

describe('sentence shuffling', () => {
  it('splits after . ! ? (with closing quotes) followed by spaces', () => {
    expect(splitSentences('He said "hi." Then left!  Ok? fine')).toEqual(['He said "hi."', 'Then left!', 'Ok?', 'fine']);
    expect(splitSentences('a dog on a couch')).toEqual(['a dog on a couch']);
  });

  it('at p = 1 permutes the sentences (both orders of two occur over seeds); one sentence is unchanged', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 50; seed++) seen.add(augmentCaption('A dog. A cat!', { shuffleProb: 1 }, seed));
    expect([...seen].sort()).toEqual(['A cat! A dog.', 'A dog. A cat!']);
    expect(augmentCaption('a dog on a couch.', { shuffleProb: 1 }, 1)).toBe('a dog on a couch.');
    const four = 'One. Two. Three. Four.';
    const shuffled = augmentCaption(four, { shuffleProb: 1 }, 5);
    expect(splitSentences(shuffled).sort()).toEqual(['Four.', 'One.', 'Three.', 'Two.']);
  });

  it('shuffles about 20 % of multi-sentence captions at p = 0.2 (the 2-sentence swap shows half of them)', () => {
    const rng = new Xoshiro128(2);
    let swapped = 0;
    for (let n = 0; n < 4000; n++) if (shuffleSentences('A. B.', 0.2, rng) === 'B. A.') swapped++;
    console.log(`2-sentence swap rate at p=0.2: ${swapped / 4000} (expected 0.1)`);
    expect(Math.abs(swapped / 4000 - 0.1)).toBeLessThan(0.02);
  });
});

describe('augmentCaption', () => {
  it('is deterministic for a seed and varies across seeds', () => {
    const text = 'A small man sits on a big couch. A woman holds a cup. The photo is blurry.';
    const spec = { synonymProb: 0.5, shuffleProb: 0.5 };
    expect(augmentCaption(text, spec, 77)).toBe(augmentCaption(text, spec, 77));
    const outputs = new Set(Array.from({ length: 20 }, (_, seed) => augmentCaption(text, spec, seed)));
    expect(outputs.size).toBeGreaterThan(5);
    expect(PAPER_CAPTION_AUGMENT).toEqual({ synonymProb: 0.2, shuffleProb: 0.2 });
  });

  it('names the built-in tables: "default" (ours, 121 words) and "seed" (the script\'s own, empty until filled in)', () => {
    expect(parseCaptionAugmentSpec({ synonyms: 'default' }).synonyms).toBe(DEFAULT_SYNONYMS);
    expect(parseCaptionAugmentSpec({ synonyms: 'seed' }).synonyms).toBe(SEED_SYNONYMS);
    expect(Object.keys(DEFAULT_SYNONYMS).length).toBe(121);
    // its 9 entries must come from the paper's script; until then substitution with it changes nothing
    expect(Object.keys(SEED_SYNONYMS).length).toBe(0);
    expect(augmentCaption('A small picture of a big dog.', { synonymProb: 1, synonyms: 'seed' }, 5)).toBe('A small picture of a big dog.');
  });

  it('rejects bad specs with exact messages', () => {
    expect(() => augmentCaption('x', { synonymProb: 1.5 }, 0)).toThrow('Expected number between 0 and 1 for synonymProb but received 1.5 of type number');
    expect(() => augmentCaption('x', { shuffle: 0.2 } as never, 0)).toThrow(
      'Unknown option "shuffle" in caption augment spec; expected one of "synonymProb", "shuffleProb", "synonyms"',
    );
    expect(() => parseCaptionAugmentSpec({ synonyms: { Dog: ['puppy'] } })).toThrow(
      'Expected a single lower-case word for synonyms key but received "Dog" of type string',
    );
    expect(() => parseCaptionAugmentSpec({ synonyms: { dog: [] } })).toThrow(
      'Expected non-empty array of non-empty strings for synonyms["dog"] but received an array of length 0',
    );
    expect(() => augmentCaption(3 as never, {}, 0)).toThrow('Expected string for text but received 3 of type number');
    expect(() => augmentCaption('x', {}, -2)).toThrow('Expected integer between 0 and 9007199254740991 for seed but received -2 of type number');
  });
});

describe('swapLeftRight', () => {
  const cases: [string, string][] = [
    ['a cup on the left of a plate', 'a cup on the right of a plate'],
    ['Left: a dog. Right: a cat.', 'Right: a dog. Left: a cat.'],
    ['the LEFT hand', 'the RIGHT hand'],
    ['a left-hand glove and the rightmost box', 'a right-hand glove and the leftmost box'],
    ['a left-handed man looks rightward', 'a right-handed man looks leftward'],
    ['turn right at the corner', 'turn left at the corner'],
    ['on the right next to a cup', 'on the left next to a cup'],
    ['to the left, a tree', 'to the right, a tree'],
  ];
  for (const [input, expected] of cases) {
    it(`"${input}" -> "${expected}" and back`, () => {
      expect(swapLeftRight(input)).toBe(expected);
      expect(swapLeftRight(expected)).toBe(input);
    });
  }

  it('leaves non-spatial uses and other words alone', () => {
    for (const text of ['all right', 'a cup right next to a plate', 'right now', 'leftover pizza', 'a bag left behind', 'copyright, Wright', 'rightly so']) {
      expect(swapLeftRight(text)).toBe(text);
    }
  });
});

describe('reverseWordLists', () => {
  const colours = ['red', 'orange', 'blue', 'green', 'gray'];
  const cases: [string, string][] = [
    ['three boxes: red, blue and green, the image is dark', 'three boxes: green, blue and red, the image is dark'],
    ['red, blue, green stars', 'green, blue, red stars'],
    ['red and blue circles', 'blue and red circles'],
    ['a red, a blue and an orange star', 'an orange, a blue and a red star'],
    ['a red, blue and orange star', 'an orange, blue and red star'],
  ];
  for (const [input, expected] of cases) {
    it(`"${input}" -> "${expected}"`, () => {
      expect(reverseWordLists(input, colours)).toBe(expected);
      expect(reverseWordLists(expected, colours)).toBe(input);
    });
  }

  it('leaves single words, pairs of phrases and lists with other words alone', () => {
    for (const text of ['a red box beside a blue star', 'a red box and a blue star', 'red, white and blue', 'a gray circle', 'bored and tired']) {
      expect(reverseWordLists(text, colours)).toBe(text);
    }
    expect(reverseWordLists('red and blue', [])).toBe('red and blue');
    expect(() => reverseWordLists('red', ['light blue'])).toThrow('Expected a single word (letters, apostrophes, hyphens) for words[0] but received "light blue"');
  });
});
