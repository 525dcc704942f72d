/**
 * Pretraining: every parameter trainable, from random weights (Hugging Face's normal(0.02) initialisation),
 * on a captioning dataset. Writes a complete Hugging Face model directory (config.json, model.safetensors,
 * tokenizer files, preprocessor_config.json, generation_config.json) when done, replacing the target atomically;
 * resumable from checkpoints in `<outDir>.partial/` after a crash or kill.
 */
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { silentLogger, type Logger } from '../logger.js';
import { Blip2Model } from '../model/blip2-model.js';
import { parseBlip2Config } from '../model/config.js';
import { BlipImageProcessor } from '../image/processor.js';
import { T5Tokenizer } from '../text/tokenizer.js';
import type { CaptionDataset } from '../data/readers.js';
import { CaptionLoader, type CaptionBatch } from '../data/loader.js';
import { loadLoopCheckpoint, runTrainingLoop, saveLoopCheckpoint } from './loop.js';
import { resolveSchedule } from './schedule.js';
import { abortSignal, throwIfAborted } from '../abort.js';

export interface PretrainOptions {
  /** The model directory to write. */
  outDir: string;
  /** Hugging Face config.json of the model to train from scratch. */
  config: Record<string, unknown>;
  preprocessorConfig: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  /** A model directory whose tokenizer files (tokenizer.json, spiece.model, ...) are copied. */
  tokenizerDir: string;
  data: CaptionDataset;
  steps: number;
  batchSize: number;
  lr: number;
  betas?: [number, number];
  weightDecay?: number;
  warmupSteps?: number;
  minLrRatio?: number;
  maxGradNorm?: number;
  seed?: number;
  /** Prompt the model is trained with (and later captions with). */
  prompt?: string;
  threads?: number;
  checkpointEvery?: number;
  logger?: Logger;
  onStep?: (step: number, total: number, loss: number) => void;
  /** Stops after the step in progress, which is checkpointed; rejects with an AbortError (resumable). */
  signal?: AbortSignal;
  /** Extra JSON written to `<outDir>/pretrain.json` with the losses (e.g. the data's content hash). */
  metadata?: Record<string, unknown>;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'spiece.model'];

/** Trains a model from scratch and writes its directory; resumes an interrupted run of the same options. */
export async function pretrainModel(options: PretrainOptions): Promise<void> {
  const logger = options.logger ?? silentLogger;
  const signal = abortSignal('signal', options.signal);
  throwIfAborted(signal);
  const partial = `${options.outDir}.partial`;
  const checkpoints = join(partial, 'checkpoint');
  await mkdir(partial, { recursive: true });
  const config = parseBlip2Config(options.config, 'pretrain config');
  const model = await Blip2Model.random(config, { seed: options.seed ?? 0, ...(options.threads ? { threads: options.threads } : {}) });
  try {
    await model.setFullTraining(true);
    const processor = BlipImageProcessor.fromConfig(options.preprocessorConfig);
    await writeModelFiles(partial, options);
    const tokenizer = await T5Tokenizer.fromPretrained(partial);
    const schedule = resolveSchedule({
      kind: 'cosine', lr: options.lr, warmupSteps: options.warmupSteps ?? 0, totalSteps: options.steps, minLrRatio: options.minLrRatio ?? 0,
    });
    const losses: number[] = [];
    const saved = await loadLoopCheckpoint(model, checkpoints);
    if (saved) {
      losses.push(...(saved.extra.losses as number[]));
      logger.info(`pretraining: resuming at step ${saved.at.step} of ${options.steps}`);
    }
    const loader = new CaptionLoader(options.data, { batchSize: options.batchSize, seed: options.seed ?? 0, processor, dropLast: true });
    const prompt = options.prompt === undefined ? [] : tokenizer.encode(options.prompt);
    await runTrainingLoop<CaptionBatch, { loss: number }>({
      totalSteps: options.steps, epochs: Infinity, batchesPerEpoch: loader.batchesPerEpoch, gradAccum: 1, schedule,
      batches: (epoch, startBatch) => loader.epoch(epoch, { startBatch }),
      backward: async (batch) => ({
        loss: await model.backwardCrossEntropy({
          pixelValues: batch.pixelValues,
          inputIds: batch.captions.map(() => prompt),
          labels: tokenizer.encodeTargets(batch.captions).labels,
        }),
      }),
      optimizerStep: async (lr) => (await model.optimizerStep({
        lr, betas: options.betas ?? [0.9, 0.999], weightDecay: options.weightDecay ?? 0.01, maxGradNorm: options.maxGradNorm ?? 1,
      })).gradNorm,
      afterStep: ({ step, result }) => {
        losses.push(result.loss);
        options.onStep?.(step, options.steps, result.loss);
      },
      evalEverySteps: 0,
      checkpointEverySteps: options.checkpointEvery ?? 200,
      checkpointEachEpoch: false,
      checkpoint: (at) => saveLoopCheckpoint(model, checkpoints, at, schedule, { losses }),
      signal,
      abortMessage: (step) => `Pretraining aborted after step ${step} of ${options.steps}; checkpoint saved, run again to continue`,
      nonFiniteMessage: (what, value, at) =>
        `Non-finite ${what} ${value} in pretraining at step ${at.step + 1} (epoch ${at.epoch + 1}, batch ${at.nextBatch}); ` +
        (what === 'loss' ? 'stopped before the optimizer step' : 'the weights of this step are not saved'),
    }, saved?.at);
    await model.save(join(partial, 'model.safetensors'));
    await writeFileAtomic(join(partial, 'pretrain.json'), `${JSON.stringify({ ...options.metadata, steps: options.steps, losses }, null, 2)}\n`);
    await rm(checkpoints, { recursive: true, force: true });
    await rm(options.outDir, { recursive: true, force: true });
    await rename(partial, options.outDir);
    logger.info(`pretraining: wrote ${options.outDir} (final loss ${losses.at(-1)?.toFixed(3)})`);
  } finally {
    model.dispose();
  }
}

async function writeModelFiles(dir: string, options: PretrainOptions): Promise<void> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFileAtomic(join(dir, 'config.json'), json(options.config));
  await writeFileAtomic(join(dir, 'preprocessor_config.json'), json(options.preprocessorConfig));
  await writeFileAtomic(join(dir, 'generation_config.json'), json(options.generationConfig));
  const available = new Set(await readdir(options.tokenizerDir));
  for (const file of TOKENIZER_FILES) if (available.has(file)) await copyFile(join(options.tokenizerDir, file), join(dir, file));
}

/** Whether `dir` is a finished model directory (config.json and model.safetensors). */
export async function isModelDirectory(dir: string): Promise<boolean> {
  const ok = async (f: string) => stat(join(dir, f)).then((s) => s.isFile(), () => false);
  return (await ok('config.json')) && (await ok('model.safetensors'));
}

