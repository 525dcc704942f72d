import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../lib/random.js';
import {
  adjustBrightness, adjustContrast, adjustHue, adjustSaturation, augmentImage, grayscale, hflip, luma,
  PAPER_IMAGE_AUGMENT, parseImageAugmentSpec, resizedCrop, rotate, sampleCropBox, sampleImageAugment, sampleJitter,
} from '../../lib/image/augment.js';
import { corruptImage } from '../../lib/image/corrupt.js';
import type { RgbImage } from '../../lib/image/decode.js';
import { ImageWorkerPool } from '../../lib/image/pool.js';
import { BlipImageProcessor } from '../../lib/image/processor.js';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';
import { resizePil } from '../../lib/image/resample.js';

const fixtures = fileURLToPath(new URL('../fixtures/blip2-tiny/', import.meta.url));
const goldenJson = JSON.parse(readFileSync(`${fixtures}images-golden.json`, 'utf8')) as { processor_tiny: Record<string, unknown> };
const pool = new ImageWorkerPool({ size: 2 });
afterAll(() => pool.close());

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { data, width, height, channels: 3 };
}

/** A deterministic textured test image: gradients plus a hash pattern. */
function textured(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255 / (width - 1)) | 0;
      data[i + 1] = (y * 255 / (height - 1)) | 0;
      data[i + 2] = (Math.imul(x * 73 + y * 151, 2654435761) >>> 24) & 255;
    }
  }
  return { data, width, height, channels: 3 };
}

/** Left half red, right half blue. */
function redBlue(width: number, height: number): RgbImage {
  const image = solid(width, height, [255, 0, 0]);
  for (let y = 0; y < height; y++) for (let x = width / 2; x < width; x++) image.data.set([0, 0, 255], (y * width + x) * 3);
  return image;
}

function pixel(image: RgbImage, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('augmentImage', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const image = textured(40, 30);
    const a = augmentImage(image, PAPER_IMAGE_AUGMENT, 42);
    const b = augmentImage(image, PAPER_IMAGE_AUGMENT, 42);
    const c = augmentImage(image, PAPER_IMAGE_AUGMENT, 43);
    expect(Buffer.compare(a.image.data, b.image.data)).toBe(0);
    expect(a.params).toEqual(b.params);
    expect(Buffer.compare(a.image.data, c.image.data)).not.toBe(0);
    // the paper's RandomResizedCrop(384): a 384×384 square whatever the input size
    expect([a.image.width, a.image.height, a.image.channels]).toEqual([384, 384, 3]);
  });

  it('draws flips at p=0.5 and greyscale at p=0.1 (2000 seeds)', () => {
    let flips = 0;
    let greys = 0;
    for (let seed = 0; seed < 2000; seed++) {
      const p = sampleImageAugment(PAPER_IMAGE_AUGMENT, 64, 48, seed);
      flips += p.flip ? 1 : 0;
      greys += p.grayscale ? 1 : 0;
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(10);
    }
    console.log(`flip rate ${flips / 2000}, greyscale rate ${greys / 2000}`);
    expect(Math.abs(flips / 2000 - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(greys / 2000 - 0.1)).toBeLessThan(0.025);
  });

  it('switching one transform off does not change the others\' draws', () => {
    const all = sampleImageAugment(PAPER_IMAGE_AUGMENT, 64, 48, 7);
    const noCrop = sampleImageAugment({ ...PAPER_IMAGE_AUGMENT, crop: false }, 64, 48, 7);
    expect(noCrop.crop).toBe(null);
    expect([noCrop.flip, noCrop.angle, noCrop.jitter, noCrop.grayscale]).toEqual([all.flip, all.angle, all.jitter, all.grayscale]);
  });

  it('reports flipped and mirrors exactly when hflip = 1; an empty spec leaves the pixels unchanged', () => {
    const image = redBlue(8, 4);
    const flipped = augmentImage(image, { hflip: 1 }, 1);
    expect(flipped.flipped).toBe(true);
    expect([pixel(flipped.image, 0, 0), pixel(flipped.image, 7, 3)]).toEqual([[0, 0, 255], [255, 0, 0]]);
    const none = augmentImage(image, {}, 1);
    expect(none.flipped).toBe(false);
    expect(Buffer.compare(none.image.data, image.data)).toBe(0);
  });

  it('rejects bad specs and seeds with exact messages', () => {
    const image = solid(4, 4, [1, 2, 3]);
    expect(() => augmentImage(image, { hflip: 2 }, 1)).toThrow('Expected number between 0 and 1 for hflip but received 2 of type number');
    expect(() => augmentImage(image, { flip: 0.5 } as never, 1)).toThrow(
      'Unknown option "flip" in image augment spec; expected one of "crop", "hflip", "rotate", "rotateFill", "rotateInterpolation", "colorJitter", "grayscale"',
    );
    expect(() => augmentImage(image, { crop: { scale: [0.9, 0.8], ratio: [1, 1] } }, 1)).toThrow(
      'Expected [min, max] with 0 < min <= max <= 1 for crop.scale but received an array of length 2',
    );
    expect(() => augmentImage(image, { colorJitter: { brightness: 0.2, contrast: 0, saturation: 0, hue: 0.6 } }, 1)).toThrow(
      'Expected number between 0 and 0.5 for colorJitter.hue but received 0.6 of type number',
    );
    expect(() => augmentImage(image, {}, -1)).toThrow('Expected integer between 0 and 9007199254740991 for seed but received -1 of type number');
    expect(() => augmentImage({ ...image, channels: 4 } as never, {}, 1)).toThrow('Expected 3 for image.channels but received 4 of type number');
    expect(parseImageAugmentSpec({ rotate: 10 })).toEqual({
      crop: false, hflip: 0, rotate: 10, rotateFill: 'black', rotateInterpolation: 'nearest', colorJitter: false, grayscale: 0,
    });
    // without rotation the interpolation is left out, so specs normalise as before the option existed
    expect(parseImageAugmentSpec({ hflip: 0.5 })).toEqual({ crop: false, hflip: 0.5, rotate: 0, rotateFill: 'black', colorJitter: false, grayscale: 0 });
    expect(() => parseImageAugmentSpec({ rotate: 10, rotateInterpolation: 'bicubic' })).toThrow(
      'Expected one of "nearest", "bilinear" for rotateInterpolation but received "bicubic"',
    );
    expect(() => parseImageAugmentSpec({ crop: { scale: [0.8, 1], ratio: [1, 1], size: 0 } })).toThrow(
      "Expected 'input' or integer between 1 and 32768 for crop.size but received 0 of type number",
    );
    expect(() => parseImageAugmentSpec({ rotate: 10, rotateFill: 'zero' })).toThrow('Expected one of "black", "edge" for rotateFill but received "zero"');
  });
});

