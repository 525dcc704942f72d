/**
 * A 5×7 bitmap font for A–Z and 0–9, shipped in code so printed words never depend on system fonts.
 * Each glyph is seven rows of five cells, top to bottom; `#` is ink.
 */
import { ArgumentError } from '../errors.js';

/** Glyph width in cells. */
export const GLYPH_WIDTH = 5;
/** Glyph height in cells. */
export const GLYPH_HEIGHT = 7;
/** Blank cells between two glyphs. */
export const GLYPH_SPACING = 1;

const GLYPH_ROWS: Record<string, string> = {
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
};

/** Characters the font can draw. */
export const FONT_CHARACTERS: readonly string[] = Object.keys(GLYPH_ROWS);

/** Glyph bitmaps: 35 cells, row-major, 1 = ink. */
const GLYPHS: ReadonlyMap<string, Uint8Array> = new Map(
  Object.entries(GLYPH_ROWS).map(([ch, rows]) => [ch, Uint8Array.from(rows.replaceAll(' ', ''), (c) => (c === '#' ? 1 : 0))]),
);

/** The glyph of one character (upper-cased); throws for characters outside A–Z and 0–9. */
export function glyph(ch: string): Uint8Array {
  const g = GLYPHS.get(ch.toUpperCase());
  if (g === undefined) {
    throw new ArgumentError(`Expected a character in A-Z or 0-9 for glyph but received ${JSON.stringify(ch)} of type string`);
  }
  return g;
}

/** Width of a word in cells (glyphs plus spacing). */
export function textWidthCells(word: string): number {
  return word.length * (GLYPH_WIDTH + GLYPH_SPACING) - GLYPH_SPACING;
}

/**
 * A word laid out as one bitmap of `textWidthCells(word)` × 7 cells, row-major, 1 = ink, so that a
 * renderer can test a point against the whole word with one lookup.
 */
export function wordBitmap(word: string): { width: number; height: number; cells: Uint8Array } {
  const width = textWidthCells(word);
  const cells = new Uint8Array(width * GLYPH_HEIGHT);
  [...word].forEach((ch, k) => {
    const g = glyph(ch);
    const x0 = k * (GLYPH_WIDTH + GLYPH_SPACING);
    for (let y = 0; y < GLYPH_HEIGHT; y++) {
      for (let x = 0; x < GLYPH_WIDTH; x++) cells[y * width + x0 + x] = g[y * GLYPH_WIDTH + x]!;
    }
  });
  return { width, height: GLYPH_HEIGHT, cells };
}
