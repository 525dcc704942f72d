/**
 * Caption datasets and the training data loader: readers for VizWiz-Captions, COCO captions, Karpathy's
 * splits, the paper's processed json and JSONL, and a seeded, resumable, prefetching {@link CaptionLoader}.
 */
export {
  describeSkipped,
  detectFormat,
  imageCaptions,
  loadDataset,
  MAX_SKIPPED_EXAMPLES,
  type CaptionDataset,
  type CaptionSample,
  type DatasetFormat,
  type KarpathySplit,
  type LoadDatasetOptions,
  type SkippedImages,
} from './readers.js';
export {
  CaptionLoader,
  type BatchImageProcessor,
  type CaptionBatch,
  type CaptionLoaderOptions,
  type CaptionMode,
  type EpochOptions,
  type LoaderEntry,
  type LoaderPreprocessOptions,
  type MatchCorruption,
  parseMatchCorruptions,
} from './loader.js';
export {
  DATASET_FORMATS, DATASET_FORMAT_NAMES, DATASET_FORMAT_CHOICES, formatHasSplits, type DatasetFormatSpec,
} from './formats.js';
export { deriveSeed, SEED_STREAM, type SeedStream } from './seeds.js';