describe('RandomResizedCrop', () => {
  it('samples boxes inside the image with torchvision\'s area and ratio ranges', () => {
    const rng = new Xoshiro128(3);
    for (let n = 0; n < 500; n++) {
      const box = sampleCropBox(200, 150, { scale: [0.8, 1], ratio: [3 / 4, 4 / 3] }, rng);
      expect(box.top >= 0 && box.left >= 0 && box.top + box.height <= 150 && box.left + box.width <= 200).toBe(true);
      // Rounding w and h to integers moves the area by at most about (w + h) / 2 + 1 pixels.
      const slack = (box.width + box.height) / 2 + 1;
      expect(box.width * box.height).toBeGreaterThanOrEqual(0.8 * 30000 - slack);
      expect(box.width * box.height).toBeLessThanOrEqual(30000 + slack);
    }
  });

  it('falls back to the centre crop clamped to the ratio range after 10 failed attempts (Python rounding)', () => {
    const crop = { scale: [0.8, 1] as [number, number], ratio: [3 / 4, 4 / 3] as [number, number] };
    // 100x10: every attempt needs h >= 24 > 10; w = round(10 * 4/3) = 13, left = (100 - 13) // 2 = 43.
    expect(sampleCropBox(100, 10, crop, new Xoshiro128(1))).toEqual({ top: 0, left: 43, height: 10, width: 13 });
    expect(sampleCropBox(10, 100, crop, new Xoshiro128(1))).toEqual({ top: 43, left: 0, height: 13, width: 10 });
    // round(2 * 3.25) = round(6.5) = 6 in Python (half to even), left = (100 - 6) // 2 = 47.
    expect(sampleCropBox(100, 2, { scale: [0.9, 1], ratio: [0.5, 3.25] }, new Xoshiro128(1))).toEqual({ top: 0, left: 47, height: 2, width: 6 });
  });

  it('keeps the input size, and a full-image crop is the identity', () => {
    const image = textured(37, 23);
    const out = augmentImage(image, { crop: { scale: [0.8, 1], ratio: [0.75, 4 / 3] } }, 5).image;
    expect([out.width, out.height]).toEqual([37, 23]);
    const full = resizedCrop(image, { top: 0, left: 0, height: 23, width: 37 }, 37, 23);
    expect(Buffer.compare(full.data, image.data)).toBe(0);
    const square = textured(16, 16);
    const same = augmentImage(square, { crop: { scale: [1, 1], ratio: [1, 1] } }, 9);
    expect(same.params.crop).toEqual({ top: 0, left: 0, height: 16, width: 16 });
    expect(Buffer.compare(same.image.data, square.data)).toBe(0);
  });

  it('upsamples a 2x1 crop bilinearly (Pillow support 1, hand-worked)', () => {
    // Pixels 0 and 200 stretched to 4: centres at 0.25, 0.75, 1.25, 1.75 -> weights give 0, 50, 150, 200.
    const image: RgbImage = { data: new Uint8Array([0, 0, 0, 200, 200, 200]), width: 2, height: 1, channels: 3 };
    const out = resizedCrop(image, { top: 0, left: 0, height: 1, width: 2 }, 4, 1);
    expect(Array.from(out.data.filter((_, i) => i % 3 === 0))).toEqual([0, 50, 150, 200]);
  });
});

