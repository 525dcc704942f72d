/**
 * Evaluation of a captioner on a dataset: generate a caption per image (optionally under a corruption, for
 * robustness), then score them with the pycocoevalcap-identical metrics against all of each image's references.
 */
import { integerInRange, knownKeys, optional } from '../is.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Blip2Captioner } from '../captioner.js';
import type { CaptionDataset } from '../data/readers.js';
import { captionBatch, type Caption, type CaptionParts } from '../generation/caption.js';
import type { GenerationOptions } from '../generation/config.js';
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- CocoEvalOptions is named by the {@link}s below
import { cocoEval, type CocoEvalOptions, type CocoEvalResult, type MetricName } from '../metrics/coco-eval.js';
import { DEFAULT_METRICS } from '../metrics/registry.js';

import type { Corruption } from '../image/corrupt.js';

export interface EvaluateOptions {
  /** Decoding settings. Default: the model's generation defaults with maxNewTokens 24. */
  generation?: GenerationOptions;
  /** Prompt before the caption. Default none. */
  prompt?: string;
  /** Images per model batch. Default 16. */
  batchSize?: number;
  /** Evaluate only the first N images. */
  maxImages?: number;
  /** Corrupt every image first (robustness). */
  corrupt?: Corruption;
  /** Seed of the corruption noise. Default 0. */
  seed?: number;
  /** Resize every image to a size×size square (Pillow bicubic) before the processor (the paper's scripts: 384). */
  preResize?: number;
  /** Metrics (default bleu, meteor, rouge, cider). */
  metrics?: MetricName[];
  /** Caption preparation before scoring (see {@link CocoEvalOptions.tokenize}); default `ptb`. */
  tokenize?: 'ptb' | 'none';
  /** The official `spice-1.0.jar`, for `spice` in `metrics` (see {@link CocoEvalOptions.spiceJar}). */
  spiceJar?: string;
  /** The Java executable for `spiceJar` (default `"java"`). */
  javaPath?: string;
  logger?: Logger;
  /** Called with 0 before the first image (a progress bar's start), then after each batch. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Caption only shard `index` (0-based) of `count` contiguous shards of the images (after `maxImages`), with the
   * corruption noise each image gets in the whole run; the scores are then those of the shard alone.
   */
  shard?: { index: number; count: number };
}

export interface EvaluationResult {
  /** pycocoevalcap's corpus scores and per-image scores. */
  scores: CocoEvalResult;
  /** Predictions in COCO result format. */
  predictions: { image_id: string; caption: string }[];
}

/** Captions every image of `dataset` and scores the captions against the dataset's references. */
export async function evaluateCaptioner(
  captioner: Blip2Captioner,
  dataset: CaptionDataset,
  options?: EvaluateOptions,
): Promise<EvaluationResult> {
  const { samples, predictions } = await captionDataset(captioner, dataset, options);
  return { scores: await scorePredictions(samples, predictions, options ?? {}), predictions };
}

/** What {@link captionDataset} returns: the images it captioned, their captions and the generated token ids. */
export interface DatasetCaptions {
  samples: CaptionDataset['samples'];
  predictions: EvaluationResult['predictions'];
  /** Per image, the generated tokens after the start token, without padding. */
  tokenIds: number[][];
  /** The place of the first of `samples` among all images of the evaluation (non-zero for a shard). */
  offset: number;
}

