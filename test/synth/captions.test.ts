// Caption grammar properties on generated examples: five distinct captions, every object's colour and shape
// named, the printed word read, the degradation named in the assistive style, and short token lengths.
import { beforeAll, describe, expect, it } from 'vitest';
import { T5Tokenizer } from '../../lib/text/tokenizer.js';
import { DEGRADATION_WORDS, fixArticles, sampleCaptions } from '../../lib/synth/captions.js';
import { SynthRandom } from '../../lib/synth/random.js';
import { CLEAN_QUALITY_SHARE, synthesizeExample, type SynthExample } from '../../lib/synth/sample.js';
import { TINY_MODEL } from '../helpers/paths.js';

const N = 400;
const cleanAll = Array.from({ length: N }, (_, i) => synthesizeExample(11, 'clean', 'train', i));
// clean images without a quality issue; the others are captioned in the assistive style
const clean = cleanAll.filter((e) => e.degradation === undefined);
const cleanDegraded = cleanAll.filter((e) => e.degradation !== undefined);
const assistive = Array.from({ length: N }, (_, i) => synthesizeExample(11, 'assistive', 'val', i));

const SHAPE_WORDS = { circle: 'circle', square: 'square', triangle: 'triangle', star: 'star', cross: '(cross|plus sign)', ring: 'ring' };
const ASSISTIVE_SHAPE_WORDS = { ...SHAPE_WORDS, square: 'box' };
const SIZE_WORDS = /\b(small|little|medium|large|big)\b/;
const DEGRADATION_PATTERN = /\b(unclear|not clear|dark|grainy|bright)\b/;

function shapePattern(word: string): RegExp {
  return new RegExp(`\\b${word}(s|es)?\\b`);
}

/** Every way the caption must mention the example: each object colour and shape, label colour, word. */
function checkMentions(e: SynthExample, caption: string, shapes: Record<string, string>): string[] {
  const missing: string[] = [];
  for (const o of e.scene.objects) {
    if (!new RegExp(`\\b${o.colour}\\b`).test(caption)) missing.push(o.colour);
    if (!shapePattern(shapes[o.shape]!).test(caption)) missing.push(o.shape);
  }
  if (e.scene.label !== undefined && !caption.includes(e.scene.label.colour)) missing.push(e.scene.label.colour);
  if (e.scene.text !== undefined && !new RegExp(`\\b${e.scene.text.word.toLowerCase()}\\b`).test(caption)) missing.push(e.scene.text.word);
  return missing;
}

