/**
 * BlipImageProcessor: Hugging Face's BLIP / BLIP-2 image preprocessing, bit-exact.
 *
 * `convert_to_rgb` (Pillow `convert("RGB")`) → resize to exactly `size` with Pillow's resampler
 * (bicubic by default) → `x * rescale_factor` (float64 then float32) → `(x - mean) / std` in float32 →
 * NCHW float32. Reads `preprocessor_config.json` as `save_pretrained` writes it.
 */
import { join } from 'node:path';
import { abortSignal, throwIfAborted } from '../abort.js';
import { boolean, integerInRange, invalidParameterError, isNumber, isPlainObject, knownKeys, oneOf, optional } from '../is.js';
import { readJsonFile } from '../io/json.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { resolveLoadOptions, type ImageInput, type LoadImageOptions } from './decode.js';
import { parseImageTransform, processImageTask, type ImageTask, type ImageTaskResult, type ImageTransform, type ProcessorSettings } from './pipeline.js';
import { defaultImagePool, type ImageWorkerPool } from './pool.js';
import { PIL_RESAMPLE, type ResampleFilter } from './resample.js';

export type { ImageTransform, ProcessorSettings } from './pipeline.js';

/** OpenAI CLIP normalisation mean, BLIP's default `image_mean`. */
export const OPENAI_CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** OpenAI CLIP normalisation std, BLIP's default `image_std`. */
export const OPENAI_CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** The keys BlipImageProcessor reads. */
const CONFIG_KEYS = [
  'do_convert_rgb', 'do_resize', 'size', 'resample', 'do_rescale', 'rescale_factor', 'do_normalize', 'image_mean', 'image_std',
] as const;

/** Bookkeeping keys Hugging Face writes into preprocessor configs; accepted and ignored. */
const IGNORED_HF_KEYS = ['image_processor_type', 'processor_class', '_processor_class', 'feature_extractor_type', 'auto_map'] as const;

const IMAGE_PROCESSOR_TYPES = ['BlipImageProcessor', 'BlipImageProcessorFast'] as const;

const FILTER_BY_PIL_ID: Record<number, ResampleFilter> = {
  [PIL_RESAMPLE.LANCZOS]: 'lanczos',
  [PIL_RESAMPLE.BILINEAR]: 'bilinear',
  [PIL_RESAMPLE.BICUBIC]: 'bicubic',
  [PIL_RESAMPLE.BOX]: 'box',
  [PIL_RESAMPLE.HAMMING]: 'hamming',
};

/** Options of {@link BlipImageProcessor.preprocess}. */
export interface PreprocessOptions {
  /**
   * Where the per-image work runs: an {@link ImageWorkerPool}, or `'main'` for the calling thread
   * (one image at a time). Default: the shared pool ({@link defaultImagePool}, one thread per core).
   */
  pool?: ImageWorkerPool | 'main';
  /** Decoding options (autoOrient, limitInputPixels, allowSvg, alpha, grey16, failOn). */
  load?: Omit<LoadImageOptions, 'logger'>;
  /**
   * Resize inside sharp (JPEG shrink-on-load, libvips kernels) instead of the Pillow-exact resampler.
   * Several times faster on large photos; **not bit-identical** to Hugging Face (a few 1/255 levels). Default false.
   */
  fastResize?: boolean;
  /** Receives decoder warnings. Default silent. */
  logger?: Logger;
  /**
   * Per-input augmentation / corruption, applied after decoding and before the resize; one entry per input
   * (`undefined` for none). Without it the output is Hugging Face-exact.
   */
  transforms?: (ImageTransform | undefined)[];
  /**
   * Cancels the batch: checked before it starts, between images on `'main'`, and when the pool is done; an
   * aborted call rejects with an error named 'AbortError'.
   */
  signal?: AbortSignal;
}

/** A batch of pixel values, NCHW float32. */
export interface PixelValues {
  data: Float32Array;
  shape: [number, number, number, number];
  /**
   * Present when `transforms` was given: whether each image was flipped horizontally (swap left/right in its caption).
   */
  flipped?: boolean[];
}

function parseSize(value: unknown): { height: number; width: number } {
  if (isNumber(value)) {
    const n = integerInRange('size', value, 1, 65535);
    return { height: n, width: n };
  }
  if (!isPlainObject(value) || !('height' in value) || !('width' in value) || Object.keys(value).length !== 2) {
    throw invalidParameterError('size', 'an object {"height", "width"} or an integer', value);
  }
  return { height: integerInRange('size.height', value.height, 1, 65535), width: integerInRange('size.width', value.width, 1, 65535) };
}

function parseTriple(name: string, value: unknown, positive: boolean): [number, number, number] {
  const values = isNumber(value) ? [value, value, value] : value;
  if (!Array.isArray(values) || values.length !== 3 || !values.every(isNumber) || (positive && !values.every((v) => v > 0))) {
    throw invalidParameterError(name, positive ? '3 positive numbers' : '3 finite numbers', value);
  }
  return values as [number, number, number];
}

/**
 * Validates a `preprocessor_config.json` object into {@link ProcessorSettings}; missing keys take
 * BlipImageProcessor's defaults. Unknown keys are errors, except Hugging Face's bookkeeping keys.
 */
