/**
 * The progressive fine-tuning run (the paper's method): an optional zero-shot evaluation, then each stage in
 * turn — cross-entropy LoRA, LoRA with augmentation, SCST — each starting from the previous stage's best adapter
 * (or fresh adapters), validating with all metrics, early-stopping on val CIDEr, keeping the best adapter, and
 * checkpointing so that a crash or kill -9 resumes where it stopped.
 *
 * Run directory:
 *   config.json            the resolved configuration
 *   run-state.json         finished stages (best adapter, scores) and the zero-shot scores
 *   log.jsonl              one line per optimizer step (loss, lr, gradient norm, SCST reward statistics)
 *   stages/<k>-<name>/     best/ (adapter), final/ (the adapter at the stage's last step), checkpoint/ (while
 *                          running), eval-<n>/ (metrics.json, predictions.json)
 *   results.md, results.json   the table, one row per stage
 */
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { appendFileNamed, writeFileAtomic } from '../io/atomic.js';
import { readJsonFile } from '../io/json.js';
import { silentLogger, type Logger } from '../logger.js';
import { Blip2Captioner } from '../captioner.js';
import { loadDataset, imageCaptions, resultsImageId, type CaptionDataset } from '../data/readers.js';
import { CaptionLoader, type CaptionBatch } from '../data/loader.js';
import { CiderDScorer } from '../metrics/cider.js';
import { javaProblem } from '../metrics/jars.js';
import { loadLoopCheckpoint, runTrainingLoop, saveLoopCheckpoint, type LoopPosition } from './loop.js';
import { lockRunDirectory } from './run-lock.js';
import { AbortError, abortSignal, throwIfAborted } from '../abort.js';
import { captionDataset, evaluateCaptioner, evaluationSamples, scorePredictions, type EvaluateOptions, type EvaluationResult } from './evaluate.js';
import { prepareTrainable, saveTrained, startStageWeights, trainingLabels, trainingPrompt } from './trainable.js';
import { corpusScores, resultsMarkdown, type ResultRow } from './results.js';
import { resolveDefaultModel, RunConfigError, type RunSpec, type StageSpec } from './run-config.js';
import { resolveAdapterDirectory, withTargetModules } from '../model/lora-config.js';
import { readBlip2Config } from '../model/config.js';
import { familyOf } from '../model/family.js';
import { resolveModel } from '../hub/resolve.js';
import { RUN_CONFIG_FILE, RUN_STATE_FILE, stageDirectory } from '../io/run-layout.js';
import { isPlainObject } from '../is.js';
import { resolveSchedule, type Schedule } from './schedule.js';
import { batchCiderReward, ciderReward, scstBackward, type RewardFunction, type ScstStepResult } from './scst.js';
import { gatherTokenIds, type ProcessGroup } from '../distributed/process-group.js';
import type { PixelValues } from '../image/processor.js';
import { IGNORE_INDEX } from '../text/labels.js';

/** One optimizer step, as logged. */
export interface StepEvent {
  stage: string;
  stageIndex: number;
  epoch: number;
  step: number;
  totalSteps: number;
  lr: number;
  loss: number;
  gradNorm: number;
  scst?: Pick<ScstStepResult, 'reward' | 'baseline' | 'advantage'>;
}

/** One validation. */
export interface EvalEvent {
  stage: string;
  step: number;
  cider: number;
  best: boolean;
}

/** Callbacks that follow a run (the CLI draws its progress bars from them). */
export interface RunEvents {
  /** A stage starts training; `startStep` is the step of the checkpoint it resumes from (0 for a fresh start). */
  onStageStart?(stage: StageSpec, index: number, totalSteps: number, startStep: number): void;
  onStep?(event: StepEvent): void;
  /** Validation progress: called with 0 before the first image, then after each batch. */
  onEvalProgress?(done: number, total: number): void;
  onEval?(event: EvalEvent): void;
  /** A stage has finished; `bestDir` holds its best adapter (or best weights). */
  onStageEnd?(stage: StageSpec, index: number, row: ResultRow, bestDir: string): void;
}

