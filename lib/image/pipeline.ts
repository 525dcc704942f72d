/**
 * The per-image work of the BLIP image processor — decode, resize, rescale, normalize, HWC → CHW —
 * as plain functions over plain data, so the same code runs on the calling thread and in worker threads.
 */
import { integerInRange, knownKeys } from '../is.js';
import { augmentImage, parseImageAugmentSpec, parseSeed, type ImageAugmentSpec } from './augment.js';
import { corruptImage, corruptionKind } from './corrupt.js';
import { decodeImage, decodeImageResizedFast, type ImageInput, type ResolvedLoadOptions, type RgbImage } from './decode.js';
import { resizePil, type ResampleFilter } from './resample.js';

/** Resolved processor settings (the validated, camel-cased `preprocessor_config.json`). */
export interface ProcessorSettings {
  /** Convert to RGB first (always done: the model needs 3 channels; kept for fidelity to the config). */
  doConvertRgb: boolean;
  /** Resize to exactly `size` (no aspect preservation). */
  doResize: boolean;
  /** Output size. */
  size: { height: number; width: number };
  /** Pillow filter used by the resize. */
  resample: ResampleFilter;
  /** Multiply by `rescaleFactor` (in float64, then cast to float32, as HF's `rescale`). */
  doRescale: boolean;
  rescaleFactor: number;
  /** `(x - mean) / std` per channel in float32, as HF's `normalize`. */
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

/**
 * Per-image transforms applied after decoding and before the processor's resize: a pre-resize first, then
 * augmentation, then corruption. Plain data (structured-clone friendly), so it travels to worker threads.
 */
export interface ImageTransform {
  /**
   * Resize to exactly this size with Pillow's bicubic filter first (the paper's scripts resize un-augmented
   * images to 384×384 before the BLIP processor; torchvision's `Resize((384, 384), BICUBIC)` on PIL).
   */
  resize?: { width: number; height: number };
  /** Seeded augmentation (see `augmentImage`). */
  augment?: { spec: ImageAugmentSpec; seed: number };
  /** Seeded corruption at severity 1–5 (see `corruptImage`); `kind` is a `CorruptionKind` or an alias ("blur"). */
  corrupt?: { kind: string; severity: number; seed: number };
}

/** One image to process: everything a worker needs, structured-clone friendly. */
export interface ImageTask {
  input: ImageInput;
  settings: ProcessorSettings;
  load: ResolvedLoadOptions;
  /** Use sharp's resize (fast, not bit-identical to Pillow). */
  fastResize: boolean;
  /** Optional augmentation / corruption of the decoded image. */
  transform?: ImageTransform;
}

/** A processed image: float32 CHW pixel values and any warnings from decoding. */
export interface ImageTaskResult {
  data: Float32Array;
  width: number;
  height: number;
  warnings: string[];
  /** Whether the augmentation flipped the image horizontally (swap left/right in its caption). */
  flipped: boolean;
}

/**
 * Per-channel lookup tables u8 → float32 output value, computed with exactly HF's arithmetic:
 * `rescale`: `float32(float64(x) * factor)`; `normalize`: `float32(float32(x - float32(mean)) / float32(std))`.
 * Since the input is 8-bit, 3×256 entries cover every possible value.
 */
export function valueTables(settings: ProcessorSettings): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const table = new Float32Array(256);
    const mean = Math.fround(settings.imageMean[c]!);
    const std = Math.fround(settings.imageStd[c]!);
    for (let u = 0; u < 256; u++) {
      let v = settings.doRescale ? Math.fround(u * settings.rescaleFactor) : u;
      if (settings.doNormalize) v = Math.fround(Math.fround(v - mean) / std);
      table[u] = v;
    }
    return table;
  });
}

