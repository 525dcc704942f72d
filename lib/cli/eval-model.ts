/**
 * The model mode of `blip2-progressive eval`: caption a dataset with a model (and adapter), optionally under a
 * corruption, and score the captions against the dataset's references.
 *
 *   blip2-progressive eval --model ./blip2 --adapter runs/x/stages/3-scst/best --data val.json --corrupt blur:3
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeFileAtomic } from '../io/atomic.js';
import type { Logger } from '../logger.js';
import { KARPATHY_SPLITS, loadDataset, type DatasetFormat, type KarpathySplit } from '../data/readers.js';
import { parseCorruption, type Corruption } from '../image/corrupt.js';
import type { MetricName } from '../metrics/coco-eval.js';
import { evaluateCaptioner, evaluationSamples, scorePredictions, type EvaluationResult } from '../train/evaluate.js';
import { runShards } from './shards.js';
import { loadCaptioner, modelFromFlags, type ModelFlags } from './model-flags.js';
import { ProgressBar } from './progress.js';
import { UsageError } from './usage.js';

export interface ModelEvalFlags extends ModelFlags {
  adapter?: string;
  data?: string;
  imageRoot?: string;
  format?: DatasetFormat | 'auto';
  split?: KarpathySplit;
  corrupt?: Corruption;
  maxImages?: number;
  numBeams?: number;
  maxNewTokens?: number;
  prompt?: string;
  batchSize?: number;
  predsOut?: string;
  metrics?: MetricName[];
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

function loadEvalDataset(flags: ModelEvalFlags & { data: string }, logger: Logger) {
  return loadDataset({
    file: flags.data, ...(flags.imageRoot ? { imageRoot: flags.imageRoot } : {}), format: flags.format ?? 'auto', logger,
    // a Karpathy file without --split is scored on its test split (the split papers report), never on every image
    ...(flags.split ? { split: flags.split } : { role: 'test' as const }),
  });
}

/**
 * `--nproc n`: each of n processes captions a contiguous shard of the images (its own model copy, cores / n
 * threads) and writes its predictions; they are merged in dataset order and scored here, on every image at once.
 */
async function evaluateSharded(typed: (omit: readonly string[]) => string[], flags: ModelEvalFlags & { data: string }, logger: Logger): Promise<EvaluationResult> {
  const samples = evaluationSamples(await loadEvalDataset(flags, logger), flags.maxImages);
  const count = Math.min(flags.nproc!, samples.length);
  const dir = await mkdtemp(join(tmpdir(), 'blip2-eval-shards-'));
  try {
    const files = Array.from({ length: count }, (_, k) => join(dir, `shard-${k + 1}.json`));
    const shards = files.map((file, k) => ['--shard', `${k + 1}/${count}`, '--preds-out', file]);
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    const codes = await runShards('eval', shards, typed(['--nproc', '--preds-out', '--json', '--progress']), quiet);
    const failed = codes.filter((c) => c !== 0).length;
    if (failed > 0) throw new Error(`${failed} of ${count} evaluation shards failed (their messages are above)`);
    const predictions = (await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as EvaluationResult['predictions']))).flat();
    const scores = await scorePredictions(samples, predictions, flags.metrics, logger);
    if (flags.predsOut !== undefined) await writeFileAtomic(flags.predsOut, `${JSON.stringify(predictions, null, 2)}\n`);
    return { scores, predictions };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `typed` (see recordOptions) gives the flags as typed, for the shards of `--nproc`; without it --nproc is
 * ignored.
 */
export async function evaluateWithModel(
  flags: ModelEvalFlags, logger: Logger, stderr: NodeJS.WritableStream, typed?: (omit: readonly string[]) => string[],
): Promise<EvaluationResult> {
  if (flags.data === undefined) throw new UsageError('eval --model needs --data <annotation file>');
  const withData = flags as ModelEvalFlags & { data: string };
  if ((flags.nproc ?? 1) > 1 && flags.shard === undefined && typed) return evaluateSharded(typed, withData, logger);
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  const { dir, options } = await modelFromFlags(flags, stderr);
  const captioner = await loadCaptioner(dir, options, flags.adapter, logger);
  try {
    const dataset = await loadEvalDataset(withData, logger);
    const draw = Boolean((stderr as { isTTY?: boolean }).isTTY) || flags.progress === true;
    let bar: ProgressBar | undefined;
    const result = await evaluateCaptioner(captioner, dataset, {
      generation: { ...(flags.numBeams ? { numBeams: flags.numBeams } : {}), maxNewTokens: flags.maxNewTokens ?? 24 },
      ...(flags.prompt !== undefined ? { prompt: flags.prompt } : {}),
      ...(flags.batchSize ? { batchSize: flags.batchSize } : {}),
      ...(flags.maxImages ? { maxImages: flags.maxImages } : {}),
      ...(flags.corrupt ? { corrupt: flags.corrupt } : {}),
      ...(flags.metrics ? { metrics: flags.metrics } : {}),
      ...(shard ? { shard } : {}),
      logger,
      onProgress(done, total) {
        if (!draw) return;
        bar ??= new ProgressBar(stderr, total, 'eval', 'img');
        bar.update(done);
      },
    });
    if (flags.predsOut !== undefined) await writeFileAtomic(flags.predsOut, `${JSON.stringify(result.predictions, null, 2)}\n`);
    return result;
  } finally {
    captioner.dispose();
  }
}