export interface RunOptions {
  /** Continue a run directory that holds an unfinished run of the same config. */
  resume?: boolean;
  logger?: Logger;
  events?: RunEvents;
  /**
   * Stops the run between optimizer steps: the step in progress (with its validation) finishes and is
   * checkpointed, then the promise rejects with an AbortError; `resume` continues from there.
   */
  signal?: AbortSignal;
  /**
   * Data parallelism: every rank of the group runs this same call; each takes its share of every global batch
   * (contiguous rows), gradients are summed weighted by each rank's share of the label tokens, so N ranks train
   * on exactly the batches one process sees and end with its weights up to float reduction order (with LoRA
   * dropout off; with it on, each rank draws its own masks). Every rank captions a contiguous shard of the
   * validation images; rank 0 scores them all and alone writes logs, checkpoints, adapters and results. The run
   * folder must be one that every rank can read (for the adapters a stage starts from, and for --resume).
   */
  group?: ProcessGroup;
  /**
   * With a group: `false` makes rank 0 caption every validation image alone while the others wait (the choice
   * before sharding; kept for measuring, see benchmarks/ddp.ts). Default true.
   */
  shardValidation?: boolean;
  /** Intra-op threads of this process, overriding the config's `threads` without changing the run's config. */
  threads?: number;
}

interface StageRecord {
  name: string;
  bestDir: string;
  bestCider: number;
  scores: ResultRow['scores'];
}

interface RunState {
  zeroShot?: ResultRow['scores'];
  stages: StageRecord[];
}

/** A stage's validation record, checkpointed with the loop's position. */
interface StageProgress {
  evals: number;
  bestCider: number | null;
  bestScores: ResultRow['scores'] | null;
  badEvals: number;
}

export { NonFiniteLossError } from './loop.js';

