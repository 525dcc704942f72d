/**
 * The paper's image augmentations with torchvision's semantics on PIL images: RandomResizedCrop (to a fixed
 * square, or back to the input size), RandomHorizontalFlip, RandomRotation (nearest neighbour as torchvision's
 * default, or bilinear; black or edge fill), ColorJitter (random order) and RandomGrayscale, seeded and
 * deterministic.
 *
 * Randomness is drawn first ({@link sampleImageAugment} → {@link ImageAugmentParams}, plain data that can be
 * logged) and applied second ({@link applyImageAugment}); the pixel operations are pure functions that
 * reproduce Pillow's arithmetic (nearest and bilinear affine transforms, `Image.blend`, `convert("L")`).
 * The random stream is ours (xoshiro128**), not torch's: the distributions match torchvision, the draws do not.
 */
import { chance, randomInt, shuffleInPlace, uniform, Xoshiro128 } from '../random.js';
import { integerInRange, invalidParameterError, isNumber, isPlainObject, knownKeys, numberInRange, oneOf, optional } from '../is.js';
import type { RgbImage } from './decode.js';
import { resizePil } from './resample.js';

/** RandomResizedCrop settings: area fraction and aspect-ratio ranges (torchvision's `scale`, `ratio`). */
export interface CropSpec {
  /** Fraction of the image area kept, `[min, max]`, 0 < min ≤ max ≤ 1. */
  scale: [number, number];
  /** Aspect ratio (width / height) of the crop, `[min, max]`, 0 < min ≤ max. */
  ratio: [number, number];
  /**
   * Output side: a number gives a size×size square (torchvision's `RandomResizedCrop(size)`; the paper's scripts
   * use 384); `'input'` (default) resizes the crop back to the input's width and height.
   */
  size?: number | 'input';
}

/** ColorJitter strengths (torchvision's `brightness`, `contrast`, `saturation`, `hue`). */
export interface ColorJitterSpec {
  /** Brightness factor drawn from [max(0, 1 − b), 1 + b]. */
  brightness: number;
  /** Contrast factor drawn from [max(0, 1 − c), 1 + c]. */
  contrast: number;
  /** Saturation factor drawn from [max(0, 1 − s), 1 + s]. */
  saturation: number;
  /** Hue shift drawn from [−h, h], 0 ≤ h ≤ 0.5 (0 keeps colour words true). */
  hue: number;
}

/** Which augmentations to apply; an absent or zero/false entry is off. */
export interface ImageAugmentSpec {
  /** RandomResizedCrop (bilinear, antialiased as torchvision on PIL), to `crop.size` or back to the input size. */
  crop?: CropSpec | false;
  /** Probability of a horizontal flip. */
  hflip?: number;
  /** Maximum rotation in degrees: the angle is drawn from [−rotate, rotate]. */
  rotate?: number;
  /**
   * What fills the corners a rotation uncovers: `'black'` (default; torchvision's `fill=0`) or `'edge'` (the
   * nearest border pixel). Black corners are a feature no test photo has; on small images they are a large one.
   */
  rotateFill?: RotateFill;
  /**
   * How a rotation samples the input: `'nearest'` (default; torchvision's `RandomRotation` default,
   * `InterpolationMode.NEAREST`) or `'bilinear'`.
   */
  rotateInterpolation?: RotateInterpolation;
  /** ColorJitter, applied in a random order as torchvision does. */
  colorJitter?: ColorJitterSpec | false;
  /** Probability of converting to 3-channel greyscale. */
  grayscale?: number;
}

/** How {@link rotate} fills the uncovered corners. */
export type RotateFill = 'black' | 'edge';

/** How {@link rotate} samples the input. */
export type RotateInterpolation = 'nearest' | 'bilinear';

/**
 * The paper's training transform, as its scripts run it: `RandomResizedCrop(384, scale=(0.8, 1.0))` (ratio 3/4–4/3,
 * a 384×384 square), `RandomHorizontalFlip(0.5)`, `RandomRotation(10)` (nearest neighbour, fill 0),
 * `ColorJitter(0.2, 0.2, 0.2)` and `RandomGrayscale(0.1)`. The BLIP processor then resizes to 224.
 * Without augmentation the scripts resize to 384×384 bicubic first ({@link PAPER_PRE_RESIZE}).
 */