/** Writes RGB HWC pixels as float32 CHW through the per-channel tables. */
export function toChw(image: RgbImage, tables: Float32Array[], out = new Float32Array(3 * image.width * image.height)): Float32Array {
  const plane = image.width * image.height;
  const { data } = image;
  const [t0, t1, t2] = tables as [Float32Array, Float32Array, Float32Array];
  const plane2 = 2 * plane;
  for (let p = 0, i = 0; p < plane; p++, i += 3) {
    out[p] = t0[data[i]!]!;
    out[plane + p] = t1[data[i + 1]!]!;
    out[plane2 + p] = t2[data[i + 2]!]!;
  }
  return out;
}

/** Resizes decoded RGB as the processor would (Pillow-exact), or returns it unchanged when `doResize` is off. */
export function resizeForProcessor(image: RgbImage, settings: ProcessorSettings): RgbImage {
  if (!settings.doResize) return image;
  const { data, width, height } = resizePil(image, settings.size.width, settings.size.height, settings.resample);
  return { data, width, height, channels: 3 };
}

/**
 * Validates one transform (`name` labels errors, e.g. `transforms[2]`); unknown keys are errors.
 * Returns a normalised plain-data copy (augment spec with every field, kind resolved from an alias).
 */
export function parseImageTransform(name: string, value: unknown): ImageTransform {
  const t = knownKeys(name, value, ['resize', 'augment', 'corrupt']);
  const out: ImageTransform = {};
  if (t.resize !== undefined) {
    const r = knownKeys(`${name}.resize`, t.resize, ['width', 'height']);
    out.resize = {
      width: integerInRange(`${name}.resize.width`, r.width, 1, 1 << 15),
      height: integerInRange(`${name}.resize.height`, r.height, 1, 1 << 15),
    };
  }
  if (t.augment !== undefined) {
    const a = knownKeys(`${name}.augment`, t.augment, ['spec', 'seed']);
    out.augment = { spec: parseImageAugmentSpec(a.spec), seed: parseSeed(`${name}.augment.seed`, a.seed) };
  }
  if (t.corrupt !== undefined) {
    const c = knownKeys(`${name}.corrupt`, t.corrupt, ['kind', 'severity', 'seed']);
    out.corrupt = {
      kind: corruptionKind(c.kind),
      severity: integerInRange(`${name}.corrupt.severity`, c.severity, 1, 5),
      seed: parseSeed(`${name}.corrupt.seed`, c.seed),
    };
  }
  return out;
}

/** Applies a transform to decoded pixels: the pre-resize, augmentation, then corruption. */
export async function applyImageTransform(image: RgbImage, transform: ImageTransform): Promise<{ image: RgbImage; flipped: boolean }> {
  let out = image;
  let flipped = false;
  if (transform.resize !== undefined) {
    const { data, width, height } = resizePil(out, transform.resize.width, transform.resize.height, 'bicubic');
    out = { data, width, height, channels: 3 };
  }
  if (transform.augment !== undefined) {
    ({ image: out, flipped } = augmentImage(out, transform.augment.spec, transform.augment.seed));
  }
  if (transform.corrupt !== undefined) {
    const { kind, severity, seed } = transform.corrupt;
    out = await corruptImage(out, kind, severity, seed);
  }
  return { image: out, flipped };
}

/** Runs the whole per-image pipeline. */
export async function processImageTask(task: ImageTask): Promise<ImageTaskResult> {
  const { settings, transform } = task;
  let image: RgbImage;
  let warnings: string[] = [];
  let flipped = false;
  if (task.fastResize && settings.doResize && transform === undefined) {
    image = await decodeImageResizedFast(task.input, task.load, settings.size.width, settings.size.height, settings.resample);
  } else {
    const decoded = await decodeImage(task.input, task.load);
    warnings = decoded.warnings;
    image = decoded.image;
    if (transform !== undefined) ({ image, flipped } = await applyImageTransform(image, transform));
    image = task.fastResize && settings.doResize
      ? await decodeImageResizedFast(image, task.load, settings.size.width, settings.size.height, settings.resample)
      : resizeForProcessor(image, settings);
  }
  return { data: toChw(image, valueTables(settings)), width: image.width, height: image.height, warnings, flipped };
}
