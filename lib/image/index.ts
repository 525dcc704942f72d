/**
 * Image decoding and BLIP preprocessing: sharp decoding to Pillow-identical RGB, a Pillow-identical
 * resampler, Hugging Face's BlipImageProcessor, and the worker-thread pool that runs them.
 */
export {
  DEFAULT_LIMIT_INPUT_PIXELS,
  ImageLoadError,
  loadImage,
  type FailOn,
  type ImageInput,
  type ImageLoadErrorCode,
  type LoadImageOptions,
  type RawImageInput,
  type RgbImage,
} from './decode.js';
export type { AlphaMode, Grey16Mode } from './colour.js';
export { PIL_RESAMPLE, resizePil, type PixelBuffer, type ResampleFilter } from './resample.js';
export {
  BlipImageProcessor,
  OPENAI_CLIP_MEAN,
  OPENAI_CLIP_STD,
  parseProcessorConfig,
  type PixelValues,
  type PreprocessOptions,
  type ProcessorSettings,
} from './processor.js';
export { defaultImagePool, ImageWorkerPool, type ImageWorkerPoolOptions } from './pool.js';
