/**
 * The model mode of `blip2-progressive eval`: caption a dataset with a model (and adapter), optionally under a
 * corruption, and score the captions against the dataset's references with the same options as `--refs --preds`.
 * The dataset (and its images) is read before the model loads.
 *
 *   blip2-progressive eval --model ./blip2 --adapter runs/x/stages/3-scst/best --data val.json --corrupt blur:3
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeFileAtomic } from '../io/atomic.js';
import { optional } from '../is.js';
import { readJsonFile } from '../io/json.js';
import type { Logger } from '../logger.js';
import { KARPATHY_SPLITS, loadDataset, resultsImageId, type CaptionDataset, type KarpathySplit } from '../data/readers.js';
import { parseCorruption, type Corruption } from '../image/corrupt.js';
import { cocoEval, type CocoEvalOptions, type CocoEvalResult } from '../metrics/coco-eval.js';
import type { Id } from '../metrics/loaders.js';
import { evaluateCaptioner, evaluationSamples, type EvaluationResult } from '../train/evaluate.js';
import { runShards } from './shards.js';
import { checkAdapterFlag, loadCaptioner, modelFromFlags, type ModelFlags } from './model-flags.js';
import { ProgressBar } from './progress.js';
import { UsageError } from './usage.js';

export interface ModelEvalFlags extends ModelFlags {
  adapter?: string;
  data?: string;
  imageRoot?: string;
  split?: KarpathySplit;
  corrupt?: Corruption;
  maxImages?: number;
  numBeams?: number;
  maxNewTokens?: number;
  prompt?: string;
  batchSize?: number;
  predsOut?: string;
  progress?: boolean;
  /** Caption in this many processes, each on a contiguous shard of the images; scored here on all of them. */
  nproc?: number;
  /** Internal (a shard started by --nproc): "k/n", 1-based. */
  shard?: string;
}

/** `--shard k/n` (1-based) as evaluateCaptioner's 0-based shard. */
function parseShard(value: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const [k, n] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (!match || n < 1 || k < 1 || k > n) throw new UsageError(`--shard expects k/n with 1 <= k <= n but received ${JSON.stringify(value)}`);
  return { index: k - 1, count: n };
}

/** `--split test` as a flag parser (usage error naming the flag). */
export function parseSplitFlag(value: string): KarpathySplit {
  if (!(KARPATHY_SPLITS as readonly string[]).includes(value)) {
    throw new UsageError(`--split expects one of ${KARPATHY_SPLITS.join(', ')} but received ${JSON.stringify(value)}`);
  }
  return value as KarpathySplit;
}

/** `--corrupt blur:3` as a flag parser (usage error naming the flag). */
export function parseCorruptFlag(value: string): Corruption {
  try {
    return parseCorruption(value);
  } catch (err) {
    throw new UsageError(`--corrupt: ${(err as Error).message}`);
  }
}

/**
 * `eval --model`'s default --max-new-tokens: a run config's `eval.maxNewTokens` default, so that `eval --adapter
 * <run's best>` scores as the run's validation did. (`caption` follows the model's generation_config.json instead,
 * as Hugging Face generate does.)
 */
export const EVAL_MAX_NEW_TOKENS = 24;

/** How eval scores: cocoEval's options as the flags give them (the logger comes from the command). */
export type ScoringOptions = Omit<CocoEvalOptions, 'logger'>;

/** Predictions and scores, their image ids with the dataset's JSON type (numbers for COCO and VizWiz). */
export interface ModelEvaluation {
  scores: CocoEvalResult;
  predictions: { image_id: Id; caption: string }[];
}

/** Reads the dataset (checking its images) before any model loads; no usable image is an error. */
async function loadEvalDataset(flags: ModelEvalFlags & { data: string }, logger: Logger): Promise<CaptionDataset> {
  const dataset = await loadDataset({
    file: flags.data, ...(flags.imageRoot ? { imageRoot: flags.imageRoot } : {}), format: 'auto', logger,
    // a Karpathy file without --split is scored on its test split (the split papers report), never on every image
    ...(flags.split ? { split: flags.split } : { role: 'test' as const }),
  });
  if (dataset.samples.length === 0) {
    const { missing, unreadable, noCaptions } = dataset.skipped;
    const why = [missing ? `${missing} missing` : '', unreadable ? `${unreadable} unreadable` : '', noCaptions ? `${noCaptions} without captions` : ''];
    throw new Error(`No usable images in ${dataset.name} (${why.filter(Boolean).join(', ') || 'empty'})`);
  }
  return dataset;
}

/** Scores predictions against the samples' references with every eval option (SPICE and the jars included). */
function scoreSamples(
  samples: CaptionDataset['samples'], predictions: EvaluationResult['predictions'], scoring: ScoringOptions, logger: Logger,
): Promise<CocoEvalResult> {
  const refs = new Map(samples.map((s) => [s.imageId, s.captions]));
  const preds = new Map(predictions.map((p) => [p.image_id, [p.caption]]));
  return cocoEval(refs, preds, { ...scoring, logger });
}

