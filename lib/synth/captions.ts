/**
 * Caption grammar: several human-like paraphrases per scene, in the style of COCO / VizWiz-Captions
 * references. Clean captions describe the scene plainly; assistive captions (VizWiz-like) name the
 * degradation ("an unclear image of …"), say "box" for "square" and "beside" for "next to", and give
 * sizes only when there is one object. Vocabulary is chosen to be short for the project's 4000-piece
 * T5 tokenizer (e.g. "image" rather than "photo", "gray" rather than "purple"), so every caption stays
 * well within 24 generated tokens. The degradation words, which the model learns from the few assistive
 * training images only, take at most two pieces each, with different first pieces after the shared "▁":
 * "blurry" (b·l·ur·ry), "dim" (d·i·m) and "noisy" (no·is·y) were never generated whole by a LoRA-adapted
 * model, which wrote fragments such as "in a ly image" instead.
 */
import type { DegradationKind } from './degrade.js';
import type { SynthRandom } from './random.js';
import type { Scene, SceneObject, Shape, Size } from './scene.js';
import { ArgumentError } from '../errors.js';

/** The two domains. */
export const DOMAINS = ['clean', 'assistive'] as const;
export type Domain = (typeof DOMAINS)[number];

/** References per image, as in VizWiz-Captions and COCO. */
export const CAPTIONS_PER_IMAGE = 5;

const CLEAN_SHAPE_WORDS: Readonly<Record<Shape, readonly [string, string]>> = {
  circle: ['circle', 'circles'],
  square: ['square', 'squares'],
  triangle: ['triangle', 'triangles'],
  star: ['star', 'stars'],
  cross: ['cross', 'crosses'],
  ring: ['ring', 'rings'],
};

const ASSISTIVE_SHAPE_WORDS: Readonly<Record<Shape, readonly [string, string]>> = {
  ...CLEAN_SHAPE_WORDS,
  square: ['box', 'boxes'],
};

const SIZE_WORDS: Readonly<Record<Size, readonly string[]>> = {
  small: ['small', 'little'],
  medium: ['medium', 'medium sized'],
  large: ['large', 'big'],
};

/**
 * Words naming each degradation in assistive captions: `adjective` before "image" ("an unclear image of"),
 * `predicate` after "the image is" ("the image is too bright"). Every assistive caption uses one.
 */
export const DEGRADATION_WORDS: Readonly<Record<DegradationKind, { adjective: readonly string[]; predicate: readonly string[] }>> = {
  blur: { adjective: ['unclear'], predicate: ['unclear', 'not clear'] },
  dark: { adjective: ['dark'], predicate: ['dark', 'very dark'] },
  noise: { adjective: ['grainy'], predicate: ['grainy'] },
  glare: { adjective: ['bright'], predicate: ['bright', 'too bright'] },
};

/**
 * The words this grammar uses interchangeably in assistive captions: the synonym table of the benchmark's caption
 * augmentation, so that substitution stays within the references' vocabulary (a general table would turn
 * "image" into "photo" or "picture", words no reference uses).
 */
export const SYNTH_SYNONYM_GROUPS: readonly (readonly string[])[] = Object.freeze([
  ['small', 'little'], ['large', 'big'], ['above', 'over'], ['below', 'under'], ['row', 'line'],
]);

/** How a caption refers to one object. */
interface Words {
  shape: (o: SceneObject) => string;
  plural: (o: SceneObject) => string;
  nextTo: string;
}

const CLEAN_WORDS: Words = {
  shape: (o) => CLEAN_SHAPE_WORDS[o.shape][0],
  plural: (o) => CLEAN_SHAPE_WORDS[o.shape][1],
  nextTo: 'next to',
};

const ASSISTIVE_WORDS: Words = {
  shape: (o) => ASSISTIVE_SHAPE_WORDS[o.shape][0],
  plural: (o) => ASSISTIVE_SHAPE_WORDS[o.shape][1],
  nextTo: 'beside',
};

