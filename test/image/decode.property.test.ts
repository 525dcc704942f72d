// Property tests of the image loader (fast-check, fixed seeds): random bytes, and random bytes behind the magic
// numbers of every format the decoder sniffs, give an RGB image or an ImageLoadError, never another error or a crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImageLoadError, loadImage } from '../../lib/image/decode.js';

/** File signatures that route the bytes into each decoder (PNG, JPEG, GIF, WebP, TIFF, BMP, SVG, AVIF/HEIF). */
const MAGIC = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0xff, 0xd8, 0xff], [0x47, 0x49, 0x46, 0x38, 0x39, 0x61],
  [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50], [0x49, 0x49, 0x2a, 0x00], [0x4d, 0x4d, 0x00, 0x2a], [0x42, 0x4d],
  [...Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"')], [0, 0, 0, 0x1c, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66],
].map((m) => Uint8Array.from(m));

async function outcome(bytes: Uint8Array): Promise<'ok' | 'invalid'> {
  try {
    const image = await loadImage(bytes, { limitInputPixels: 1 << 20 });
    expect(image.data.length).toBe(image.width * image.height * 3);
    return 'ok';
  } catch (err) {
    if (!(err instanceof ImageLoadError)) throw err;
    expect(err.message).toMatch(/^Cannot load image <Uint8Array \d+ bytes>: /);
    return 'invalid';
  }
}

describe('loadImage properties', () => {
  it('random bytes: an ImageLoadError', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
      expect(await outcome(bytes)).toBe('invalid');
    }), { numRuns: 300, seed: 20261202 });
  });

  it('random bytes behind a real file signature: an image or an ImageLoadError', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...MAGIC), fc.uint8Array({ maxLength: 512 }), async (magic, tail) => {
      const bytes = new Uint8Array(magic.length + tail.length);
      bytes.set(magic);
      bytes.set(tail, magic.length);
      await outcome(bytes);
    }), { numRuns: 400, seed: 9 });
  });

  it('raw pixel inputs with random sizes and channel counts: an image or an ImageLoadError', async () => {
    const raw = fc.record({
      width: fc.oneof(fc.integer({ min: -1, max: 8 }), fc.constant(2 ** 31), fc.double()),
      height: fc.oneof(fc.integer({ min: -1, max: 8 }), fc.constant(NaN)),
      channels: fc.integer({ min: 0, max: 5 }),
      data: fc.uint8Array({ maxLength: 300 }),
    });
    const kinds = new Set<string>();
    await fc.assert(fc.asyncProperty(raw, async (input) => {
      try {
        const image = await loadImage(input as never);
        expect(image.data.length).toBe(image.width * image.height * 3);
      } catch (err) {
        if (!(err instanceof ImageLoadError)) throw err;
        kinds.add(err.code);
      }
    }), { numRuns: 300, seed: 4 });
    expect(kinds.size).toBeGreaterThan(0);
  });
});