async function writePredictions(path: string, predictions: readonly { image_id: Id; caption: string }[]): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(predictions, null, 2)}\n`);
}

/**
 * `--nproc n`: each of n processes captions a contiguous shard of the images (its own model copy, cores / n
 * threads) and writes its predictions; they are merged in dataset order and scored here, on every image at once.
 */
async function evaluateSharded(
  typed: (omit: readonly string[]) => string[], flags: ModelEvalFlags, dataset: CaptionDataset, scoring: ScoringOptions, logger: Logger,
): Promise<EvaluationResult> {
  const samples = evaluationSamples(dataset, flags.maxImages);
  const count = Math.min(flags.nproc!, samples.length);
  const dir = await mkdtemp(join(tmpdir(), 'blip2-eval-shards-'));
  try {
    const files = Array.from({ length: count }, (_, k) => join(dir, `shard-${k + 1}.json`));
    const shards = files.map((file, k) => ['--shard', `${k + 1}/${count}`, '--preds-out', file]);
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    const codes = await runShards('eval', shards, typed(['--nproc', '--preds-out', '--per-image', '--json', '--progress']), quiet);
    const failed = codes.filter((c) => c !== 0).length;
    if (failed > 0) throw new Error(`${failed} of ${count} evaluation shards failed (their messages are above)`);
    const predictions = (await Promise.all(files.map(async (f) => (await readJsonFile(f, 'shard predictions')) as ModelEvaluation['predictions']))).flat()
      .map((p) => ({ image_id: String(p.image_id), caption: p.caption }));
    return { scores: await scoreSamples(samples, predictions, scoring, logger), predictions };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Captions the dataset (or the shard of it that `--shard` names) in this process. */
async function evaluateHere(flags: ModelEvalFlags, dataset: CaptionDataset, logger: Logger, stderr: NodeJS.WritableStream): Promise<EvaluationResult> {
  const shard = optional(flags.shard, undefined, parseShard);
  const { dir, options } = await modelFromFlags(flags, stderr);
  const captioner = await loadCaptioner(dir, options, flags.adapter, logger);
  try {
    const draw = Boolean((stderr as { isTTY?: boolean }).isTTY) || flags.progress === true;
    let bar: ProgressBar | undefined;
    return await evaluateCaptioner(captioner, dataset, {
      generation: { ...(flags.numBeams ? { numBeams: flags.numBeams } : {}), maxNewTokens: flags.maxNewTokens ?? EVAL_MAX_NEW_TOKENS },
      ...(flags.prompt !== undefined ? { prompt: flags.prompt } : {}),
      ...(flags.batchSize ? { batchSize: flags.batchSize } : {}),
      ...(flags.maxImages ? { maxImages: flags.maxImages } : {}),
      ...(flags.corrupt ? { corrupt: flags.corrupt } : {}),
      // evaluateCaptioner always scores; the cheapest metric, as the scores reported are computed with every eval
      // option by the caller
      metrics: ['bleu'],
      ...(shard ? { shard } : {}),
      logger,
      onProgress(done, total) {
        if (!draw) return;
        bar ??= new ProgressBar(stderr, total, 'eval', 'img');
        bar.update(done);
      },
    });
  } finally {
    captioner.dispose();
  }
}

/**
 * Captions `--data` with the model (`--model`, else the built-in default model) and scores the captions with
 * `scoring`. `typed` (see recordOptions) gives the flags as typed, for the shards of `--nproc`; without it --nproc
 * is ignored. A shard process (`--shard k/n`) only writes its predictions; its scores cover its shard alone.
 */
export async function evaluateWithModel(
  flags: ModelEvalFlags, scoring: ScoringOptions, logger: Logger, stderr: NodeJS.WritableStream, typed?: (omit: readonly string[]) => string[],
): Promise<ModelEvaluation> {
  if (flags.data === undefined) throw new UsageError('eval --model needs --data <annotation file>');
  if (flags.shard !== undefined) parseShard(flags.shard);
  await checkAdapterFlag(flags.adapter);
  const dataset = await loadEvalDataset(flags as ModelEvalFlags & { data: string }, logger);
  let result: EvaluationResult;
  if ((flags.nproc ?? 1) > 1 && flags.shard === undefined && typed) {
    result = await evaluateSharded(typed, flags, dataset, scoring, logger);
  } else {
    result = await evaluateHere(flags, dataset, logger, stderr);
    if (flags.shard === undefined) result.scores = await scoreSamples(evaluationSamples(dataset, flags.maxImages), result.predictions, scoring, logger);
  }
  const id = resultsImageId(dataset);
  const predictions = result.predictions.map((p) => ({ image_id: id(p.image_id), caption: p.caption }));
  if (flags.predsOut !== undefined) await writePredictions(flags.predsOut, predictions);
  return { scores: { ...result.scores, perImage: result.scores.perImage.map((p) => ({ ...p, image_id: id(p.image_id) })) }, predictions };
}