export const PAPER_IMAGE_AUGMENT: ImageAugmentSpec = Object.freeze({
  crop: Object.freeze({ scale: [0.8, 1.0], ratio: [3 / 4, 4 / 3], size: 384 }) as CropSpec,
  hflip: 0.5,
  rotate: 10,
  rotateFill: 'black',
  rotateInterpolation: 'nearest',
  colorJitter: Object.freeze({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0 }),
  grayscale: 0.1,
});

/** The side of the square the paper's scripts resize un-augmented images to (bicubic) before the processor. */
export const PAPER_PRE_RESIZE = 384;

/** A crop rectangle in pixels (torchvision's `i, j, h, w` as top, left, height, width). */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** One colour operation of ColorJitter. */
export type JitterOp = 'brightness' | 'contrast' | 'saturation' | 'hue';

/**
 * The drawn ColorJitter: the order of the operations and their factors (operations that are off are left out of
 * `order`).
 */
export interface JitterParams {
  order: JitterOp[];
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** Everything an augmentation drew, as plain data. */
export interface ImageAugmentParams {
  crop: CropBox | null;
  flip: boolean;
  /** Rotation angle in degrees (counter-clockwise, as PIL); 0 when off. */
  angle: number;
  /** The spec's rotateFill. */
  rotateFill: RotateFill;
  /** The spec's rotateInterpolation (absent in parameters drawn before it existed: bilinear). */
  rotateInterpolation?: RotateInterpolation;
  /** Output size of the crop; absent: the input's size. */
  cropSize?: { width: number; height: number };
  jitter: JitterParams | null;
  grayscale: boolean;
}

/** The result of {@link augmentImage}; `flipped` tells the caller to swap left/right in the caption. */
export interface AugmentedImage {
  image: RgbImage;
  flipped: boolean;
  params: ImageAugmentParams;
}

const SPEC_KEYS = ['crop', 'hflip', 'rotate', 'rotateFill', 'rotateInterpolation', 'colorJitter', 'grayscale'] as const;
const JITTER_OPS: readonly JitterOp[] = ['brightness', 'contrast', 'saturation', 'hue'];

function parseRange(name: string, value: unknown, min: number, max: number): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 || !value.every(isNumber) || !(value[0] > min) || value[0] > value[1] || value[1] > max) {
    throw invalidParameterError(name, `[min, max] with ${min} < min <= max <= ${max}`, value);
  }
  return [value[0], value[1]];
}

/**
 * A validated spec: every field present, except `rotateInterpolation`, which is present exactly when `rotate` > 0
 * (so specs without rotation normalise as they did before the option existed).
 */
export type ResolvedImageAugmentSpec = Required<Omit<ImageAugmentSpec, 'rotateInterpolation'>> & { rotateInterpolation?: RotateInterpolation };

/**
 * Validates an augmentation spec (as found in a stage config); unknown keys are errors.
 * @returns a normalised copy (see {@link ResolvedImageAugmentSpec}).
 */
export function parseImageAugmentSpec(spec: unknown): ResolvedImageAugmentSpec {
  if (spec === undefined) throw invalidParameterError('image augment spec', 'plain object', spec);
  const s = knownKeys('image augment spec', spec, SPEC_KEYS);
  let crop: CropSpec | false = false;
  if (s.crop !== undefined && s.crop !== false) {
    const c = knownKeys('crop', s.crop, ['scale', 'ratio', 'size']);
    crop = { scale: parseRange('crop.scale', c.scale, 0, 1), ratio: parseRange('crop.ratio', c.ratio, 0, Number.MAX_VALUE) };
    if (c.size !== undefined && c.size !== 'input') {
      if (!Number.isInteger(c.size) || (c.size as number) < 1 || (c.size as number) > 1 << 15) {
        throw invalidParameterError('crop.size', `'input' or integer between 1 and ${1 << 15}`, c.size);
      }
      crop.size = c.size as number;
    }
  }
  let colorJitter: ColorJitterSpec | false = false;
  if (s.colorJitter !== undefined && s.colorJitter !== false) {
    const j = knownKeys('colorJitter', s.colorJitter, JITTER_OPS);
    colorJitter = {
      brightness: numberInRange('colorJitter.brightness', j.brightness ?? 0, 0, 1e6),
      contrast: numberInRange('colorJitter.contrast', j.contrast ?? 0, 0, 1e6),
      saturation: numberInRange('colorJitter.saturation', j.saturation ?? 0, 0, 1e6),
      hue: numberInRange('colorJitter.hue', j.hue ?? 0, 0, 0.5),
    };
  }
  const rotate = numberInRange('rotate', s.rotate ?? 0, 0, 180);
  const interpolation = s.rotateInterpolation === undefined
    ? 'nearest'
    : oneOf('rotateInterpolation', s.rotateInterpolation, ['nearest', 'bilinear'] as const);
  return {
    crop,
    hflip: numberInRange('hflip', s.hflip ?? 0, 0, 1),
    rotate,
    rotateFill: optional(s.rotateFill, 'black', (v) => oneOf('rotateFill', v, ['black', 'edge'] as const)),
    ...(rotate > 0 ? { rotateInterpolation: interpolation } : {}),
    colorJitter,
    grayscale: numberInRange('grayscale', s.grayscale ?? 0, 0, 1),
  };
}