describe('horizontal flip', () => {
  it('twice is the identity, and red-left/blue-right becomes blue-left/red-right', () => {
    const image = textured(11, 7);
    expect(Buffer.compare(hflip(hflip(image)).data, image.data)).toBe(0);
    const flipped = hflip(redBlue(6, 2));
    expect([pixel(flipped, 0, 0), pixel(flipped, 2, 1), pixel(flipped, 3, 1), pixel(flipped, 5, 0)]).toEqual([
      [0, 0, 255], [0, 0, 255], [255, 0, 0], [255, 0, 0],
    ]);
  });
});

describe('rotation (PIL bilinear, black fill)', () => {
  it('angle 0 is the identity', () => {
    const image = textured(9, 5);
    expect(Buffer.compare(rotate(image, 0).data, image.data)).toBe(0);
  });

  it('keeps the centre pixel of an odd-sized image', () => {
    const image = textured(21, 15);
    for (const angle of [-10, -3.7, 4.2, 10]) expect(pixel(rotate(image, angle), 10, 7)).toEqual(pixel(image, 10, 7));
  });

  it('rotates counter-clockwise: 90° on [[a,b],[c,d]] gives [[b,d],[a,c]]', () => {
    const image: RgbImage = { data: new Uint8Array([10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]), width: 2, height: 2, channels: 3 };
    expect(Array.from(rotate(image, 90).data.filter((_, i) => i % 3 === 0))).toEqual([20, 40, 10, 30]);
  });

  it('fills corners black at ±10° and leaves the middle of a white image white', () => {
    for (const angle of [-10, 10]) {
      const out = rotate(solid(20, 20, [255, 255, 255]), angle);
      expect([pixel(out, 0, 0), pixel(out, 19, 19), pixel(out, 10, 10)]).toEqual([[0, 0, 0], [0, 0, 0], [255, 255, 255]]);
    }
  });

  it("fill 'edge': corners take the nearest border pixel; inside pixels equal the black-fill rotation's", () => {
    for (const angle of [-10, 10]) {
      expect(Buffer.compare(rotate(solid(20, 20, [255, 255, 255]), angle, 'edge').data, solid(20, 20, [255, 255, 255]).data)).toBe(0);
      const image = redBlue(20, 20);
      const black = rotate(image, angle);
      const edge = rotate(image, angle, 'edge');
      // top-left corner: outside the rotated image, it repeats the red left edge; top-right the blue right edge
      expect([pixel(black, 0, 0), pixel(edge, 0, 0), pixel(edge, 19, 0)]).toEqual([[0, 0, 0], [255, 0, 0], [0, 0, 255]]);
      let differing = 0;
      for (let i = 0; i < black.data.length; i += 3) {
        const blackPixel = [black.data[i], black.data[i + 1], black.data[i + 2]];
        if (blackPixel.some((v) => v !== 0)) expect([edge.data[i], edge.data[i + 1], edge.data[i + 2]]).toEqual(blackPixel);
        else differing++;
      }
      expect(differing).toBeGreaterThan(0);
    }
    expect(() => rotate(redBlue(4, 4), 5, 'mirror' as never)).toThrow('Expected one of "black", "edge" for fill but received "mirror"');
  });
});

