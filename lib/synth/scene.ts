/**
 * Procedural scenes: what is in a synthetic image (objects, background, printed word), in "scene units"
 * — the pixels of a 64×64 clean image, origin top-left, y down. Sampling is pure: the same random stream
 * gives the same scene. {@link renderScene} in draw.ts turns a scene into pixels.
 */
import type { SynthRandom } from './random.js';

/** The six shapes. */
export const SHAPES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring'] as const;
export type Shape = (typeof SHAPES)[number];

/** The eight object colours; every name is one or two pieces for the project tokenizer. */
export const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'brown', 'black', 'gray'] as const;
export type Colour = (typeof COLOURS)[number];

/** sRGB values of the object colours. */
export const COLOUR_RGB: Readonly<Record<Colour, readonly [number, number, number]>> = {
  red: [214, 38, 38],
  orange: [245, 135, 25],
  yellow: [240, 212, 30],
  green: [40, 150, 55],
  blue: [35, 85, 210],
  brown: [125, 75, 35],
  black: [22, 22, 22],
  gray: [128, 128, 128],
};

/** The three sizes. */
export const SIZES = ['small', 'medium', 'large'] as const;
export type Size = (typeof SIZES)[number];

/** Colours of printed labels (cards with a word and no shape). */
export const LABEL_COLOURS = ['white', 'yellow'] as const;
export type LabelColour = (typeof LABEL_COLOURS)[number];

const LABEL_RGB: Readonly<Record<LabelColour, readonly [number, number, number]>> = {
  white: [250, 250, 248],
  yellow: [246, 222, 70],
};

/**
 * Printed words: short, drawable with the 5×7 font, and one piece each (lower-cased) for the project's
 * 4000-piece tokenizer, so a caption that reads them stays short.
 */
export const WORDS = [
  'STOP', 'OPEN', 'EXIT', 'PUSH', 'FREE', 'BUS', 'CAKE', 'HELP',
  'PARK', 'MAIL', 'DOG', 'CAT', 'KEY', 'NEW', 'CAR', 'FUN',
] as const;

/** How the objects are arranged. */
export type Layout = 'single' | 'horizontal' | 'vertical' | 'row';

export type Rgb = readonly [number, number, number];

/** One drawn shape. `radius` is the half-extent in scene units. */
export interface SceneObject {
  shape: Shape;
  colour: Colour;
  size: Size;
  x: number;
  y: number;
  radius: number;
  rgb: Rgb;
}

/** A card with a printed word and nothing else (like VizWiz's photos of labels). */
export interface SceneLabel {
  colour: LabelColour;
  x: number;
  y: number;
  width: number;
  height: number;
  rgb: Rgb;
  border: Rgb;
}

/** A printed word: top-left corner, cell size (scene units per font cell) and ink colour. */
export interface SceneText {
  word: string;
  /** On a shape (the single object) or on a label card. */
  on: 'object' | 'label';
  x: number;
  y: number;
  cell: number;
  ink: Rgb;
}

/** The background, defined over the whole plane so that rotated or zoomed-out views stay filled. */
export type Background =
  | { kind: 'plain'; rgb: Rgb }
  | { kind: 'gradient'; from: Rgb; to: Rgb; angle: number }
  | { kind: 'stripes'; rgb: Rgb; contrast: number; period: number; angle: number }
  | { kind: 'checker'; rgb: Rgb; contrast: number; period: number };

/** Everything in one image. Objects are listed left to right, or top to bottom for `vertical`. */
export interface Scene {
  layout: Layout;
  background: Background;
  objects: SceneObject[];
  label?: SceneLabel;
  text?: SceneText;
}

const PALE_BACKGROUNDS: readonly Rgb[] = [
  [245, 245, 242], [238, 230, 208], [212, 212, 210], [204, 220, 236], [214, 232, 208], [236, 218, 224],
];

/** Half-extent (scene units) of each size in each layout. */
const RADII: Readonly<Record<Layout, Readonly<Record<Size, number>>>> = {
  single: { small: 9, medium: 14, large: 20 },
  horizontal: { small: 7, medium: 10, large: 13 },
  vertical: { small: 7, medium: 10, large: 13 },
  row: { small: 5, medium: 7, large: 9 },
};

/** Scene-level probabilities: layouts, and printed words among single-object scenes. */
const LAYOUT_WEIGHTS: Readonly<Record<Layout, number>> = { single: 0.4, horizontal: 0.2, vertical: 0.15, row: 0.25 };
const LABEL_PROBABILITY = 0.2;
const WORD_ON_OBJECT_PROBABILITY = 0.25;

const LIGHT_COLOURS: ReadonlySet<Colour> = new Set(['yellow', 'orange']);