/** Article-free noun phrase "red circle", optionally with a size word. */
function nounPhrase(o: SceneObject, words: Words, size?: string): string {
  return `${size === undefined ? '' : `${size} `}${o.colour} ${words.shape(o)}`;
}

function listColours(colours: readonly string[]): string {
  return `${colours.slice(0, -1).join(', ')} and ${colours[colours.length - 1]}`;
}

/** Descriptions of a single object with a printed word on it (the word lower-cased). */
function wordOnObject(o: SceneObject, word: string, words: Words, sizes: readonly string[], withSizes: boolean): string[] {
  const np = nounPhrase(o, words);
  const sized = (k: number) => (withSizes ? nounPhrase(o, words, sizes[k % sizes.length]) : np);
  return [
    `a ${np} with the word ${word}`,
    `a ${sized(0)} that says ${word}`,
    `the word ${word} on a ${np}`,
    `a ${np} with ${word} written on it`,
    `a ${np} reading ${word}`,
    `a ${sized(1)} with the text ${word}`,
  ];
}

function labelDescriptions(colour: string, word: string): string[] {
  return [
    `a ${colour} label with the word ${word}`,
    `a ${colour} sign that says ${word}`,
    `the word ${word} on a ${colour} label`,
    `a ${colour} card reading ${word}`,
    `a ${colour} sign with ${word} written on it`,
    `a ${colour} label that says ${word}`,
  ];
}

function singleDescriptions(o: SceneObject, words: Words, clean: boolean): string[] {
  const sizes = SIZE_WORDS[o.size];
  const s0 = nounPhrase(o, words, sizes[0]);
  const s1 = nounPhrase(o, words, sizes[sizes.length - 1]);
  const plain = nounPhrase(o, words);
  const out = [`a ${s0}`, `a ${plain}`, `a ${s1}`, `a ${sizes[0]} ${words.shape(o)} that is ${o.colour}`];
  // sentence-like openings read badly inside "an unclear image of …", so only clean captions use them
  if (clean) out.push(`one ${s1}`, `there is a ${s0}`, `a ${s1} in the center`, `an image of a ${plain}`);
  if (o.shape === 'cross') out.push(`a ${o.colour} plus sign`);
  return out;
}

function pairDescriptions(scene: Scene, words: Words, clean: boolean): string[] {
  const [a, b] = scene.objects.map((o) => nounPhrase(o, words)) as [string, string];
  if (scene.layout === 'horizontal') {
    if (!clean) return [`a ${a} ${words.nextTo} a ${b}`, `a ${b} ${words.nextTo} a ${a}`, `a ${a} and a ${b}`];
    return [
      `a ${a} ${words.nextTo} a ${b}`, `a ${a} to the left of a ${b}`, `a ${b} to the right of a ${a}`, `a ${a} and a ${b}`,
      `a ${a} and a ${b} side by side`, `two shapes, a ${a} and a ${b}`,
    ];
  }
  const out = [`a ${a} above a ${b}`, `a ${b} below a ${a}`, `a ${a} over a ${b}`, `a ${b} under a ${a}`, `a ${a} and a ${b}`];
  if (clean) out.push(`a ${a} on top of a ${b}`);
  return out;
}

function rowDescriptions(scene: Scene, words: Words, clean: boolean): string[] {
  const first = scene.objects[0]!;
  const plural = words.plural(first);
  const colours = scene.objects.map((o) => o.colour);
  if (colours.every((c) => c === colours[0])) {
    const c = colours[0];
    const out = [`a row of three ${c} ${plural}`, `three ${c} ${plural} in a row`, `three ${c} ${plural}`, `a line of three ${c} ${plural}`, `a row of ${c} ${plural}`];
    if (clean) out.push(`three ${c} ${plural} side by side`);
    return out;
  }
  const list = listColours(colours);
  const shape = words.shape(first);
  // assistive captions also name the degradation, so their row phrases are the compact ones
  if (!clean) return [`three ${plural}: ${list}`, `${list} ${plural}`, `three ${list} ${plural}`];
  const out = [
    `a row of three ${plural}: ${list}`,
    `three ${plural} in a row: ${list}`,
    `a ${colours[0]}, a ${colours[1]} and a ${colours[2]} ${shape} in a row`,
    `${list} ${plural} in a row`,
    `a row of ${plural}: ${list}`,
  ];
  out.push(`a ${colours[0]} ${shape}, a ${colours[1]} ${shape} and a ${colours[2]} ${shape}`);
  return out;
}