describe('colour jitter (PIL ImageEnhance arithmetic)', () => {
  const image: RgbImage = { data: new Uint8Array([200, 101, 3, 0, 0, 0, 255, 255, 255]), width: 3, height: 1, channels: 3 };

  it('brightness: factor 1 is the identity, 0.5 truncates, 1.5 clips', () => {
    expect(Buffer.compare(adjustBrightness(image, 1).data, image.data)).toBe(0);
    expect(Array.from(adjustBrightness(image, 0.5).data.slice(0, 3))).toEqual([100, 50, 1]);
    expect(Array.from(adjustBrightness(image, 1.5).data.slice(0, 3))).toEqual([255, 151, 4]);
  });

  it('contrast blends with the rounded mean luma', () => {
    // L of black and white pixels: 0 and 255, mean 127.5 -> int(128.0) = 128;
    // 128 + 0.5 * (0 - 128) = 64, 128 + 0.5 * 127 = 191.5 -> 191.
    const bw: RgbImage = { data: new Uint8Array([0, 0, 0, 255, 255, 255]), width: 2, height: 1, channels: 3 };
    expect(Array.from(adjustContrast(bw, 0.5).data)).toEqual([64, 64, 64, 191, 191, 191]);
    expect(Buffer.compare(adjustContrast(image, 1).data, image.data)).toBe(0);
  });

  it('saturation 0 is greyscale and 1 is the identity', () => {
    expect(Buffer.compare(adjustSaturation(image, 0).data, grayscale(image).data)).toBe(0);
    expect(Buffer.compare(adjustSaturation(image, 1).data, image.data)).toBe(0);
  });

  it('hue 0 is the identity; +0.5 turns pure red into (0, 255, 252) through Pillow HSV', () => {
    expect(Buffer.compare(adjustHue(image, 0).data, image.data)).toBe(0);
    // H 0 + uint8(127.5) = 127: i = 2, f = 762/255 - 2; (p, v, t) = (0, 255, round(255 f)) = (0, 255, 252).
    expect(Array.from(adjustHue(solid(1, 1, [255, 0, 0]), 0.5).data)).toEqual([0, 255, 252]);
  });

  it('draws factors within [0.8, 1.2] in a random order of the enabled operations', () => {
    const rng = new Xoshiro128(11);
    let min = Infinity;
    let max = -Infinity;
    const orders = new Set<string>();
    for (let n = 0; n < 3000; n++) {
      const j = sampleJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0 }, rng);
      for (const f of [j.brightness, j.contrast, j.saturation]) {
        min = Math.min(min, f);
        max = Math.max(max, f);
      }
      expect(j.hue).toBe(0);
      expect([...j.order].sort()).toEqual(['brightness', 'contrast', 'saturation']);
      orders.add(j.order.join(','));
    }
    console.log(`jitter factors drawn in [${min}, ${max}], ${orders.size} orders`);
    expect(min).toBeGreaterThanOrEqual(0.8);
    expect(max).toBeLessThanOrEqual(1.2);
    expect(min).toBeLessThan(0.801);
    expect(max).toBeGreaterThan(1.199);
    expect(orders.size).toBe(6);
  });
});

describe('greyscale', () => {
  it('gives R = G = B = ITU-R 601-2 luma in Pillow fixed point (hand-worked)', () => {
    // (255·19595 + 2^15) >> 16 = 76; (255·38470 + 2^15) >> 16 = 150; (255·7471 + 2^15) >> 16 = 29;
    // 10·19595 + 20·38470 + 30·7471 + 32768 = 1222248, >> 16 = 18 (0.299·10 + 0.587·20 + 0.114·30 = 18.15).
    const image: RgbImage = { data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]), width: 4, height: 1, channels: 3 };
    expect(Array.from(grayscale(image).data)).toEqual([76, 76, 76, 150, 150, 150, 29, 29, 29, 18, 18, 18]);
    expect(luma(255, 255, 255)).toBe(255);
  });
});