/** Validates a seed: an integer in [0, 2^53). */
export function parseSeed(name: string, seed: unknown): number {
  return integerInRange(name, seed, 0, Number.MAX_SAFE_INTEGER);
}

/** Python's `round()` (half to even). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision `RandomResizedCrop.get_params`: up to 10 attempts at a random area fraction and log-uniform
 * aspect ratio; if none fits, the centre crop clamped to the ratio range (or the whole image).
 */
export function sampleCropBox(width: number, height: number, crop: CropSpec, rng: Xoshiro128): CropBox {
  const area = width * height;
  const logRatio = [Math.log(crop.ratio[0]), Math.log(crop.ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * uniform(rng, crop.scale[0], crop.scale[1]);
    const aspect = Math.exp(uniform(rng, logRatio[0], logRatio[1]));
    const w = pyRound(Math.sqrt(targetArea * aspect));
    const h = pyRound(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = randomInt(rng, height - h + 1);
      const left = randomInt(rng, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < crop.ratio[0]) {
    h = pyRound(w / crop.ratio[0]);
  } else if (inRatio > crop.ratio[1]) {
    w = pyRound(h * crop.ratio[1]);
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Draws every random decision of `spec` for an image of the given size (see {@link applyImageAugment}). */
export function sampleImageAugment(spec: ImageAugmentSpec, width: number, height: number, seed: number): ImageAugmentParams {
  const s = parseImageAugmentSpec(spec);
  integerInRange('width', width, 1, 1 << 30);
  integerInRange('height', height, 1, 1 << 30);
  // One independent stream per transform, so switching one off does not change the others' draws.
  const master = new Xoshiro128(parseSeed('seed', seed));
  const [cropRng, flipRng, rotateRng, jitterRng, grayRng] = Array.from({ length: 5 }, () => new Xoshiro128(master.nextUint32()));
  const size = s.crop === false ? undefined : s.crop.size;
  return {
    crop: s.crop === false ? null : sampleCropBox(width, height, s.crop, cropRng!),
    ...(typeof size === 'number' ? { cropSize: { width: size, height: size } } : {}),
    flip: s.hflip > 0 && chance(flipRng!, s.hflip),
    angle: s.rotate > 0 ? uniform(rotateRng!, -s.rotate, s.rotate) : 0,
    rotateFill: s.rotateFill,
    ...(s.rotateInterpolation ? { rotateInterpolation: s.rotateInterpolation } : {}),
    jitter: s.colorJitter === false ? null : sampleJitter(s.colorJitter, jitterRng!),
    grayscale: s.grayscale > 0 && chance(grayRng!, s.grayscale),
  };
}

/** torchvision `ColorJitter.get_params`: a random permutation of the four operations and their factors. */
export function sampleJitter(spec: ColorJitterSpec, rng: Xoshiro128): JitterParams {
  const order = shuffleInPlace(rng, [...JITTER_OPS]);
  const factor = (strength: number) => (strength > 0 ? uniform(rng, Math.max(0, 1 - strength), 1 + strength) : 1);
  const params: JitterParams = {
    order: [],
    brightness: factor(spec.brightness),
    contrast: factor(spec.contrast),
    saturation: factor(spec.saturation),
    hue: spec.hue > 0 ? uniform(rng, -spec.hue, spec.hue) : 0,
  };
  params.order = order.filter((op) => spec[op] > 0);
  return params;
}

/** Applies drawn parameters in torchvision's order: crop, flip, rotation, jitter, greyscale. */
export function applyImageAugment(image: RgbImage, params: ImageAugmentParams): RgbImage {
  let out = image;
  if (params.crop !== null) {
    const size = params.cropSize ?? { width: image.width, height: image.height };
    out = resizedCrop(out, params.crop, size.width, size.height);
  }
  if (params.flip) out = hflip(out);
  if (params.angle !== 0) out = rotate(out, params.angle, params.rotateFill ?? 'black', params.rotateInterpolation ?? 'bilinear');
  if (params.jitter !== null) {
    for (const op of params.jitter.order) {
      if (op === 'brightness') out = adjustBrightness(out, params.jitter.brightness);
      else if (op === 'contrast') out = adjustContrast(out, params.jitter.contrast);
      else if (op === 'saturation') out = adjustSaturation(out, params.jitter.saturation);
      else out = adjustHue(out, params.jitter.hue);
    }
  }
  if (params.grayscale) out = grayscale(out);
  return out;
}

/**
 * Augments one image, deterministically for a given seed.
 * @param image decoded RGB
 * @param spec which augmentations (e.g. {@link PAPER_IMAGE_AUGMENT})
 * @param seed integer in [0, 2^53)
 * @returns the augmented image (the input's size, or the crop's `size`), whether it was flipped, and the drawn
 * parameters
 */
export function augmentImage(image: RgbImage, spec: ImageAugmentSpec, seed: number): AugmentedImage {
  checkImage(image);
  const params = sampleImageAugment(spec, image.width, image.height, seed);
  return { image: applyImageAugment(image, params), flipped: params.flip, params };
}

/** Asserts a well-formed 8-bit RGB image. */
export function checkImage(image: RgbImage): void {
  if (!isPlainObject(image) || !(image.data instanceof Uint8Array)) throw invalidParameterError('image', 'RgbImage {data, width, height, channels: 3}', image);
  integerInRange('image.width', image.width, 1, 1 << 30);
  integerInRange('image.height', image.height, 1, 1 << 30);
  if (image.channels !== 3) throw invalidParameterError('image.channels', '3', image.channels);
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(`Pixel buffer has ${image.data.length} bytes but ${image.width}x${image.height}x3 needs ${image.width * image.height * 3}`);
  }
}

/** `img.crop(box).resize((outWidth, outHeight), BILINEAR)` — torchvision's `resized_crop` on PIL images. */
export function resizedCrop(image: RgbImage, box: CropBox, outWidth: number, outHeight: number): RgbImage {
  const { width } = image;
  const inside = [box.top, box.left, box.height, box.width].every(Number.isInteger) && box.top >= 0 && box.left >= 0 &&
    box.height > 0 && box.width > 0 && box.top + box.height <= image.height && box.left + box.width <= width;
  if (!inside) throw invalidParameterError('box', `a crop inside the ${width}x${image.height} image`, box);
  const cropped = new Uint8Array(box.width * box.height * 3);
  for (let y = 0; y < box.height; y++) {
    const start = ((box.top + y) * width + box.left) * 3;
    cropped.set(image.data.subarray(start, start + box.width * 3), y * box.width * 3);
  }
  const resized = resizePil({ data: cropped, width: box.width, height: box.height, channels: 3 }, outWidth, outHeight, 'bilinear');
  return { data: resized.data, width: resized.width, height: resized.height, channels: 3 };
}

/** Mirrors the image left to right (PIL `FLIP_LEFT_RIGHT`). */
export function hflip(image: RgbImage): RgbImage {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const s = row + x * 3;
      const d = row + (width - 1 - x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** Python `round(x, 15)`, as Pillow rounds the rotation matrix. */
function round15(x: number): number {
  return Number(x.toFixed(15));
}

/**
 * PIL `Image.rotate(angle, resample, expand=False, fillcolor=0)`, which torchvision's `F.rotate` runs on PIL
 * images: counter-clockwise by `angle` degrees about the centre, same size, outside pixels black. Multiples of
 * 90° that keep the size are exact transpositions (as Pillow); otherwise nearest neighbour (torchvision's default;
 * Pillow's 16.16 fixed-point affine loop) or bilinear (Pillow's edge clamping and truncation).
 * With `fill = 'edge'` the outside pixels take the nearest border pixel instead (the inside ones are unchanged).
 */
export function rotate(image: RgbImage, angle: number, fill: RotateFill = 'black', interpolation: RotateInterpolation = 'nearest'): RgbImage {
  if (!isNumber(angle)) throw invalidParameterError('angle', 'finite number', angle);
  oneOf('fill', fill, ['black', 'edge'] as const);
  oneOf('interpolation', interpolation, ['nearest', 'bilinear'] as const);
  const { data, width, height } = image;
  const degrees = ((angle % 360) + 360) % 360;
  if (degrees === 0) return { data: data.slice(), width, height, channels: 3 };
  if (degrees === 180 || ((degrees === 90 || degrees === 270) && width === height)) return transpose(image, degrees as 90 | 180 | 270);
  // Python's math.radians(x) is x * (pi / 180)
  const radians = -(degrees * (Math.PI / 180));
  const a = round15(Math.cos(radians));
  const b = round15(Math.sin(radians));
  const d = round15(-Math.sin(radians));
  const e = a;
  const cx = width / 2;
  const cy = height / 2;
  const c = a * -cx + b * -cy + cx;
  const f = d * -cx + e * -cy + cy;
  const matrix = [a, b, c, d, e, f] as const;
  return interpolation === 'nearest' ? rotateNearest(image, matrix, fill) : rotateBilinear(image, matrix, fill);
}

/** PIL `transpose(ROTATE_90 / ROTATE_180 / ROTATE_270)` (counter-clockwise). */
function transpose(image: RgbImage, degrees: 90 | 180 | 270): RgbImage {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [xs, ys] = degrees === 90 ? [width - 1 - y, x] : degrees === 180 ? [width - 1 - x, height - 1 - y] : [y, height - 1 - x];
      const s = (ys * width + xs) * 3;
      const o = (y * width + x) * 3;
      out[o] = data[s]!;
      out[o + 1] = data[s + 1]!;
      out[o + 2] = data[s + 2]!;
    }
  }
  return { data: out, width, height, channels: 3 };
}

type Affine = readonly [number, number, number, number, number, number];

/** Pillow's `FLOOR`, then the conversion to int. */
const floorInt = (v: number) => Math.floor(v) | 0;

/** Pillow's `check_fixed`: the mapped point fits 16.16 fixed point. */
function fitsFixed(m: Affine, x: number, y: number): boolean {
  return Math.abs(x * m[0] + y * m[1] + m[2]) < 32768 && Math.abs(x * m[3] + y * m[4] + m[5]) < 32768;
}

/**
 * Pillow's `ImagingTransformAffine` with NEAREST: `affine_fixed` (16.16 fixed point, integers stepped along
 * rows and columns) when every corner fits, else the floating-point loop. A pixel is the input pixel the
 * sample point falls in; outside the input it stays black (or, with 'edge', takes the clamped pixel).
 */
function rotateNearest(image: RgbImage, m: Affine, fill: RotateFill): RgbImage {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  const copy = (xin: number, yin: number, o: number) => {
    const inside = xin >= 0 && xin < width && yin >= 0 && yin < height;
    if (!inside && fill === 'black') return;
    const s = (Math.min(Math.max(yin, 0), height - 1) * width + Math.min(Math.max(xin, 0), width - 1)) * 3;
    out[o] = data[s]!;
    out[o + 1] = data[s + 1]!;
    out[o + 2] = data[s + 2]!;
  };
  if (fitsFixed(m, 0, 0) && fitsFixed(m, width, height) && fitsFixed(m, 0, height) && fitsFixed(m, width, 0)) {
    const fix = (v: number) => floorInt(v * 65536 + 0.5);
    const a0 = fix(m[0]);
    const a1 = fix(m[1]);
    const a3 = fix(m[3]);
    const a4 = fix(m[4]);
    let a2 = fix(m[2] + m[0] * 0.5 + m[1] * 0.5);
    let a5 = fix(m[5] + m[3] * 0.5 + m[4] * 0.5);
    for (let y = 0; y < height; y++) {
      let xx = a2;
      let yy = a5;
      for (let x = 0; x < width; x++) {
        copy(xx >> 16, yy >> 16, (y * width + x) * 3);
        xx = (xx + a0) | 0;
        yy = (yy + a3) | 0;
      }
      a2 = (a2 + a1) | 0;
      a5 = (a5 + a4) | 0;
    }
  } else {
    // Pillow's COORD(v): -1 below zero, else truncation
    const coord = (v: number) => (v < 0 ? -1 : Math.trunc(v));
    let xo = m[2] + m[1] * 0.5 + m[0] * 0.5;
    let yo = m[5] + m[4] * 0.5 + m[3] * 0.5;
    for (let y = 0; y < height; y++) {
      let xx = xo;
      let yy = yo;
      for (let x = 0; x < width; x++) {
        copy(coord(xx), coord(yy), (y * width + x) * 3);
        xx += m[0];
        yy += m[3];
      }
      xo += m[1];
      yo += m[4];
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** Pillow's generic affine transform with BILINEAR (sample point at each output pixel's centre). */
function rotateBilinear(image: RgbImage, m: Affine, fill: RotateFill): RgbImage {
  const { data, width, height } = image;
  const [a, b, c, d, e, f] = m;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const xin = a * (x + 0.5) + b * (y + 0.5) + c;
      const yin = d * (x + 0.5) + e * (y + 0.5) + f;
      if (!(xin >= 0 && xin < width && yin >= 0 && yin < height)) {
        if (fill === 'black') continue;
        // 'edge': the nearest border pixel, as if the image's edges extended outwards
        const xe = Math.min(Math.max(xin, 0.5), width - 0.5);
        const ye = Math.min(Math.max(yin, 0.5), height - 0.5);
        bilinearPixel(data, width, height, xe - 0.5, ye - 0.5, out, (y * width + x) * 3);
        continue;
      }
      bilinearPixel(data, width, height, xin - 0.5, yin - 0.5, out, (y * width + x) * 3);
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** Pillow's `bilinear_filter32RGB` body: clamped neighbours, interpolation in double, truncation to 8 bits. */
function bilinearPixel(data: Uint8Array, width: number, height: number, xs: number, ys: number, out: Uint8Array, o: number): void {
  const x = Math.floor(xs);
  const y = Math.floor(ys);
  const dx = xs - x;
  const dy = ys - y;
  const x0 = Math.min(Math.max(x, 0), width - 1) * 3;
  const x1 = Math.min(Math.max(x + 1, 0), width - 1) * 3;
  const row0 = Math.min(Math.max(y, 0), height - 1) * width * 3;
  const hasRow1 = y + 1 >= 0 && y + 1 < height;
  const row1 = (y + 1) * width * 3;
  for (let band = 0; band < 3; band++) {
    const p = data[row0 + x0 + band]!;
    const v1 = p + (data[row0 + x1 + band]! - p) * dx;
    let v2 = v1;
    if (hasRow1) {
      const q = data[row1 + x0 + band]!;
      v2 = q + (data[row1 + x1 + band]! - q) * dx;
    }
    out[o + band] = Math.trunc(v1 + (v2 - v1) * dy);
  }
}

/**
 * Pillow `Image.blend(degenerate, image, factor)` for one value pair, in its float32 arithmetic:
 * `degenerate + factor·(value − degenerate)`, truncated, clipped to [0, 255] when extrapolating.
 */
function blendValue(base: number, value: number, alpha: number): number {
  const v = Math.fround(base + Math.fround(alpha * (value - base)));
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
}

/** torchvision's check on enhancement factors: finite and non-negative. */
function nonNegativeFactor(factor: unknown): number {
  if (!isNumber(factor) || factor < 0) throw invalidParameterError('factor', 'non-negative number', factor);
  return factor;
}

/** Blend with a constant degenerate image: every 8-bit value maps through one 256-entry table. */
function blendConstant(image: RgbImage, base: number, factor: number): RgbImage {
  const alpha = Math.fround(factor);
  const table = new Uint8Array(256);
  for (let v = 0; v < 256; v++) table[v] = blendValue(base, v, alpha);
  const { data } = image;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = table[data[i]!]!;
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

/** torchvision `adjust_brightness` (PIL `ImageEnhance.Brightness`): blend with black. Factor 1 is the identity. */
export function adjustBrightness(image: RgbImage, factor: number): RgbImage {
  return blendConstant(image, 0, nonNegativeFactor(factor));
}

/** PIL `convert("L")` luma, ITU-R 601-2 in Pillow's fixed point: (19595 R + 38470 G + 7471 B + 2^15) >> 16. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

function lumaPlane(image: RgbImage): Uint8Array {
  const { data } = image;
  const out = new Uint8Array(image.width * image.height);
  for (let p = 0, i = 0; p < out.length; p++, i += 3) out[p] = luma(data[i]!, data[i + 1]!, data[i + 2]!);
  return out;
}

/**
 * torchvision `adjust_contrast` (PIL `ImageEnhance.Contrast`): blend with a flat grey at the rounded mean
 * luma `int(mean(L) + 0.5)`.
 */
export function adjustContrast(image: RgbImage, factor: number): RgbImage {
  const l = lumaPlane(image);
  let sum = 0;
  for (let p = 0; p < l.length; p++) sum += l[p]!;
  return blendConstant(image, Math.trunc(sum / l.length + 0.5), nonNegativeFactor(factor));
}

/** torchvision `adjust_saturation` (PIL `ImageEnhance.Color`): blend with the image's own greyscale. */
export function adjustSaturation(image: RgbImage, factor: number): RgbImage {
  const alpha = Math.fround(nonNegativeFactor(factor));
  // (grey, value) -> blended, for all 2^16 pairs: cheaper than the float arithmetic per value of a large image.
  const table = new Uint8Array(65536);
  for (let grey = 0; grey < 256; grey++) for (let v = 0; v < 256; v++) table[(grey << 8) | v] = blendValue(grey, v, alpha);
  const { data } = image;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 3) {
    const grey = luma(data[i]!, data[i + 1]!, data[i + 2]!) << 8;
    out[i] = table[grey | data[i]!]!;
    out[i + 1] = table[grey | data[i + 1]!]!;
    out[i + 2] = table[grey | data[i + 2]!]!;
  }
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

/** torchvision `rgb_to_grayscale(img, 3)` on PIL: `convert("L")` copied into three channels. */
export function grayscale(image: RgbImage): RgbImage {
  const l = lumaPlane(image);
  const out = new Uint8Array(l.length * 3);
  for (let p = 0, i = 0; p < l.length; p++, i += 3) out[i] = out[i + 1] = out[i + 2] = l[p]!;
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

/**
 * torchvision `adjust_hue` on PIL: convert to Pillow's 8-bit HSV, add `uint8(hueFactor·255)` to H (wrapping),
 * convert back. `hueFactor` in [−0.5, 0.5]; 0 is the identity.
 */
export function adjustHue(image: RgbImage, hueFactor: number): RgbImage {
  numberInRange('hueFactor', hueFactor, -0.5, 0.5);
  const { data } = image;
  const shift = ((Math.trunc(hueFactor * 255) % 256) + 256) % 256;
  if (shift === 0) return { data: data.slice(), width: image.width, height: image.height, channels: 3 };
  const out = new Uint8Array(data.length);
  const hsv = [0, 0, 0];
  for (let i = 0; i < data.length; i += 3) {
    rgbToHsv(data[i]!, data[i + 1]!, data[i + 2]!, hsv);
    hsvToRgb((hsv[0]! + shift) & 255, hsv[1]!, hsv[2]!, out, i);
  }
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

/** Pillow's `rgb2hsv_row` (8-bit H, S, V). */
function rgbToHsv(r: number, g: number, b: number, hsv: number[]): void {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  hsv[2] = maxc;
  if (maxc === minc) {
    hsv[0] = 0;
    hsv[1] = 0;
    return;
  }
  const cr = maxc - minc;
  const s = Math.fround(cr / maxc);
  const rc = Math.fround((maxc - r) / cr);
  const gc = Math.fround((maxc - g) / cr);
  const bc = Math.fround((maxc - b) / cr);
  let h: number;
  if (r === maxc) h = Math.fround(bc - gc);
  else if (g === maxc) h = Math.fround(2 + rc - bc);
  else h = Math.fround(4 + gc - rc);
  h = Math.fround((h / 6 + 1) % 1);
  hsv[0] = Math.min(255, Math.max(0, Math.trunc(h * 255)));
  hsv[1] = Math.min(255, Math.max(0, Math.trunc(s * 255)));
}

/** Pillow's `hsv2rgb`. */
function hsvToRgb(h: number, s: number, v: number, out: Uint8Array, o: number): void {
  if (s === 0) {
    out[o] = out[o + 1] = out[o + 2] = v;
    return;
  }
  const i = Math.floor((h * 6) / 255);
  const f = Math.fround((h * 6) / 255 - i);
  const fs = Math.fround(s / 255);
  const clip = (x: number) => Math.min(255, Math.max(0, Math.round(x)));
  const p = clip(v * (1 - fs));
  const q = clip(v * (1 - fs * f));
  const t = clip(v * (1 - fs * (1 - f)));
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6]!;
  out[o] = rgb[0]!;
  out[o + 1] = rgb[1]!;
  out[o + 2] = rgb[2]!;
}