describe('caption grammar', () => {
  it('gives five distinct captions per image', () => {
    for (const e of [...clean, ...assistive]) expect(new Set(e.captions).size).toBe(5);
  });

  it('names every colour, shape and printed word in every clean caption, and no degradation', () => {
    const failures = clean.flatMap((e) => e.captions.map((c) => [c, checkMentions(e, c, SHAPE_WORDS)] as const)).filter(([, m]) => m.length > 0);
    expect(failures).toEqual([]);
    expect(clean.flatMap((e) => e.captions).filter((c) => DEGRADATION_PATTERN.test(c))).toEqual([]);
  });

  it('names every colour, shape (box for square) and word in assistive captions, and the degradation', () => {
    const failures = [...assistive, ...cleanDegraded]
      .flatMap((e) => e.captions.map((c) => [c, checkMentions(e, c, ASSISTIVE_SHAPE_WORDS)] as const))
      .filter(([, m]) => m.length > 0);
    expect(failures).toEqual([]);
    for (const e of [...assistive, ...cleanDegraded]) {
      const words = DEGRADATION_WORDS[e.degradation!.kind];
      const pattern = new RegExp(`\\b(${[...words.adjective, ...words.predicate].join('|')})\\b`);
      for (const c of e.captions) expect([e.degradation!.kind, c, pattern.test(c)]).toEqual([e.degradation!.kind, c, true]);
    }
  });

  it('uses the assistive style: box, beside, no sizes with several objects', () => {
    const captions = assistive.flatMap((e) => e.captions);
    expect(captions.filter((c) => /\bsquares?\b|next to/.test(c))).toEqual([]);
    const multi = assistive.filter((e) => e.scene.objects.length > 1).flatMap((e) => e.captions);
    expect(multi.filter((c) => SIZE_WORDS.test(c))).toEqual([]);
    expect(captions.filter((c) => c.includes(' beside ')).length).toBeGreaterThan(0);
    expect(clean.flatMap((e) => e.captions).filter((c) => c.includes(' next to ')).length).toBeGreaterThan(0);
  });

  it('gives a quarter of the clean images a mild quality issue, so clean captions use every assistive word', () => {
    expect(Math.abs(cleanDegraded.length / N - CLEAN_QUALITY_SHARE)).toBeLessThan(0.06);
    const words = (examples: SynthExample[]) => new Set(examples.flatMap((e) => e.captions.flatMap((c) => c.match(/[a-z]+/g) ?? [])));
    const cleanWords = words(cleanAll);
    // printed words are drawn at random per image, so 400 images need not show all of them
    const printed = new Set([...assistive, ...cleanAll].flatMap((e) => (e.scene.text ? [e.scene.text.word.toLowerCase()] : [])));
    expect([...words(assistive)].filter((w) => !cleanWords.has(w) && !printed.has(w))).toEqual([]);
    // milder than the assistive range of the same kind
    for (const e of cleanDegraded) {
      const d = e.degradation!;
      if (d.kind === 'blur') expect(d.sigma).toBeLessThan(1.3);
      if (d.kind === 'noise') expect(d.sigma).toBeLessThan(35);
      if (d.kind === 'dark') expect(d.gain).toBeGreaterThan(0.35);
    }
  });

  it('orders spatial relations as drawn (left of / right of, above / below)', () => {
    for (const e of cleanAll.filter((x) => x.scene.layout === 'horizontal' || x.scene.layout === 'vertical')) {
      const shapes = e.degradation ? ASSISTIVE_SHAPE_WORDS : SHAPE_WORDS;
      const [first, second] = e.scene.objects.map((o) => `${o.colour} ${shapes[o.shape].replace(/\(.*\)/, 'cross')}`);
      for (const c of e.captions) {
        if (c.includes(' to the left of ') || c.includes(' above ') || c.includes(' over ')) expect(c.indexOf(first!)).toBeLessThan(c.lastIndexOf(second!));
        if (c.includes(' to the right of ') || c.includes(' below ') || c.includes(' under ')) expect(c.indexOf(second!)).toBeLessThan(c.lastIndexOf(first!));
      }
    }
  });

  it('writes "an" before vowels', () => {
    expect(fixArticles('a orange box next to a red ring')).toBe('an orange box next to a red ring');
    expect(fixArticles('a row of a orange star')).toBe('a row of an orange star');
  });

  it('rejects assistive captions without a degradation', () => {
    expect(() => sampleCaptions(clean[0]!.scene, 'assistive', undefined, new SynthRandom(1))).toThrow(
      'Expected a degradation kind for assistive captions but received undefined',
    );
  });
});

describe('caption length in tokens (fixture T5 tokenizer)', () => {
  let tokenizer: T5Tokenizer;
  beforeAll(async () => {
    tokenizer = await T5Tokenizer.fromPretrained(TINY_MODEL);
  });

  it('fits every caption, EOS included, in 24 generated tokens', () => {
    const lengths = [...cleanAll, ...assistive].flatMap((e) => e.captions).map((c) => tokenizer.encode(c).length);
    const max = Math.max(...lengths);
    const meanLength = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    console.log(`caption tokens (with EOS) over ${lengths.length} captions: mean ${meanLength.toFixed(2)}, max ${max}`);
    expect(max).toBeLessThanOrEqual(24);
    expect(tokenizer.vocabSize).toBe(4100);
  });

  it('uses one piece for each printed word and colour or shape name of at most three', () => {
    expect(['stop', 'open', 'exit', 'push', 'free', 'bus', 'cake', 'help', 'park', 'mail', 'dog', 'cat', 'key', 'new', 'car', 'fun']
      .map((w) => tokenizer.tokenize(w).length)).toEqual(new Array(16).fill(1));
    const names = ['red', 'orange', 'yellow', 'green', 'blue', 'brown', 'black', 'gray', 'circle', 'square', 'box', 'triangle', 'star', 'cross', 'ring'];
    expect(Math.max(...names.map((w) => tokenizer.tokenize(w).length))).toBe(3);
  });

  it('names each degradation with words of at most two pieces, whose first pieces tell the kinds apart', () => {
    const firstPieces = new Map<string, string>();
    for (const [kind, { adjective, predicate }] of Object.entries(DEGRADATION_WORDS)) {
      for (const phrase of [...adjective, ...predicate]) {
        for (const word of phrase.split(' ')) expect(tokenizer.tokenize(word).length, word).toBeLessThanOrEqual(2);
        // the piece a decoder commits to first (after a bare "▁", which several words share)
        const pieces = tokenizer.tokenize(` ${phrase}`).filter((p) => p !== '▁');
        const owner = firstPieces.get(pieces[0]!);
        expect(owner === undefined || owner === kind, `${phrase} starts like a ${owner} word`).toBe(true);
        firstPieces.set(pieces[0]!, kind);
      }
    }
  });
});