describe('transforms in BlipImageProcessor.preprocess', () => {
  const processor = BlipImageProcessor.fromConfig(goldenJson.processor_tiny);
  const files = ['img0_rgb_64x48.png', 'img1_rgb_40x72.jpg', 'img2_gray_50x50.png', 'img3_rgba_30x60.png'].map((f) => `${fixtures}images/${f}`);

  it('without transforms (or with all undefined) still equals the Hugging Face goldens', async () => {
    const golden = await readSafetensorsFile(`${fixtures}images-golden.safetensors`);
    const inputs = [0, 1, 2, 3].map((i) => {
      const rgb = golden.tensors.get(`img${i}.decoded_rgb_u8`)!;
      return { data: rgb.data as Uint8Array, width: rgb.shape[1]!, height: rgb.shape[0]!, channels: 3 as const };
    });
    const out = await processor.preprocess(inputs, { pool, transforms: [undefined, undefined, undefined, undefined] });
    const plane = 3 * 32 * 32;
    const diffs = [0, 1, 2, 3].map((i) => maxAbsDiff(out.data.subarray(i * plane, (i + 1) * plane), golden.tensors.get(`img${i}.pixel_values_32`)!.data as Float32Array));
    console.log(`pixel_values_32 with undefined transforms: max abs diff per image ${diffs.join(', ')}`);
    expect(Math.max(...diffs)).toBeLessThanOrEqual(1e-6);
    expect(out.flipped).toEqual([false, false, false, false]);
    expect((await processor.preprocess(inputs.slice(0, 1), { pool: 'main' })).flipped).toBe(undefined);
  });

  it('gives the same pixels and flips on the pool as on the main thread', async () => {
    const transforms = files.map((_, i) => ({
      augment: { spec: PAPER_IMAGE_AUGMENT, seed: 100 + i },
      ...(i % 2 === 1 ? { corrupt: { kind: 'gaussian_noise', severity: 3, seed: i } } : {}),
    }));
    const onPool = await processor.preprocess(files, { pool, transforms });
    const onMain = await processor.preprocess(files, { pool: 'main', transforms });
    console.log(`augmented pool vs main: max abs diff ${maxAbsDiff(onPool.data, onMain.data)}, flipped ${JSON.stringify(onPool.flipped)}`);
    expect(maxAbsDiff(onPool.data, onMain.data)).toBe(0);
    expect(onPool.flipped).toEqual(onMain.flipped);
    expect(onPool.flipped).toEqual(transforms.map((t) => sampleImageAugment(t.augment.spec, 1, 1, t.augment.seed).flip));
  });

  it('applies augmentation after decoding and corruption after augmentation, before the resize', async () => {
    const image = textured(48, 40);
    const augmented = augmentImage(image, { hflip: 1, rotate: 10 }, 3);
    const corrupted = await corruptImage(augmented.image, 'gaussian_blur', 2, 4);
    const expected = await processor.preprocess([corrupted], { pool: 'main' });
    const out = await processor.preprocess([image], {
      pool: 'main', transforms: [{ augment: { spec: { hflip: 1, rotate: 10 }, seed: 3 }, corrupt: { kind: 'blur', severity: 2, seed: 4 } }],
    });
    expect(maxAbsDiff(out.data, expected.data)).toBe(0);
    expect(out.flipped).toEqual([true]);
  });

  it('with fastResize, transforms run on the full-size decode before sharp\'s resize', async () => {
    const image = textured(48, 40);
    const expected = await processor.preprocess([hflip(image)], { pool: 'main', fastResize: true });
    const out = await processor.preprocess([image], { pool, fastResize: true, transforms: [{ augment: { spec: { hflip: 1 }, seed: 0 } }] });
    expect(maxAbsDiff(out.data, expected.data)).toBe(0);
    expect(out.flipped).toEqual([true]);
  });

  it('validates transforms with exact messages', async () => {
    await expect(processor.preprocess(files, { transforms: [undefined] })).rejects.toThrow(
      'Expected array of 4 transforms (one per input) for transforms but received an array of length 1',
    );
    await expect(processor.preprocess(files.slice(0, 1), { transforms: [{ blur: 1 } as never] })).rejects.toThrow(
      'Unknown option "blur" in transforms[0]; expected one of "resize", "augment", "corrupt"',
    );
    await expect(processor.preprocess(files.slice(0, 1), { transforms: [{ corrupt: { kind: 'blur', severity: 6, seed: 0 } }] })).rejects.toThrow(
      'Expected integer between 1 and 5 for transforms[0].corrupt.severity but received 6 of type number',
    );
    await expect(processor.preprocess(files.slice(0, 1), { transforms: [{ augment: { spec: {}, seed: 1.5 } }] })).rejects.toThrow(
      'Expected integer between 0 and 9007199254740991 for transforms[0].augment.seed but received 1.5 of type number',
    );
  });
});