/** What a finished run returns. */
export interface RunSummary {
  rows: ResultRow[];
  markdown: string;
  outDir: string;
  /** The final stage's best adapter (`stages/<k>-<name>/best`; best weights with trainable "all"). */
  bestAdapter: string;
  /** True when the run folder held a finished run already (a resume with nothing left to do): nothing ran. */
  alreadyFinished: boolean;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/**
 * The spec with `lora.targetModules` set to the model family's default when the config names none, so that the run
 * folder's config.json records the modules trained (and a run written before the default followed the family
 * resumes).
 */
async function resolveLoraTargets(spec: RunSpec): Promise<RunSpec> {
  if (spec.lora.targetModules !== undefined) return spec;
  const config = await resolveModel(spec.model).then(({ dir }) => readBlip2Config(dir), () => undefined).catch(() => undefined);
  // a model that cannot be read here fails the run where it loads, after the checks that come first
  if (config === undefined) return spec;
  return { ...spec, lora: withTargetModules(spec.lora, familyOf(config).defaultLoraTargetModules) };
}

/**
 * Runs (or resumes) a progressive fine-tuning run and returns the results table. A model of `"default"` is the
 * built-in default model; `init` adapters of the stages still to run are checked before the model loads.
 */
export async function runProgressive(runSpec: RunSpec, options: RunOptions = {}): Promise<RunSummary> {
  abortSignal('signal', options.signal);
  throwIfAborted(options.signal);
  const spec = await resolveLoraTargets(await resolveDefaultModel(runSpec));
  const statePath = join(spec.outDir, RUN_STATE_FILE);
  // ranks other than 0 neither lock nor write: rank 0 owns the run folder
  if (options.group && options.group.rank !== 0) return runLocked(spec, options, statePath);
  await mkdir(spec.outDir, { recursive: true });
  const unlock = await lockRunDirectory(spec.outDir);
  try {
    const configPath = join(spec.outDir, RUN_CONFIG_FILE);
    const configText = `${JSON.stringify(spec, null, 2)}\n`;
    if (await exists(configPath)) {
      if (!options.resume) {
        throw new Error(`${spec.outDir} already holds a run; resume it (--resume) or choose another outDir`);
      }
      const changed = configDifferences(await readJsonFile(configPath, 'run config'), JSON.parse(configText));
      if (changed.length > 0) {
        const listed = changed.slice(0, MAX_LISTED_DIFFERENCES).join('; ') + (changed.length > MAX_LISTED_DIFFERENCES ? `; and ${changed.length - MAX_LISTED_DIFFERENCES} more` : '');
        throw new Error(`${spec.outDir} holds a run of a different config (${listed}); resume needs the same config (or choose another outDir)`);
      }
    } else {
      await writeFileAtomic(configPath, configText);
    }
    return await runLocked(spec, options, statePath);
  } finally {
    await unlock();
  }
}

/** The Java that runs the SPICE jar, checked before the model loads rather than at the first validation. */
async function checkJava(javaPath: string): Promise<void> {
  const problem = await javaProblem(javaPath);
  if (problem !== undefined) {
    throw new RunConfigError(`eval.javaPath: cannot run ${JSON.stringify(javaPath)} (${problem}); the SPICE jar (eval.spiceJar) needs Java 8 or newer: install it or set eval.javaPath`);
  }
}

/** How many differing keys a config mismatch names. */
const MAX_LISTED_DIFFERENCES = 8;

/**
 * Where two resolved configs differ, one entry per key path: `stages[1].lr: 0.0001 → 0.0002`. Lists of plain
 * values (metrics, target modules) count as one value; values longer than 60 characters are cut short with `…`.
 */
export function configDifferences(before: unknown, after: unknown, path = ''): string[] {
  const show = (value: unknown) => {
    const text = value === undefined ? '(not set)' : JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  };
  const listOfObjects = (value: unknown) => Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null);
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => configDifferences(before[key], after[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(before) && Array.isArray(after) && (listOfObjects(before) || listOfObjects(after))) {
    return Array.from({ length: Math.max(before.length, after.length) }, (_, i) => configDifferences(before[i], after[i], `${path}[${i}]`)).flat();
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [`${path}: ${show(before)} → ${show(after)}`];
}

async function runLocked(spec: RunSpec, options: RunOptions, statePath: string): Promise<RunSummary> {
  const logger = options.logger ?? silentLogger;
  const events = options.events ?? {};
  const state: RunState = (await exists(statePath)) ? (await readJsonFile(statePath, 'run state')) as RunState : { stages: [] };
  const ranks = rankView(options.group);
  const saveState = async () => { if (ranks.primary) await writeFileAtomic(statePath, `${JSON.stringify(state, null, 2)}\n`); };

  const finished = state.stages.filter(Boolean).length >= spec.stages.length && (!spec.zeroShot || state.zeroShot !== undefined);
  if (finished) return summarize(spec, state, ranks.primary, true);
  for (const [i, stage] of spec.stages.entries()) {
    if (stage.init === undefined || state.stages[i]) continue;
    await resolveAdapterDirectory(stage.init).catch((err: Error) => {
      throw new Error(`Stage "${stage.name}" (stages[${i}].init): ${err.message}`, { cause: err });
    });
  }

  // rank 0 alone scores
  if (ranks.primary && spec.eval.spiceJar !== undefined) await checkJava(spec.eval.javaPath ?? 'java');

  const captioner = await Blip2Captioner.fromPretrained(spec.model, {
    logger, ...(spec.device ? { device: spec.device } : {}), ...(spec.dtype ? { dtype: spec.dtype } : {}),
    ...(options.threads ?? spec.threads ? { threads: options.threads ?? spec.threads } : {}),
  });
  try {
    if (spec.gradientCheckpointing) await captioner.model.setGradientCheckpointing(true);
    const train = await loadDataset({ ...spec.train, role: 'train', logger, name: 'train' });
    const val = await loadDataset({ ...spec.val, role: 'val', logger, name: 'val' });
    logger.info(`data: ${train.samples.length} training images, ${val.samples.length} validation images`);
    // Validation: with a group, every rank captions a contiguous shard of the images and rank 0 scores them all
    // (benchmarks/ddp.ts measures it against rank 0 alone); other ranks get undefined.
    const evaluate = async (): Promise<EvaluationResult | undefined> => {
      const wasTraining = captioner.model.training;
      await captioner.model.setTraining(false);
      try {
        const evalOptions: EvaluateOptions = {
          generation: { maxNewTokens: spec.eval.maxNewTokens, numBeams: spec.eval.numBeams },
          ...(spec.prompt ? { prompt: spec.prompt } : {}),
          batchSize: spec.eval.batchSize,
          ...(spec.eval.maxImages ? { maxImages: spec.eval.maxImages } : {}),
          ...(spec.preResize ? { preResize: spec.preResize } : {}),
          metrics: spec.eval.metrics,
          ...(spec.eval.tokenize !== undefined ? { tokenize: spec.eval.tokenize } : {}),
          ...(spec.eval.spiceJar !== undefined ? { spiceJar: spec.eval.spiceJar } : {}),
          ...(spec.eval.javaPath !== undefined ? { javaPath: spec.eval.javaPath } : {}),
          logger,
          onProgress: events.onEvalProgress,
        };
        if (!ranks.group || options.shardValidation === false) {
          return ranks.primary ? await evaluateCaptioner(captioner, val, evalOptions) : undefined;
        }
        const { group } = ranks;
        const shard = await captionDataset(captioner, val, { ...evalOptions, shard: { index: group.rank, count: group.worldSize } });
        const all = evaluationSamples(val, evalOptions.maxImages);
        const ids = await gatherTokenIds(group, shard.tokenIds, shard.offset, all.length);
        if (!ranks.primary) return undefined;
        const predictions = all.map((sample, i) => ({ image_id: sample.imageId, caption: captioner.tokenizer.decode(ids[i]!, { skipSpecialTokens: true }) }));
        return { scores: await scorePredictions(all, predictions, evalOptions), predictions };
      } finally {
        await captioner.model.setTraining(wasTraining);
      }
    };

    throwIfAborted(options.signal);
    if (spec.zeroShot && !state.zeroShot) {
      logger.info('zero-shot evaluation');
      const result = await evaluate();
      if (result) {
        await writeEvaluation(join(spec.outDir, 'zero-shot'), result, val);
        state.zeroShot = corpusScores(result.scores);
        await saveState();
      }
    }

    let scorer: CiderDScorer | undefined;
    for (let i = 0; i < spec.stages.length; i++) {
      const stage = spec.stages[i]!;
      const stageDir = stageDirectory(spec.outDir, i, stage.name);
      if (state.stages[i]) {
        if (ranks.primary) await tidyFinishedStage(stageDir);
        continue;
      }
      if (ranks.primary) await removeKillLeftovers(stageDir);
      if (stage.scst && !scorer) scorer = new CiderDScorer(imageCaptions(train));
      const previous: StageStart = stage.init !== undefined ? { init: stage.init }
        : stage.from !== undefined ? state.stages.find((s) => s.name === stage.from) : i > 0 ? state.stages[i - 1] : undefined;
      if (options.signal?.aborted) throw new AbortError(`Training aborted before stage "${stage.name}" (stage ${i + 1}); resume the run to continue`, { cause: options.signal.reason });
      const record = await runStage(spec, stage, i, { captioner, train, val, evaluate, previous, scorer, logger, events, signal: options.signal, ranks });
      state.stages[i] = record;
      await saveState();
      if (ranks.primary) await rm(join(stageDir, 'checkpoint'), { recursive: true, force: true });
      // the next stage starts from the adapter rank 0 has just written
      await ranks.barrier();
      events.onStageEnd?.(stage, i, { stage: stage.name, scores: record.scores }, record.bestDir);
    }
    return await summarize(spec, state, ranks.primary, false);
  } finally {
    captioner.dispose();
  }
}

/**
 * The results of a run whose stages have all finished: the table (written to results.md / results.json by rank 0)
 * and where the final best adapter is.
 */
async function summarize(spec: RunSpec, state: RunState, primary: boolean, alreadyFinished: boolean): Promise<RunSummary> {
  const rows: ResultRow[] = [];
  if (state.zeroShot) rows.push({ stage: 'zero-shot', scores: state.zeroShot });
  for (const r of state.stages) rows.push({ stage: r.name, scores: r.scores });
  const markdown = resultsMarkdown(rows);
  if (primary) {
    if (alreadyFinished) for (const [i, stage] of spec.stages.entries()) await tidyFinishedStage(stageDirectory(spec.outDir, i, stage.name));
    await writeFileAtomic(join(spec.outDir, 'results.md'), markdown);
    await writeFileAtomic(join(spec.outDir, 'results.json'), `${JSON.stringify(rows, null, 2)}\n`);
  }
  const last = spec.stages.length - 1;
  return { rows, markdown, outDir: spec.outDir, bestAdapter: join(stageDirectory(spec.outDir, last, spec.stages[last]!.name), 'best'), alreadyFinished };
}

/** Writes a validation's metrics and predictions (COCO results, with the dataset's id type) into `dir`. */
async function writeEvaluation(dir: string, result: EvaluationResult, dataset: CaptionDataset): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { perImage, ...corpus } = result.scores;
  await writeFileAtomic(join(dir, 'metrics.json'), `${JSON.stringify({ corpus, perImage }, null, 2)}\n`);
  const id = resultsImageId(dataset);
  const predictions = result.predictions.map((p) => ({ image_id: id(p.image_id), caption: p.caption }));
  await writeFileAtomic(join(dir, 'predictions.json'), `${JSON.stringify(predictions, null, 2)}\n`);
}

/**
 * Removes what a killed process may have left in a stage folder: temporary files of an adapter save inside best/
 * and final/ (each adapter file is replaced atomically, in place), and the `best.tmp-<pid>` / `best.old-<pid>`
 * folders of earlier versions, which swapped whole folders (an `old` one is put back when `best` is missing).
 */
async function removeKillLeftovers(stageDir: string): Promise<void> {
  const entries = await readdir(stageDir).catch(() => [] as string[]);
  for (const entry of entries) {
    const swap = /^(best|final)\.(tmp|old)-\d+$/.exec(entry);
    if (!swap) continue;
    const target = join(stageDir, swap[1]!);
    if (swap[2] === 'old' && !(await exists(target))) await rename(join(stageDir, entry), target);
    else await rm(join(stageDir, entry), { recursive: true, force: true });
  }
  for (const kind of ['best', 'final']) {
    const dir = join(stageDir, kind);
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      if (/\.tmp-\d+/.test(entry)) await rm(join(dir, entry), { force: true });
    }
  }
}