/**
 * Every description of the scene's content (no degradation), in the clean or assistive style. Each one
 * mentions every object's colour and shape (or the label's colour) and the printed word when there is one.
 */
export function describeScene(scene: Scene, domain: Domain): string[] {
  const clean = domain === 'clean';
  const words = clean ? CLEAN_WORDS : ASSISTIVE_WORDS;
  if (scene.label !== undefined && scene.text !== undefined) return labelDescriptions(scene.label.colour, scene.text.word.toLowerCase());
  if (scene.layout === 'single') {
    const o = scene.objects[0]!;
    if (scene.text !== undefined) return wordOnObject(o, scene.text.word.toLowerCase(), words, SIZE_WORDS[o.size], true);
    return singleDescriptions(o, words, clean);
  }
  if (scene.layout === 'row') return rowDescriptions(scene, words, clean);
  return pairDescriptions(scene, words, clean);
}

/** An assistive frame: wraps a content phrase and names the degradation with an adjective or a predicate. */
interface Frame {
  form: 'adjective' | 'predicate';
  wrap: (x: string, d: string) => string;
  /** Only around single-object phrases, to keep captions within 24 tokens. */
  singleOnly?: boolean;
}

/** Ways an assistive caption names the degradation around a content phrase `x` with degradation word `d`. */
const ASSISTIVE_FRAMES: readonly Frame[] = [
  { form: 'adjective', wrap: (x, d) => `a ${d} image of ${x}` },
  { form: 'adjective', wrap: (x, d) => `${x} in a ${d} image` },
  { form: 'adjective', wrap: (x, d) => `a ${d} image showing ${x}` },
  { form: 'predicate', wrap: (x, d) => `${x}, the image is ${d}` },
  { form: 'adjective', wrap: (x, d) => `a ${d} close up of ${x}`, singleOnly: true },
];

/** "a orange" → "an orange" (the grammar writes "a" everywhere and fixes it here). */
export function fixArticles(caption: string): string {
  return caption.replace(/(^|\s)a (?=[aeiou])/g, '$1an ');
}

/**
 * Samples `count` distinct captions for a scene. Assistive captions need the degradation's kind; each
 * names it with one of {@link DEGRADATION_WORDS}. Throws if the grammar cannot give `count` distinct ones.
 */
export function sampleCaptions(
  scene: Scene,
  domain: Domain,
  degradation: DegradationKind | undefined,
  rng: SynthRandom,
  count = CAPTIONS_PER_IMAGE,
): string[] {
  const descriptions = rng.shuffle(describeScene(scene, domain));
  let pool: string[];
  if (domain === 'clean') {
    pool = descriptions;
  } else {
    if (degradation === undefined) throw new ArgumentError('Expected a degradation kind for assistive captions but received undefined');
    const frames = rng.shuffle(ASSISTIVE_FRAMES.filter((f) => f.singleOnly !== true || scene.objects.length <= 1));
    const degradationWords = DEGRADATION_WORDS[degradation];
    const paired = descriptions.map((x, k) => {
      const frame = frames[k % frames.length]!;
      return frame.wrap(x, rng.pick(degradationWords[frame.form]));
    });
    const all = frames.flatMap((frame) => descriptions.map((x) => frame.wrap(x, degradationWords[frame.form][0]!)));
    pool = [...paired, ...all];
  }
  const distinct = [...new Set(pool.map(fixArticles))].slice(0, count);
  if (distinct.length < count) {
    throw new Error(`The caption grammar gave ${distinct.length} distinct captions for a ${scene.layout} scene; ${count} are needed`);
  }
  return distinct;
}