describe('the pre-resize transform', () => {
  it('resizes to the given size with Pillow bicubic before augmentation and the processor', async () => {
    const processor = await BlipImageProcessor.fromPretrained(`${fixtures}model`);
    const image = textured(40, 30);
    const resized = resizePil(image, 384, 384, 'bicubic');
    const viaTransform = await processor.preprocess([image], { pool: 'main', transforms: [{ resize: { width: 384, height: 384 } }] });
    const byHand = await processor.preprocess([{ ...resized, channels: 3 } as RgbImage], { pool: 'main' });
    expect(Buffer.compare(Buffer.from(viaTransform.data.buffer), Buffer.from(byHand.data.buffer))).toBe(0);
    const direct = await processor.preprocess([image], { pool: 'main' });
    expect(Buffer.compare(Buffer.from(viaTransform.data.buffer), Buffer.from(direct.data.buffer))).not.toBe(0);
    await expect(processor.preprocess([image], { transforms: [{ resize: { width: 0, height: 3 } }] })).rejects.toThrow(
      'Expected integer between 1 and 32768 for transforms[0].resize.width but received 0 of type number',
    );
  });
});

describe('parity with Pillow (test/fixtures/augment/golden.json)', () => {
  const golden = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/augment/golden.json', import.meta.url)), 'utf8')) as {
    width: number; height: number; input: number[]; grayscale: number[];
    rotate: Record<string, number[]>; brightness: Record<string, number[]>; contrast: Record<string, number[]>;
    saturation: Record<string, number[]>; hue: Record<string, number[]>;
    resized_crop: { box: [number, number, number, number]; out: number[] }[];
  };
  const image: RgbImage = { data: Uint8Array.from(golden.input), width: golden.width, height: golden.height, channels: 3 };
  const cases: [string, Record<string, number[]>, (f: number) => RgbImage][] = [
    ['rotate', golden.rotate, (a) => rotate(image, a, 'black', 'bilinear')],
    ['brightness', golden.brightness, (f) => adjustBrightness(image, f)],
    ['contrast', golden.contrast, (f) => adjustContrast(image, f)],
    ['saturation', golden.saturation, (f) => adjustSaturation(image, f)],
    ['hue', golden.hue, (f) => adjustHue(image, f)],
  ];
  for (const [name, table, apply] of cases) {
    it(`${name} is bit-identical for ${Object.keys(table).join(', ')}`, () => {
      const diffs = Object.entries(table).map(([param, want]) => maxAbsDiff(apply(Number(param)).data, want));
      console.log(`${name} vs Pillow: max abs diff ${diffs.join(', ')} (levels)`);
      expect(diffs.every((d) => d === 0)).toBe(true);
    });
  }

  it('greyscale and resized crops are bit-identical', () => {
    expect(maxAbsDiff(grayscale(image).data.filter((_, i) => i % 3 === 0), golden.grayscale)).toBe(0);
    const diffs = golden.resized_crop.map(({ box: [top, left, height, width], out }) =>
      maxAbsDiff(resizedCrop(image, { top, left, height, width }, golden.width, golden.height).data, out));
    console.log(`resized crop vs Pillow: max abs diff ${diffs.join(', ')} (levels)`);
    expect(diffs).toEqual([0, 0, 0]);
  });
});

describe('primitive argument checks', () => {
  it('rejects negative factors, non-finite angles and crops outside the image', () => {
    const image = solid(4, 3, [9, 9, 9]);
    expect(() => adjustBrightness(image, -0.1)).toThrow('Expected non-negative number for factor but received -0.1 of type number');
    expect(() => adjustSaturation(image, Number.NaN)).toThrow('Expected non-negative number for factor but received NaN of type number');
    expect(() => rotate(image, Number.POSITIVE_INFINITY)).toThrow('Expected finite number for angle but received Infinity of type number');
    expect(() => resizedCrop(image, { top: 1, left: 0, height: 3, width: 4 }, 4, 3)).toThrow(
      'Expected a crop inside the 4x3 image for box but received an object of type Object',
    );
  });
});