/** Where a stage's weights start: an earlier stage's best, an `init` adapter, or (undefined) fresh ones. */
type StageStart = StageRecord | { init: string } | undefined;

/**
 * A recorded stage's folder: kill leftovers go, and the checkpoint a kill between recording and removing it left
 * behind.
 */
async function tidyFinishedStage(stageDir: string): Promise<void> {
  await removeKillLeftovers(stageDir);
  await rm(join(stageDir, 'checkpoint'), { recursive: true, force: true });
}

interface StageContext {
  captioner: Blip2Captioner;
  train: CaptionDataset;
  /** The validation set (for the id type of the predictions written). */
  val: CaptionDataset;
  /** Validates; rank 0 gets the result, other ranks undefined. */
  evaluate: () => Promise<EvaluationResult | undefined>;
  previous: StageStart;
  scorer: CiderDScorer | undefined;
  logger: Logger;
  events: RunEvents;
  signal: AbortSignal | undefined;
  ranks: RankView;
}

/** This process's place in a data-parallel run (a single process is rank 0 of 1). */
interface RankView {
  primary: boolean;
  group: ProcessGroup | undefined;
  /** Rank 0's value, on every rank. */
  fromPrimary(value: number): Promise<number>;
  /** Whether any rank says yes (e.g. that it was aborted), so that every rank acts on the same step. */
  any(flag: boolean): Promise<boolean>;
  barrier(): Promise<void>;
  /** This rank's rows [from, to) of a global batch of `size` rows. */
  rows(size: number): [number, number];
}

