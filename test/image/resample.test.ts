import { describe, expect, it } from 'vitest';
import { resizePil } from '../../lib/image/resample.js';

describe('resizePil', () => {
  it('matches a hand-worked Pillow bicubic downscale (4x1 -> 2x1)', () => {
    // Output 0: centre 1.0, support 4, taps x=0..3 at distances -0.25, 0.25, 0.75, 1.25 (scaled by 1/2):
    // weights 0.8671875, 0.8671875, 0.2265625, -0.0703125 (sum 1.890625);
    // 255 * (0.2265625 - 0.0703125) / 1.890625 = 21.07 -> fixed point 90489587 >> 22 = 21.
    const out = resizePil({ data: Uint8Array.from([0, 0, 255, 255]), width: 4, height: 1, channels: 1 }, 2, 1, 'bicubic');
    expect([...out.data]).toEqual([21, 234]);
  });

  it('matches a hand-worked Pillow bilinear upscale (2x1 -> 4x1)', () => {
    // Centres 0.25, 0.75, 1.25, 1.75; output 1 = 0.75*0 + 0.25*255 = 63.75 -> (63.75*2^22 + 2^21) >> 22 = 64.
    const out = resizePil({ data: Uint8Array.from([0, 255]), width: 2, height: 1, channels: 1 }, 4, 1, 'bilinear');
    expect([...out.data]).toEqual([0, 64, 191, 255]);
  });

  it('keeps a constant image constant for every filter and many sizes', () => {
    let checked = 0;
    for (const filter of ['bicubic', 'bilinear', 'lanczos', 'box', 'hamming'] as const) {
      for (const [w, h, ow, oh] of [[7, 5, 3, 11], [64, 48, 32, 32], [40, 72, 224, 224], [300, 2, 13, 1]] as const) {
        const data = new Uint8Array(w * h * 3).fill(77);
        const out = resizePil({ data, width: w, height: h, channels: 3 }, ow, oh, filter);
        expect(out.data.length).toBe(ow * oh * 3);
        expect(out.data.every((v) => v === 77)).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(20);
  });

  it('returns the input when the size does not change and resizes one axis only otherwise', () => {
    const image = { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), width: 3, height: 2, channels: 1 };
    expect(resizePil(image, 3, 2)).toBe(image);
    // Vertical only, bilinear 2 -> 1 rows: centre 1.0, support 2: rows 0 and 1 weigh 0.75 each -> mean.
    expect([...resizePil(image, 3, 1, 'bilinear').data]).toEqual([3, 4, 5]);
  });

  it('clamps overshoot to 0..255 after each pass', () => {
    // A hard edge upscaled with bicubic overshoots (negative lobes); Pillow clamps rather than wraps.
    const out = resizePil({ data: Uint8Array.from([0, 0, 255, 255]), width: 4, height: 1, channels: 1 }, 16, 1, 'bicubic');
    // Without the clamp, undershoot would wrap to ~250 in a uint8 buffer and break monotonicity.
    const values = [...out.data];
    expect(values.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(values.slice(12)).toEqual([255, 255, 255, 255]);
    expect(values.every((v, i) => i === 0 || v >= values[i - 1]!)).toBe(true);
  });

  it('rejects bad sizes and mismatched buffers', () => {
    const image = { data: new Uint8Array(6), width: 3, height: 2, channels: 1 };
    expect(() => resizePil(image, 0, 2)).toThrow('Expected positive integer output size but received 0x2');
    expect(() => resizePil({ ...image, data: new Uint8Array(5) }, 1, 1)).toThrow('Pixel buffer has 5 bytes but 3x2x1 needs 6');
  });
});