/** The captioning half of {@link evaluateCaptioner}: captions the images (or a shard of them), scores nothing. */
export async function captionDataset(
  captioner: Blip2Captioner,
  dataset: CaptionDataset,
  options?: EvaluateOptions,
): Promise<DatasetCaptions> {
  const o = knownKeys('evaluate options', options, [
    'generation', 'prompt', 'batchSize', 'maxImages', 'corrupt', 'seed', 'metrics', 'tokenize', 'spiceJar', 'javaPath', 'logger', 'onProgress', 'preResize', 'shard',
  ]) as EvaluateOptions;
  const resize = optional(o.preResize, undefined, (v) => integerInRange('preResize', v, 1, 1 << 15));
  if (dataset.samples.length === 0) {
    const { missing, unreadable, noCaptions } = dataset.skipped;
    throw new Error(`No usable images in ${dataset.name} (${[
      missing ? `${missing} missing` : '', unreadable ? `${unreadable} unreadable` : '', noCaptions ? `${noCaptions} without captions` : '',
    ].filter(Boolean).join(', ') || 'empty'})`);
  }
  const batchSize = optional(o.batchSize, 16, (v) => integerInRange('batchSize', v, 1, 4096));
  const all = evaluationSamples(dataset, o.maxImages);
  const count = optional(o.shard, 1, (shard) => integerInRange('shard.count', shard.count, 1, all.length));
  const index = optional(o.shard, 0, (shard) => integerInRange('shard.index', shard.index, 0, count - 1));
  // the shard's first image's place in the whole run: corruption noise is seeded by it
  const offset = Math.floor((index * all.length) / count);
  const samples = all.slice(offset, Math.floor(((index + 1) * all.length) / count));
  const predictions: { image_id: string; caption: string }[] = [];
  const tokenIds: number[][] = [];
  const generation = { maxNewTokens: 24, ...o.generation };
  const parts: CaptionParts = {
    model: captioner.model,
    tokenizer: captioner.tokenizer,
    preprocess: (images, options) => captioner.preprocess(images, options),
    generationDefaults: captioner.generationOptions,
  };
  o.onProgress?.(0, samples.length);
  for (let start = 0; start < samples.length; start += batchSize) {
    const batch = samples.slice(start, start + batchSize);
    const transforms = o.corrupt || resize !== undefined
      ? batch.map((_, i) => ({
          ...(resize !== undefined ? { resize: { width: resize, height: resize } } : {}),
          ...(o.corrupt ? { corrupt: { kind: o.corrupt.kind, severity: o.corrupt.severity, seed: (o.seed ?? 0) * 1_000_003 + offset + start + i } } : {}),
        }))
      : undefined;
    const pixelValues = await captioner.preprocess(batch.map((s) => s.image), transforms ? { transforms } : undefined);
    const captions = await captionBatch(parts, pixelValues, { prompts: captioner.promptIds(o.prompt, batch.length), generation, perImage: 1, signal: undefined });
    captions.forEach((caption, i) => {
      const { text, tokenIds: sequence } = caption as Caption;
      tokenIds.push(sequence.slice(1));
      predictions.push({ image_id: batch[i]!.imageId, caption: text });
    });
    o.onProgress?.(Math.min(start + batchSize, samples.length), samples.length);
  }
  return { samples, predictions, tokenIds, offset };
}

/** The images {@link evaluateCaptioner} captions: the dataset's, or its first `maxImages`. */
export function evaluationSamples(dataset: CaptionDataset, maxImages?: number): CaptionDataset['samples'] {
  return optional(maxImages, dataset.samples, (v) => dataset.samples.slice(0, integerInRange('maxImages', v, 1, 1e9)));
}

/** Scores predictions (COCO result format) against the samples' references, as {@link evaluateCaptioner} does. */
export async function scorePredictions(
  samples: CaptionDataset['samples'], predictions: EvaluationResult['predictions'],
  options: Pick<EvaluateOptions, 'metrics' | 'tokenize' | 'spiceJar' | 'javaPath' | 'logger'> = {},
): Promise<CocoEvalResult> {
  const refs = new Map(samples.map((s) => [s.imageId, s.captions]));
  const preds = new Map(predictions.map((p) => [p.image_id, [p.caption]]));
  return cocoEval(refs, preds, {
    metrics: options.metrics ?? [...DEFAULT_METRICS],
    ...(options.tokenize !== undefined ? { tokenize: options.tokenize } : {}),
    ...(options.spiceJar !== undefined ? { spiceJar: options.spiceJar } : {}),
    ...(options.javaPath !== undefined ? { javaPath: options.javaPath } : {}),
    logger: options.logger ?? silentLogger,
  });
}
