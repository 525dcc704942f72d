import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { sniffImage, UnsupportedMediaError } from '../../lib/serve/sniff.js';
import { TINY } from '../helpers/paths.js';

const NOT_AN_IMAGE = 'The upload is not an image: its first bytes match no supported format (the file name and Content-Type are not trusted); send JPEG, PNG, GIF, WebP, TIFF or AVIF';
const SVG = 'SVG and other XML uploads are refused (they can reference external resources); send JPEG, PNG, GIF, WebP, TIFF or AVIF';

describe('sniffImage', () => {
  it('recognises the fixture images and sharp-encoded formats by their bytes', async () => {
    expect(sniffImage(readFileSync(join(TINY, 'images', 'img0_rgb_64x48.png')))).toBe('png');
    expect(sniffImage(readFileSync(join(TINY, 'images', 'img1_rgb_40x72.jpg')))).toBe('jpeg');
    const pixels = sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } });
    expect(sniffImage(await pixels.clone().webp().toBuffer())).toBe('webp');
    expect(sniffImage(await pixels.clone().gif().toBuffer())).toBe('gif');
    expect(sniffImage(await pixels.clone().tiff().toBuffer())).toBe('tiff');
    expect(sniffImage(await pixels.clone().avif().toBuffer())).toBe('avif');
  });

  it('refuses text, SVG, empty and other ISO media with clear messages', () => {
    expect(() => sniffImage(Buffer.from('hello, I am a PNG (not)'))).toThrow(new UnsupportedMediaError(NOT_AN_IMAGE));
    expect(() => sniffImage(Buffer.from('\uFEFF  <svg xmlns="http://www.w3.org/2000/svg"/>'))).toThrow(new UnsupportedMediaError(SVG));
    expect(() => sniffImage(Buffer.from('<?xml version="1.0"?><svg/>'))).toThrow(new UnsupportedMediaError(SVG));
    expect(() => sniffImage(Buffer.alloc(0))).toThrow(new UnsupportedMediaError('The upload is empty: send the image bytes (JPEG, PNG, GIF, WebP, TIFF or AVIF)'));
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom'), Buffer.alloc(12)]);
    expect(() => sniffImage(mp4)).toThrow(new UnsupportedMediaError(
      'The upload is an ISO media file of brand "isom", not an image this server decodes; send JPEG, PNG, GIF, WebP, TIFF or AVIF',
    ));
    // a truncated PNG signature is not a PNG
    expect(() => sniffImage(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toThrow(new UnsupportedMediaError(NOT_AN_IMAGE));
  });
});
