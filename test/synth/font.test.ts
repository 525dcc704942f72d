// The 5×7 bitmap font: glyph data, word layout and the rendered pixels of a word (hand-worked values).
import { describe, expect, it } from 'vitest';
import { renderScene } from '../../lib/synth/draw.js';
import { FONT_CHARACTERS, glyph, textWidthCells, wordBitmap } from '../../lib/synth/font.js';
import type { Scene } from '../../lib/synth/scene.js';

const WHITE = [250, 250, 250] as const;
const INK = [20, 20, 20] as const;

function wordScene(word: string, x: number, y: number, cell: number): Scene {
  return {
    layout: 'single',
    background: { kind: 'plain', rgb: WHITE },
    objects: [],
    text: { word, on: 'label', x, y, cell, ink: INK },
  };
}

describe('bitmap font', () => {
  it('has 36 glyphs of 5×7 cells', () => {
    expect(FONT_CHARACTERS.length).toBe(36);
    expect([...FONT_CHARACTERS].sort().join('')).toBe('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    for (const ch of FONT_CHARACTERS) expect([ch, glyph(ch).length]).toEqual([ch, 35]);
  });

  it('draws T as a full top row and a centre stem', () => {
    expect(Array.from(glyph('T'))).toEqual([
      1, 1, 1, 1, 1,
      0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0,
    ]);
    expect(glyph('t')).toBe(glyph('T'));
  });

  it('rejects characters outside A-Z and 0-9', () => {
    expect(() => glyph('?')).toThrow('Expected a character in A-Z or 0-9 for glyph but received "?" of type string');
  });

  it('lays words out with one blank column between glyphs', () => {
    expect(textWidthCells('STOP')).toBe(23);
    const bitmap = wordBitmap('HI');
    expect([bitmap.width, bitmap.height]).toEqual([11, 7]);
    // H row 3 is "#####", then the spacing column, then I row 3 "..#.."
    expect(Array.from(bitmap.cells.subarray(3 * 11, 4 * 11))).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0]);
  });

  it('renders a word: 4-pixel cells are solid ink or background', () => {
    // "T" at (10, 8) with 4-pixel cells: top bar = x 10..30, y 8..12; stem = x 18..22, y 12..36
    const image = renderScene(wordScene('T', 10, 8, 4));
    const px = (x: number, y: number) => Array.from(image.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3));
    expect(px(10, 8)).toEqual([...INK]);
    expect(px(29, 11)).toEqual([...INK]);
    expect(px(20, 30)).toEqual([...INK]);
    expect(px(14, 20)).toEqual([...WHITE]);
    expect(px(30, 8)).toEqual([...WHITE]);
    expect(px(20, 36)).toEqual([...WHITE]);
    let inked = 0;
    for (let i = 0; i < 64 * 64; i++) if (image.data[i * 3] === INK[0]) inked++;
    expect(inked).toBe(11 * 16); // 5 + 6 cells of 4×4 pixels
  });

  it('anti-aliases a half-covered pixel to the mean of ink and background', () => {
    // shifted by half a pixel: the left edge of the bar cuts pixel column 10 in two
    const image = renderScene(wordScene('T', 10.5, 8, 4));
    expect(image.data[(9 * 64 + 10) * 3]).toBe((INK[0] + WHITE[0]) / 2);
    expect(image.data[(9 * 64 + 11) * 3]).toBe(INK[0]);
  });
});