function jitterRgb(rng: SynthRandom, rgb: Rgb, amount: number): Rgb {
  const d = () => Math.round(rng.uniform(-amount, amount));
  return [clampByte(rgb[0] + d()), clampByte(rgb[1] + d()), clampByte(rgb[2] + d())];
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Samples a background: plain, a gradient between two pale colours, stripes or a checkerboard. */
export function sampleBackground(rng: SynthRandom): Background {
  const base = jitterRgb(rng, rng.pick(PALE_BACKGROUNDS), 8);
  switch (rng.weighted([0.45, 0.3, 0.15, 0.1])) {
    case 0:
      return { kind: 'plain', rgb: base };
    case 1:
      return { kind: 'gradient', from: base, to: jitterRgb(rng, rng.pick(PALE_BACKGROUNDS), 8), angle: rng.uniform(0, 2 * Math.PI) };
    case 2:
      return { kind: 'stripes', rgb: base, contrast: rng.uniform(8, 18), period: rng.uniform(5, 10), angle: rng.uniform(0, Math.PI) };
    default:
      return { kind: 'checker', rgb: base, contrast: rng.uniform(8, 16), period: rng.uniform(6, 11) };
  }
}

function makeObject(rng: SynthRandom, layout: Layout, shape: Shape, colour: Colour, size: Size, x: number, y: number): SceneObject {
  return { shape, colour, size, x, y, radius: RADII[layout][size], rgb: jitterRgb(rng, COLOUR_RGB[colour], 10) };
}

function randomObject(rng: SynthRandom, layout: Layout, x: number, y: number): SceneObject {
  return makeObject(rng, layout, rng.pick(SHAPES), rng.pick(COLOURS), rng.pick(SIZES), x, y);
}

/** Samples a whole scene: layout, objects, background and (sometimes) a printed word. */
export function sampleScene(rng: SynthRandom): Scene {
  const layouts = Object.keys(LAYOUT_WEIGHTS) as Layout[];
  const layout = layouts[rng.weighted(layouts.map((l) => LAYOUT_WEIGHTS[l]))]!;
  const background = sampleBackground(rng);
  const jitter = () => rng.uniform(-1.5, 1.5);
  switch (layout) {
    case 'single':
      return sampleSingle(rng, background, 32 + jitter(), 32 + jitter());
    case 'horizontal':
    case 'vertical': {
      const offset = rng.uniform(14, 17);
      const [dx, dy] = layout === 'horizontal' ? [offset, 0] : [0, offset];
      const cx = 32 + jitter();
      const cy = 32 + jitter();
      const first = randomObject(rng, layout, cx - dx, cy - dy);
      let second = randomObject(rng, layout, cx + dx, cy + dy);
      while (second.shape === first.shape && second.colour === first.colour) second = randomObject(rng, layout, cx + dx, cy + dy);
      return { layout, background, objects: [first, second] };
    }
    case 'row': {
      const shape = rng.pick(SHAPES);
      const sameColour = rng.chance(0.3) ? rng.pick(COLOURS) : undefined;
      const cy = 32 + jitter();
      const objects = [12, 32, 52].map((x) =>
        makeObject(rng, layout, shape, sameColour ?? rng.pick(COLOURS), rng.pick(SIZES), x + jitter() * 0.5, cy),
      );
      return { layout, background, objects };
    }
  }
}

function sampleSingle(rng: SynthRandom, background: Background, x: number, y: number): Scene {
  const draw = rng.next();
  if (draw < LABEL_PROBABILITY) {
    const word = rng.pick(WORDS);
    const colour = rng.pick(LABEL_COLOURS);
    const cell = rng.uniform(1.5, 1.9);
    const textWidth = (word.length * 6 - 1) * cell;
    const width = textWidth + 2 * rng.uniform(3.5, 6);
    const height = 7 * cell + 2 * rng.uniform(3.5, 5.5);
    const label: SceneLabel = { colour, x, y, width, height, rgb: jitterRgb(rng, LABEL_RGB[colour], 5), border: [60, 60, 60] };
    const text: SceneText = { word, on: 'label', x: x - textWidth / 2, y: y - 3.5 * cell, cell, ink: [20, 20, 20] };
    return { layout: 'single', background, objects: [], label, text };
  }
  if (draw < LABEL_PROBABILITY + WORD_ON_OBJECT_PROBABILITY) {
    const word = rng.pick(WORDS);
    const object = makeObject(rng, 'single', rng.pick(['square', 'circle'] as const), rng.pick(COLOURS), 'large', x, y);
    // text fits inside the square (half-side 0.85 r) or the circle's inscribed square (r / √2)
    const half = object.shape === 'square' ? 0.85 * object.radius : object.radius / Math.SQRT2;
    const cells = word.length * 6 - 1;
    const cell = Math.min(1.7, (2 * half - 3) / cells);
    const ink: Rgb = LIGHT_COLOURS.has(object.colour) ? [20, 20, 20] : [250, 250, 250];
    const text: SceneText = { word, on: 'object', x: x - (cells * cell) / 2, y: y - 3.5 * cell, cell, ink };
    return { layout: 'single', background, objects: [object], text };
  }
  return { layout: 'single', background, objects: [randomObject(rng, 'single', x, y)] };
}