export function parseProcessorConfig(json: unknown): ProcessorSettings {
  const c = knownKeys('preprocessor config', json, [...CONFIG_KEYS, ...IGNORED_HF_KEYS]);
  if (c.image_processor_type !== undefined) oneOf('image_processor_type', c.image_processor_type, IMAGE_PROCESSOR_TYPES);
  const resampleId = c.resample ?? PIL_RESAMPLE.BICUBIC;
  const resample = isNumber(resampleId) ? FILTER_BY_PIL_ID[resampleId] : undefined;
  if (resample === undefined) {
    throw invalidParameterError('resample', 'one of 1 (LANCZOS), 2 (BILINEAR), 3 (BICUBIC), 4 (BOX), 5 (HAMMING)', resampleId);
  }
  const rescaleFactor = c.rescale_factor ?? 1 / 255;
  if (!isNumber(rescaleFactor) || rescaleFactor <= 0) throw invalidParameterError('rescale_factor', 'positive number', rescaleFactor);
  return {
    doConvertRgb: optional(c.do_convert_rgb, true, (v) => boolean('do_convert_rgb', v)),
    doResize: optional(c.do_resize, true, (v) => boolean('do_resize', v)),
    size: optional(c.size, { height: 384, width: 384 }, parseSize),
    resample,
    doRescale: optional(c.do_rescale, true, (v) => boolean('do_rescale', v)),
    rescaleFactor,
    doNormalize: optional(c.do_normalize, true, (v) => boolean('do_normalize', v)),
    imageMean: optional(c.image_mean, [...OPENAI_CLIP_MEAN], (v) => parseTriple('image_mean', v, false)),
    imageStd: optional(c.image_std, [...OPENAI_CLIP_STD], (v) => parseTriple('image_std', v, true)),
  };
}

/** Hugging Face's BlipImageProcessor: images in, NCHW float32 `pixel_values` out. */
export class BlipImageProcessor {
  /** The validated settings. */
  readonly settings: ProcessorSettings;

  private constructor(settings: ProcessorSettings) {
    this.settings = settings;
  }

  /** Builds a processor from a parsed `preprocessor_config.json` object (see {@link parseProcessorConfig}). */
  static fromConfig(json: unknown): BlipImageProcessor {
    return new BlipImageProcessor(parseProcessorConfig(json));
  }

  /**
   * Reads `<dir>/preprocessor_config.json` (a Hugging Face model directory).
   * @throws FileError for a missing file or one that is not JSON; ArgumentError naming the key for a bad value.
   */
  static async fromPretrained(dir: string): Promise<BlipImageProcessor> {
    return BlipImageProcessor.fromConfig(await readJsonFile(join(dir, 'preprocessor_config.json'), 'preprocessor config'));
  }

  /**
   * Preprocesses a batch: each input is a path, encoded bytes or raw pixels (see {@link loadImage}).
   * Images are processed concurrently on the pool (or one by one on `'main'`) and stacked in input order.
   * With `do_resize` false every image must have the same size.
   * @throws ImageLoadError for an image that cannot be loaded (the first failure, in input order).
   */
  async preprocess(inputs: readonly ImageInput[], options?: PreprocessOptions): Promise<PixelValues> {
    const o = knownKeys('preprocess options', options, ['pool', 'load', 'fastResize', 'logger', 'transforms', 'signal']);
    const signal = abortSignal('signal', o.signal);
    throwIfAborted(signal);
    if (!Array.isArray(inputs) || inputs.length === 0) throw invalidParameterError('inputs', 'non-empty array of images', inputs);
    const transforms = parseTransforms(o.transforms, inputs.length);
    const { logger: _ignored, ...load } = resolveLoadOptions(o.load as LoadImageOptions | undefined);
    const fastResize = optional(o.fastResize, false, (v) => boolean('fastResize', v));
    const logger = (o.logger as Logger | undefined) ?? silentLogger;
    const tasks: ImageTask[] = inputs.map((input, i) => {
      const task: ImageTask = { input, settings: this.settings, load, fastResize };
      const transform = transforms?.[i];
      if (transform !== undefined) task.transform = transform;
      return task;
    });
    const pool = (o.pool as ImageWorkerPool | 'main' | undefined) ?? defaultImagePool();
    const results = pool === 'main' ? await runSequentially(tasks, signal) : await runOnPool(pool, tasks);
    throwIfAborted(signal);
    for (const result of results) for (const warning of result.warnings) logger.warn(warning);
    const pixels = stack(results);
    if (transforms !== undefined) pixels.flipped = results.map((r) => r.flipped);
    return pixels;
  }
}

function parseTransforms(value: unknown, count: number): (ImageTransform | undefined)[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== count) {
    throw invalidParameterError('transforms', `array of ${count} transforms (one per input)`, value);
  }
  return value.map((t, i) => optional(t, undefined, (v) => parseImageTransform(`transforms[${i}]`, v)));
}

async function runSequentially(tasks: ImageTask[], signal: AbortSignal | undefined): Promise<ImageTaskResult[]> {
  const results: ImageTaskResult[] = [];
  for (const task of tasks) {
    throwIfAborted(signal);
    results.push(await processImageTask(task));
  }
  return results;
}

async function runOnPool(pool: ImageWorkerPool, tasks: ImageTask[]): Promise<ImageTaskResult[]> {
  const settled = await Promise.allSettled(tasks.map((task) => pool.run(task)));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<ImageTaskResult>).value);
}

function stack(results: ImageTaskResult[]): PixelValues {
  const { width, height } = results[0]!;
  results.forEach((r, i) => {
    if (r.width !== width || r.height !== height) {
      throw new Error(`Cannot stack images of different sizes with do_resize false: input 0 is ${width}x${height}, input ${i} is ${r.width}x${r.height}`);
    }
  });
  const plane = 3 * width * height;
  const data = new Float32Array(results.length * plane);
  results.forEach((r, i) => data.set(r.data, i * plane));
  return { data, shape: [results.length, 3, height, width] };
}