function rankView(group: ProcessGroup | undefined): RankView {
  if (!group) {
    return { primary: true, group, fromPrimary: async (v) => v, any: async (f) => f, barrier: async () => {}, rows: (size) => [0, size] };
  }
  return {
    primary: group.rank === 0,
    group,
    fromPrimary: async (v) => (await group.allReduce([group.rank === 0 ? v : 0], 'sum'))[0]!,
    any: async (f) => (await group.allReduce([f ? 1 : 0], 'max'))[0]! > 0,
    barrier: () => group.barrier(),
    rows: (size) => {
      if (size < group.worldSize) throw new Error(`A batch of ${size} rows cannot be shared by ${group.worldSize} ranks; use a batchSize of at least ${group.worldSize}`);
      return [Math.floor((group.rank * size) / group.worldSize), Math.floor(((group.rank + 1) * size) / group.worldSize)];
    },
  };
}

/** Rows [from, to) of pixel values (NCHW). */
function pixelRows(pixels: PixelValues, from: number, to: number): PixelValues {
  const per = pixels.shape[1] * pixels.shape[2] * pixels.shape[3];
  return { data: pixels.data.subarray(from * per, to * per), shape: [to - from, pixels.shape[1], pixels.shape[2], pixels.shape[3]] };
}

async function runStage(spec: RunSpec, stage: StageSpec, index: number, ctx: StageContext): Promise<StageRecord> {
  const { captioner, logger, events, ranks } = ctx;
  const model = captioner.model;
  const dir = stageDirectory(spec.outDir, index, stage.name);
  const checkpointDir = join(dir, 'checkpoint');
  const bestDir = join(dir, 'best');
  await mkdir(dir, { recursive: true });

  const loader = new CaptionLoader(ctx.train, {
    batchSize: stage.batchSize,
    // the stage's seed (default: derived from the run's seed and the stage's index), offset from the adapter's seed
    seed: (stage.seed ?? spec.seed + 7919 * index) + 7919,
    processor: captioner.imageProcessor,
    ...(stage.augment?.image ? { imageAugment: stage.augment.image } : {}),
    ...(spec.preResize ? { preResize: spec.preResize } : {}),
    ...(stage.augment?.caption ? { captionAugment: stage.augment.caption } : {}),
    ...(stage.augment?.matchCorruptions ? { matchCorruptions: stage.augment.matchCorruptions } : {}),
    ...(stage.augment?.flipListWords ? { flipListWords: stage.augment.flipListWords } : {}),
  });
  const stepsPerEpoch = Math.max(1, Math.floor(loader.batchesPerEpoch / stage.gradAccum));
  // `steps` passes over the data as often as it takes; `maxSteps` only caps the epochs' steps
  const epochs = stage.steps !== undefined ? Math.ceil(stage.steps / stepsPerEpoch) : stage.epochs;
  const totalSteps = stage.steps ?? (stage.maxSteps > 0 ? Math.min(stage.maxSteps, stepsPerEpoch * epochs) : stepsPerEpoch * epochs);
  let schedule: Schedule = resolveSchedule({
    kind: stage.schedule, lr: stage.lr, warmupSteps: stage.warmupSteps, totalSteps, minLrRatio: stage.minLrRatio,
  });

  // every generator of the stage starts from the stage's seed, in whichever process the stage starts
  const stageSeed = stage.seed ?? spec.seed + index;
  let progress: StageProgress = { evals: 0, bestCider: null, bestScores: null, badEvals: 0 };
  await prepareTrainable(model, spec);
  const saved = await loadLoopCheckpoint(model, checkpointDir);
  if (saved) {
    schedule = saved.schedule;
    progress = saved.extra as unknown as StageProgress;
    if (ranks.primary) await dropLogLinesAfter(join(spec.outDir, 'log.jsonl'), stage.name, saved.at.step);
    logger.info(`${stage.name}: resuming at step ${saved.at.step} (epoch ${saved.at.epoch + 1}, batch ${saved.at.nextBatch})`);
  } else {
    if (ranks.primary) await dropLogLinesAfter(join(spec.outDir, 'log.jsonl'), stage.name, 0);
    logger.info(await startStageWeights(model, spec, stage.name, stage.freshAdapter ? undefined : ctx.previous, stageSeed));
  }
  await model.setTraining(true);
  events.onStageStart?.(stage, index, totalSteps, saved?.at.step ?? 0);

  const validate = async (at: LoopPosition): Promise<boolean> => {
    // every rank takes part (each captions a shard); rank 0 scores, and the others get its CIDEr, so that every
    // rank takes the same early-stopping decision
    const result = await ctx.evaluate();
    const cider = await ranks.fromPrimary(result?.scores.CIDEr ?? 0);
    progress.evals += 1;
    if (result) await writeEvaluation(join(dir, `eval-${progress.evals}`), result, ctx.val);
    const improved = progress.bestCider === null || cider > progress.bestCider + stage.earlyStopping.minDelta;
    if (improved) {
      progress.bestCider = cider;
      progress.bestScores = result ? corpusScores(result.scores) : { CIDEr: cider };
      progress.badEvals = 0;
      if (ranks.primary) await saveTrained(captioner.model, bestDir);
    } else {
      progress.badEvals += 1;
    }
    logger.info(`${stage.name}: step ${at.step}, val CIDEr ${cider.toFixed(4)}${improved ? ' (best)' : ''}`);
    events.onEval?.({ stage: stage.name, step: at.step, cider, best: improved });
    return stage.earlyStopping.patience > 0 && progress.badEvals >= stage.earlyStopping.patience;
  };

  const end = await runTrainingLoop<CaptionBatch, MicroStepResult>({
    totalSteps, epochs, batchesPerEpoch: loader.batchesPerEpoch, gradAccum: stage.gradAccum, schedule,
    batches: (epoch, startBatch) => loader.epoch(epoch, { startBatch }),
    backward: (batch, step) => microStep(spec, stage, ctx, batch, step),
    optimizerStep: async (lr) => {
      if (ranks.group) await model.reduceGradients(ranks.group, { op: 'sum' });
      return (await model.optimizerStep({ lr, maxGradNorm: stage.maxGradNorm, weightDecay: stage.weightDecay })).gradNorm;
    },
    afterStep: async ({ step, epoch, lr, gradNorm, result }) => {
      const event: StepEvent = {
        stage: stage.name, stageIndex: index, epoch, step, totalSteps, lr, loss: result.loss, gradNorm,
        ...(result.scst ? { scst: result.scst } : {}),
      };
      if (ranks.primary) await appendFileNamed(join(spec.outDir, 'log.jsonl'), `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
      events.onStep?.(event);
    },
    evalEverySteps: stage.evalEverySteps,
    validate,
    checkpointEverySteps: stage.checkpointEverySteps,
    checkpointEachEpoch: true,
    checkpoint: async (at) => {
      if (ranks.primary) await saveLoopCheckpoint(model, checkpointDir, at, schedule, { ...progress });
    },
    signal: ctx.signal,
    agree: (aborted) => ranks.any(aborted),
    abortMessage: (step) => `Training aborted in stage "${stage.name}" (stage ${index + 1}) after step ${step}; checkpoint saved, resume the run to continue`,
    nonFiniteMessage: (what, value, at, checkpointed) =>
      `Non-finite ${what} ${value} in stage "${stage.name}" (stage ${index + 1}) at step ${at.step + 1} ` +
      `(epoch ${at.epoch + 1}, batch ${at.nextBatch}); ` +
      (what === 'loss' ? 'stopped before the optimizer step, nothing of this step was saved' : 'the weights of this step are not saved') +
      ` (${checkpointed === undefined ? 'no checkpoint of this stage yet' : `the last checkpoint is step ${checkpointed}`})`,
  }, saved?.at);
  if (progress.bestCider === null) await validate(end);
  if (ranks.primary) await saveTrained(captioner.model, join(dir, 'final'));
  return { name: stage.name, bestDir, bestCider: progress.bestCider!, scores: progress.bestScores! };
}

export { stageDirectory } from '../io/run-layout.js';

/** Removes the step-log lines a killed run wrote after its last checkpoint (they are about to be redone). */
async function dropLogLinesAfter(file: string, stage: string, step: number): Promise<void> {
  if (!(await exists(file))) return;
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => {
    if (line.trim() === '') return false;
    try {
      const entry = JSON.parse(line) as { stage?: string; step?: number };
      return !(entry.stage === stage && (entry.step ?? 0) > step);
    } catch {
      return false; // a line cut short by the kill
    }
  });
  await writeFileAtomic(file, lines.length ? `${lines.join('\n')}\n` : '');
}

const batchRewards = new WeakMap<CaptionDataset, RewardFunction>();

/** The stage's SCST reward: corpus CIDEr-D (default) or the paper's per-batch variant. */
function rewardFor(stage: StageSpec, ctx: StageContext): RewardFunction {
  if (stage.scst!.reward === 'corpus') return ciderReward(ctx.scorer!);
  let reward = batchRewards.get(ctx.train);
  if (!reward) batchRewards.set(ctx.train, (reward = batchCiderReward(imageCaptions(ctx.train))));
  return reward;
}

/** One micro-batch's loss (the global batch's, with a group) and SCST reward statistics. */
interface MicroStepResult {
  loss: number;
  scst?: StepEvent['scst'];
}

async function microStep(spec: RunSpec, stage: StageSpec, ctx: StageContext, batch: CaptionBatch, step: number): Promise<MicroStepResult> {
  const { captioner, ranks } = ctx;
  const allLabels = trainingLabels(captioner, spec, batch.captions);
  // this rank's rows of the global batch (all of them in a single process)
  const [from, to] = ranks.rows(allLabels.length);
  const labels = allLabels.slice(from, to);
  const pixelValues = from === 0 && to === allLabels.length ? batch.pixelValues : pixelRows(batch.pixelValues, from, to);
  const prompt = trainingPrompt(captioner, spec, to - from);
  if (!stage.scst) {
    // cross-entropy is a mean over label tokens: a rank's mean weighs by its share of the global batch's tokens
    const tokens = (rows: number[][]) => rows.reduce((n, row) => n + row.filter((t) => t !== IGNORE_INDEX).length, 0);
    const share = ranks.group ? tokens(labels) / tokens(allLabels) : 1;
    const loss = await captioner.model.backwardCrossEntropy({ pixelValues, ...prompt, labels }, { scale: share / stage.gradAccum });
    return { loss: ranks.group ? (await ranks.group.allReduce([loss * share], 'sum'))[0]! : loss };
  }
  // SCST: each rank samples and scores its own images; its loss weighs by its share of the images
  const share = (to - from) / allLabels.length;
  const options = { ...stage.scst, ceWeight: (stage.scst.ceWeight * share) / stage.gradAccum, rlWeight: (stage.scst.rlWeight * share) / stage.gradAccum };
  const result = await scstBackward(
    captioner.model, captioner.tokenizer,
    { imageIds: batch.samples.slice(from, to).map((s) => s.imageId), pixelValues, ...prompt, labels },
    rewardFor(stage, ctx), options, spec.seed * 1_000_003 + step * 7 + batch.index + 104_729 * from,
  );
  const loss = result.loss * stage.gradAccum;
  const scst = { reward: result.reward, baseline: result.baseline, advantage: result.advantage };
  return ranks.group ? combineScst(ranks.group, loss, scst, share) : { loss, scst };
}

/**
 * The global batch's SCST loss and reward statistics from each rank's, weighted by its share of the images (every
 * image has the same number of samples): means and second moments add up, minima and maxima reduce.
 */
async function combineScst(
  group: ProcessGroup, loss: number, scst: NonNullable<StepEvent['scst']>, share: number,
): Promise<{ loss: number; scst: NonNullable<StepEvent['scst']> }> {
  const parts = [scst.reward, scst.baseline, scst.advantage];
  const sums = await group.allReduce([loss * share, ...parts.flatMap((p) => [p.mean * share, (p.std ** 2 + p.mean ** 2) * share])], 'sum');
  const mins = await group.allReduce(parts.map((p) => p.min), 'min');
  const maxs = await group.allReduce(parts.map((p) => p.max), 'max');
  const [reward, baseline, advantage] = parts.map((_, k) => {
    const mean = sums[1 + 2 * k]!;
    return { mean, std: Math.sqrt(Math.max(0, sums[2 + 2 * k]! - mean * mean)), min: mins[k]!, max: maxs[k]! };
  });
  return { loss: sums[0]!, scst: { reward: reward!, baseline: baseline!, advantage: advantage! } };
}
