/**
 * The model mode of `blip2-progressive eval`: caption a dataset with a model (and adapter), optionally under a
 * corruption, and score the captions against the dataset's references.
 *
 *   blip2-progressive eval --model ./blip2 --adapter runs/x/stages/3-scst/best --data val.json --corrupt blur:3
 */
import { writeFileAtomic } from '../io/atomic.js';
import type { Logger } from '../logger.js';
import { KARPATHY_SPLITS, loadDataset, type DatasetFormat, type KarpathySplit } from '../data/readers.js';
import { parseCorruption, type Corruption } from '../image/corrupt.js';
import type { MetricName } from '../metrics/coco-eval.js';
import { evaluateCaptioner, type EvaluationResult } from '../train/evaluate.js';
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

export async function evaluateWithModel(flags: ModelEvalFlags, logger: Logger, stderr: NodeJS.WritableStream): Promise<EvaluationResult> {
  if (flags.data === undefined) throw new UsageError('eval --model needs --data <annotation file>');
  const { dir, options } = await modelFromFlags(flags, stderr);
  const captioner = await loadCaptioner(dir, options, flags.adapter, logger);
  try {
    const dataset = await loadDataset({
      file: flags.data, ...(flags.imageRoot ? { imageRoot: flags.imageRoot } : {}), format: flags.format ?? 'auto', logger,
      // a Karpathy file without --split is scored on its test split (the split papers report), never on every image
      ...(flags.split ? { split: flags.split } : { role: 'test' as const }),
    });
    const draw = Boolean((stderr as { isTTY?: boolean }).isTTY) || flags.progress === true;
    let bar: ProgressBar | undefined;
    const result = await evaluateCaptioner(captioner, dataset, {
      generation: { ...(flags.numBeams ? { numBeams: flags.numBeams } : {}), maxNewTokens: flags.maxNewTokens ?? 24 },
      ...(flags.prompt !== undefined ? { prompt: flags.prompt } : {}),
      ...(flags.batchSize ? { batchSize: flags.batchSize } : {}),
      ...(flags.maxImages ? { maxImages: flags.maxImages } : {}),
      ...(flags.corrupt ? { corrupt: flags.corrupt } : {}),
      ...(flags.metrics ? { metrics: flags.metrics } : {}),
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
