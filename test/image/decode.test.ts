import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { compositeOnWhite } from '../../lib/image/colour.js';
import { DEFAULT_LIMIT_INPUT_PIXELS, ImageLoadError, loadImage } from '../../lib/image/decode.js';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';
import type { Logger } from '../../lib/logger.js';

const fixtures = fileURLToPath(new URL('../fixtures/blip2-tiny/', import.meta.url));
const IMAGES = ['img0_rgb_64x48.png', 'img1_rgb_40x72.jpg', 'img2_gray_50x50.png', 'img3_rgba_30x60.png'];
const tmp = mkdtempSync(join(tmpdir(), 'blip2-decode-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Solid-colour RGB raw pixels. */
function solid(width: number, height: number, rgb: [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return data;
}

/** Deterministic noise, so compressed test files are not trivially small. */
function noise(width: number, height: number, channels: number): Buffer {
  const data = Buffer.alloc(width * height * channels);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return data;
}

function pixelAt(image: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return [...image.data.subarray(i, i + 3)];
}

function maxChannelDiff(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
}

function collectingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn(message) { warnings.push(message); } };
}

describe('loadImage: fixture images against PIL + convert_to_rgb', () => {
  it('decodes every fixture image to the golden RGB (PNG exact, JPEG within 1)', async () => {
    const golden = await readSafetensorsFile(`${fixtures}images-golden.safetensors`);
    const summary: string[] = [];
    for (const [index, file] of IMAGES.entries()) {
      const image = await loadImage(`${fixtures}images/${file}`);
      const expected = golden.tensors.get(`img${index}.decoded_rgb_u8`)!;
      expect([image.height, image.width, 3]).toEqual(expected.shape);
      let differing = 0;
      let maxDiff = 0;
      for (let i = 0; i < image.data.length; i++) {
        const d = Math.abs(image.data[i]! - (expected.data[i] as number));
        if (d > 0) differing++;
        maxDiff = Math.max(maxDiff, d);
      }
      summary.push(`${file}: ${differing}/${image.data.length} values differ, max ${maxDiff}`);
      if (file.endsWith('.png')) expect(differing).toBe(0);
      else expect(maxDiff).toBeLessThanOrEqual(1);
    }
    console.log(`decoded RGB vs PIL:\n  ${summary.join('\n  ')}`);
  });

  it('drops alpha like PIL convert("RGB") by default, or composites onto white with alpha: "white"', async () => {
    const path = `${fixtures}images/img3_rgba_30x60.png`;
    const raw = await sharp(path).raw().toBuffer();
    const dropped = await loadImage(path);
    const white = await loadImage(path, { alpha: 'white' });
    // Row 0 is fully transparent: its colour survives a drop, becomes white when composited.
    expect(pixelAt(dropped, 0, 0)).toEqual([raw[0], raw[1], raw[2]]);
    expect(pixelAt(white, 0, 0)).toEqual([255, 255, 255]);
    const i = 30 * 20 * 4; // row 20, column 0
    const alpha = raw[i + 3]!;
    expect(alpha).toBeGreaterThan(0);
    expect(alpha).toBeLessThan(255);
    expect(pixelAt(white, 0, 20)).toEqual([0, 1, 2].map((c) => compositeOnWhite(raw[i + c]!, alpha)));
  });

  it('composites with Pillow alpha_composite arithmetic (hand-worked values)', () => {
    // coef1 = a*128, coef2 = (255-a)*128; (v*coef1 + 255*coef2 + 16384) / 255 rounded via shifts, >> 7.
    expect(compositeOnWhite(0, 128)).toBe(127);
    expect(compositeOnWhite(0, 255)).toBe(0);
    expect(compositeOnWhite(200, 0)).toBe(255);
    expect(compositeOnWhite(100, 1)).toBe(254);
    expect(compositeOnWhite(10, 254)).toBe(11);
  });
});

describe('loadImage: inputs and formats', () => {
  it('accepts raw L, LA, RGB and RGBA pixels', async () => {
    const l = await loadImage({ data: Uint8Array.from([7, 9]), width: 2, height: 1, channels: 1 });
    expect([...l.data]).toEqual([7, 7, 7, 9, 9, 9]);
    const la = await loadImage({ data: Uint8Array.from([7, 0, 9, 255]), width: 2, height: 1, channels: 2 });
    expect([...la.data]).toEqual([7, 7, 7, 9, 9, 9]);
    const rgba = await loadImage({ data: Uint8Array.from([1, 2, 3, 0]), width: 1, height: 1, channels: 4 }, { alpha: 'white' });
    expect([...rgba.data]).toEqual([255, 255, 255]);
    const rgb = await loadImage({ data: Uint8Array.from([1, 2, 3]), width: 1, height: 1, channels: 3 });
    expect([...rgb.data]).toEqual([1, 2, 3]);
  });

  it('returns an image that can be passed back as raw input', async () => {
    const image = await loadImage(`${fixtures}images/img2_gray_50x50.png`);
    expect([image.width, image.height, image.channels]).toEqual([50, 50, 3]);
    const again = await loadImage(image);
    expect(Buffer.compare(Buffer.from(again.data), Buffer.from(image.data))).toBe(0);
  });

  it('decodes a Buffer the same as its file', async () => {
    const path = `${fixtures}images/img1_rgb_40x72.jpg`;
    const fromFile = await loadImage(path);
    const fromBuffer = await loadImage(await import('node:fs').then((fs) => fs.readFileSync(path)));
    expect(Buffer.compare(Buffer.from(fromFile.data), Buffer.from(fromBuffer.data))).toBe(0);
  });

  it('decodes lossless WebP, GIF, TIFF exactly and AVIF within codec tolerance', async () => {
    const colour: [number, number, number] = [200, 60, 30];
    const base = () => sharp(solid(16, 8, colour), { raw: { width: 16, height: 8, channels: 3 } });
    const encoded = {
      webp: await base().webp({ lossless: true }).toBuffer(),
      gif: await base().gif().toBuffer(),
      tiff: await base().tiff({ compression: 'lzw' }).toBuffer(),
      avif: await base().avif({ quality: 90 }).toBuffer(),
    };
    const tolerance = { webp: 0, gif: 0, tiff: 0, avif: 4 };
    for (const [format, bytes] of Object.entries(encoded)) {
      const image = await loadImage(bytes);
      expect([format, image.width, image.height]).toEqual([format, 16, 8]);
      const diff = maxChannelDiff(pixelAt(image, 5, 5), colour);
      console.log(`${format}: solid colour decoded within ${diff}`);
      expect(diff).toBeLessThanOrEqual(tolerance[format as keyof typeof tolerance]);
    }
  });

  it('takes the first frame of an animated GIF', async () => {
    const frames = Buffer.concat([solid(4, 4, [255, 0, 0]), solid(4, 4, [0, 0, 255])]);
    const gif = await sharp(frames, { raw: { width: 4, height: 8, channels: 3, pageHeight: 4 } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await loadImage(gif);
    expect([image.width, image.height]).toEqual([4, 4]);
    expect(pixelAt(image, 1, 1)).toEqual([255, 0, 0]);
  });

  it('reduces 16-bit RGB PNG and TIFF to the high byte, as PIL\'s RGB;16B unpacker', async () => {
    const values = Uint16Array.from([0x12ff, 0x8001, 0xffff, 0x00ff, 0x0100, 0x7f80]);
    for (const format of ['png', 'tiff'] as const) {
      const pipeline = sharp(values, { raw: { width: 2, height: 1, channels: 3 } }).toColourspace('rgb16');
      const bytes = format === 'png' ? await pipeline.png().toBuffer() : await pipeline.tiff({ compression: 'lzw' }).toBuffer();
      expect((await sharp(bytes).metadata()).depth).toBe('ushort');
      const image = await loadImage(bytes);
      expect([format, ...image.data]).toEqual([format, 0x12, 0x80, 0xff, 0x00, 0x01, 0x7f]);
    }
  });

  it('clamps 16-bit greyscale at 255 like PIL (I;16 -> RGB) by default and warns; grey16: "scale" keeps the high byte', async () => {
    const values = Uint16Array.from([0, 100, 255, 256, 40000, 65535]);
    const png = await sharp(values, { raw: { width: 6, height: 1, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const logger = collectingLogger();
    const pil = await loadImage(png, { logger });
    expect([...pil.data].filter((_, i) => i % 3 === 0)).toEqual([0, 100, 255, 255, 255, 255]);
    expect(logger.warnings).toEqual([
      "16-bit greyscale image: 3 of 6 pixels above 255 were clamped to 255 as Pillow does; pass grey16: 'scale' to keep the high byte instead",
    ]);
    const scaled = await loadImage(png, { grey16: 'scale' });
    expect([...scaled.data].filter((_, i) => i % 3 === 0)).toEqual([0, 0, 0, 1, 156, 255]);
  });

  it('converts CMYK JPEG with PIL\'s naive cmyk2rgb on the stored CMYK values', async () => {
    const rgb = sharp(solid(16, 16, [200, 60, 30]), { raw: { width: 16, height: 16, channels: 3 } });
    const jpeg = await rgb.clone().toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(jpeg).metadata()).space).toBe('cmyk');
    const stored = await sharp(jpeg).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer();
    const [c, m, y, k] = [...stored.subarray(0, 4)] as [number, number, number, number];
    const nk = 255 - k;
    // Pillow: R = nk - MULDIV255(C, nk), exact rounding of C*nk/255.
    const expected = [c, m, y].map((v) => nk - Math.round((v * nk) / 255));
    const image = await loadImage(jpeg);
    expect(pixelAt(image, 8, 8)).toEqual(expected);
    // And it is still recognisably the colour we started from (naive CMYK is not colour-managed).
    expect(maxChannelDiff(pixelAt(image, 8, 8), [200, 60, 30])).toBeLessThanOrEqual(40);
  });

  it('ignores EXIF orientation by default and applies it with autoOrient', async () => {
    const jpeg = await sharp(solid(4, 2, [10, 20, 30]), { raw: { width: 4, height: 2, channels: 3 } })
      .jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const plain = await loadImage(jpeg);
    expect([plain.width, plain.height]).toEqual([4, 2]);
    const oriented = await loadImage(jpeg, { autoOrient: true });
    expect([oriented.width, oriented.height]).toEqual([2, 4]);
  });

  it('drops the alpha of grey+alpha and palette PNGs, keeping the stored colour as PIL convert("RGB")', async () => {
    // LA: grey 40 fully transparent, grey 200 half transparent.
    const la = await sharp(Uint8Array.from([40, 0, 200, 128]), { raw: { width: 2, height: 1, channels: 2 } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(la).metadata()).channels).toBe(2);
    expect([...(await loadImage(la)).data]).toEqual([40, 40, 40, 200, 200, 200]);
    expect([...(await loadImage(la, { alpha: 'white' })).data]).toEqual([255, 255, 255, ...Array(3).fill(compositeOnWhite(200, 128))]);
    // Palette PNG with a tRNS entry: two exact colours, one fully transparent.
    const rgba = Uint8Array.from([255, 0, 0, 0, 0, 0, 255, 255]);
    const palette = await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png({ palette: true, colours: 2, dither: 0 }).toBuffer();
    expect((await sharp(palette).metadata()).isPalette).toBe(true);
    // The quantiser picks the stored colour of the transparent entry; PIL's P -> RGB keeps it, so do we.
    const stored = await sharp(palette).raw().toBuffer();
    expect([stored[3], stored[7]]).toEqual([0, 255]);
    expect([...(await loadImage(palette)).data]).toEqual([stored[0], stored[1], stored[2], 0, 0, 255]);
    expect([...(await loadImage(palette, { alpha: 'white' })).data]).toEqual([255, 255, 255, 0, 0, 255]);
  });

  it('renders SVG only when allowSvg is true', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="4"><rect width="8" height="4" fill="#00ff00"/></svg>');
    const image = await loadImage(svg, { allowSvg: true });
    expect([image.width, image.height, ...pixelAt(image, 2, 2)]).toEqual([8, 4, 0, 255, 0]);
  });
});

/** A PNG whose IHDR claims `width`×`height` (valid CRCs, tiny IDAT). */
function pngHeader(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('loadImage: bad input is refused with the input and the reason', () => {
  const write = (name: string, bytes: Uint8Array | string) => {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    return path;
  };

  const expectLoadError = async (input: Parameters<typeof loadImage>[0], message: string, code: string, options?: Parameters<typeof loadImage>[1]) => {
    const error = await loadImage(input, options).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImageLoadError);
    expect((error as ImageLoadError).message).toBe(message);
    expect((error as ImageLoadError).code).toBe(code);
  };

  it('empty file and empty buffer', async () => {
    const path = write('empty.png', '');
    await expectLoadError(path, `Cannot load image ${JSON.stringify(path)}: file is empty (0 bytes)`, 'EMPTY');
    await expectLoadError(Buffer.alloc(0), 'Cannot load image <Buffer 0 bytes>: no data (0 bytes)', 'EMPTY');
  });

  it('not an image', async () => {
    const path = write('notes.jpg', 'this is not an image, just text\n');
    await expectLoadError(path, `Cannot load image ${JSON.stringify(path)}: not a recognised image format`, 'UNSUPPORTED_FORMAT');
    await expectLoadError(new Uint8Array(1234), 'Cannot load image <Uint8Array 1234 bytes>: not a recognised image format', 'UNSUPPORTED_FORMAT');
  });

  it('truncated JPEG and PNG', async () => {
    const pixels = noise(64, 64, 3);
    const jpeg = await sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
    const png = await sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    const jpegCut = jpeg.subarray(0, jpeg.length >> 1);
    const pngCut = png.subarray(0, png.length >> 1);
    await expectLoadError(jpegCut, `Cannot load image <Buffer ${jpegCut.length} bytes>: truncated or corrupt image data`, 'CORRUPT');
    await expectLoadError(pngCut, `Cannot load image <Buffer ${pngCut.length} bytes>: truncated or corrupt image data`, 'CORRUPT');
    const path = write('cut.jpg', jpegCut);
    await expectLoadError(path, `Cannot load image ${JSON.stringify(path)}: truncated or corrupt image data`, 'CORRUPT');
  });

  it('a header claiming 60000x60000 pixels, refused before decoding', async () => {
    const bomb = pngHeader(60000, 60000);
    await expectLoadError(
      bomb,
      `Cannot load image <Buffer ${bomb.length} bytes>: 60000x60000 = 3600000000 pixels exceeds limitInputPixels ${DEFAULT_LIMIT_INPUT_PIXELS}`,
      'TOO_MANY_PIXELS',
    );
    const small = await sharp(solid(20, 10, [1, 2, 3]), { raw: { width: 20, height: 10, channels: 3 } }).png().toBuffer();
    await expectLoadError(small, `Cannot load image <Buffer ${small.length} bytes>: 20x10 = 200 pixels exceeds limitInputPixels 199`, 'TOO_MANY_PIXELS', { limitInputPixels: 199 });
    expect((await loadImage(small, { limitInputPixels: 200 })).width).toBe(20);
  });

  it('SVG without allowSvg', async () => {
    const path = write('drawing.svg', '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    await expectLoadError(path, `Cannot load image ${JSON.stringify(path)}: SVG input is refused unless allowSvg is true`, 'SVG_REFUSED');
  });

  it('zero-size raw pixels and malformed raw objects', async () => {
    await expectLoadError({ data: new Uint8Array(0), width: 0, height: 10, channels: 3 }, 'Cannot load image <raw 0x10x3>: zero-size image (0x10)', 'ZERO_SIZE');
    await expectLoadError({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 }, 'Cannot load image <raw 2x1x3>: data has 5 bytes but 2x1x3 needs 6', 'INVALID_INPUT');
    await expectLoadError({ data: new Uint8Array(5), width: 5, height: 1, channels: 5 as 4 }, 'Cannot load image <raw 5x1x5>: channels must be 1, 2, 3 or 4', 'INVALID_INPUT');
  });

  it('unreadable path and directory', async () => {
    const missing = join(tmp, 'missing.png');
    await expectLoadError(missing, `Cannot load image ${JSON.stringify(missing)}: no such file`, 'NOT_FOUND');
    const dir = join(tmp, 'a-directory.png');
    mkdirSync(dir);
    await expectLoadError(dir, `Cannot load image ${JSON.stringify(dir)}: is a directory, not a file`, 'NOT_A_FILE');
  });

  it('rejects unknown and invalid options', async () => {
    await expect(loadImage(Buffer.alloc(1), { autoRotate: true } as never)).rejects.toThrow(
      'Unknown option "autoRotate" in loadImage options; expected one of "autoOrient", "limitInputPixels", "allowSvg", "alpha", "grey16", "failOn", "logger"',
    );
    await expect(loadImage(Buffer.alloc(1), { alpha: 'black' as never })).rejects.toThrow(
      'Expected one of "drop", "white" for alpha but received "black" of type string',
    );
  });
});
