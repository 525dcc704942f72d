/**
 * The progressive fine-tuning run, as data: model, data, LoRA, evaluation and the list of stages. Parsed from
 * JSON with every key validated (unknown keys are errors, naming their path) and defaults applied.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isRepoId } from '../hub/repo.js';
import { boolean, integerInRange, InvalidParameterError, invalidParameterError, isPlainObject, knownKeys, nonEmptyString, numberInRange, oneOf } from '../is.js';
import { resolveLoraOptions, type ResolvedLoraConfig } from './lora-config.js';
import { parseFlipListWords, parseMatchCorruptions, type MatchCorruption } from '../data/loader.js';
import { PAPER_IMAGE_AUGMENT, parseImageAugmentSpec, type ResolvedImageAugmentSpec } from '../image/augment.js';
import { PAPER_CAPTION_AUGMENT, parseCaptionAugmentSpec, type CaptionAugmentSpec } from '../text/augment.js';
import { resolveScstOptions, type ResolvedScstOptions } from './scst.js';
import { KARPATHY_SPLITS, type DatasetFormat, type KarpathySplit } from '../data/readers.js';
import type { MetricName } from '../metrics/coco-eval.js';

/** An invalid run config; the message names the key path (`stages[1].lr`). */
export class RunConfigError extends TypeError {
  override name = 'RunConfigError';
}

export interface DataSpec {
  file: string;
  imageRoot?: string;
  format: DatasetFormat | 'auto';
  /** Karpathy files: the split to read. Default: the data's role (train → train, val → val). */
  split?: KarpathySplit;
  /** Karpathy files: with split train, also the restval images. Default false. */
  includeRestval?: boolean;
}

export interface StageSpec {
  name: string;
  /** Passes over the training set. */
  epochs: number;
  /** Stop the stage after this many optimizer steps (0 = no limit). */
  maxSteps: number;
  lr: number;
  schedule: 'constant' | 'linear' | 'cosine';
  warmupSteps: number;
  minLrRatio: number;
  batchSize: number;
  /** Micro-batches accumulated per optimizer step. */
  gradAccum: number;
  weightDecay: number;
  maxGradNorm: number;
  /**
   * Image and caption augmentation (always off during SCST): `true` in the config means the paper's settings
   * ({@link PAPER_IMAGE_AUGMENT}, {@link PAPER_CAPTION_AUGMENT}); an object `{ image?, caption? }` gives either
   * spec (e.g. a synonym table for the dataset's own words), `false` turning that half off.
   */
  augment: StageAugment | undefined;
  /** Start from fresh adapters on the base model instead of the previous stage's best. */
  freshAdapter: boolean;
  /** Start from this (earlier) stage's best adapter instead of the previous stage's (ablations). */
  from: string | undefined;
  /** Self-critical sequence training instead of cross-entropy. */
  scst: ResolvedScstOptions | undefined;
  /** Stop when val CIDEr has not improved by minDelta for `patience` evaluations (patience 0 = never stop). */
  earlyStopping: { patience: number; minDelta: number };
  /** Validate every N optimizer steps as well as at each epoch end (0 = epoch ends only). */
  evalEverySteps: number;
  /** Write a resumable checkpoint every N optimizer steps. */
  checkpointEverySteps: number;
  /**
   * Seed of this stage's fresh adapter and batch order (image order, caption picks, augmentation draws). Default:
   * derived from the run's seed and the stage's index. Two fresh-adapter stages with the same seed start from the
   * same adapter and see the same batches, so their rows differ only by what their settings change.
   */
  seed: number | undefined;
}

/** A stage's resolved augmentation: each half, or undefined when off. */
export interface StageAugment {
  image: ResolvedImageAugmentSpec | undefined;
  caption: Required<CaptionAugmentSpec> | undefined;
  /** Caption-matched, label-preserving corruptions (see CaptionLoaderOptions.matchCorruptions); undefined when off. */
  matchCorruptions?: MatchCorruption[];
  /** Words whose left-to-right lists a flip reverses in the caption (see CaptionLoaderOptions.flipListWords). */
  flipListWords?: string[];
}

/** `augment`: true (the paper's settings), false, or { image?: spec | false, caption?: spec | false }. */
function stageAugment(path: string, value: unknown): StageAugment | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { image: parseImageAugmentSpec(PAPER_IMAGE_AUGMENT), caption: parseCaptionAugmentSpec(PAPER_CAPTION_AUGMENT) };
  if (!isPlainObject(value)) throw invalidParameterError(path, 'true, false or { image?, caption? }', value);
  const o = knownKeys(path, value, ['image', 'caption', 'matchCorruptions', 'flipListWords']);
  const image = o.image === undefined ? PAPER_IMAGE_AUGMENT : o.image;
  const caption = o.caption === undefined ? PAPER_CAPTION_AUGMENT : o.caption;
  const spec: StageAugment = {
    image: image === false ? undefined : parseImageAugmentSpec(image),
    caption: caption === false ? undefined : parseCaptionAugmentSpec(caption),
  };
  if (o.matchCorruptions !== undefined) spec.matchCorruptions = parseMatchCorruptions(o.matchCorruptions);
  if (o.flipListWords !== undefined) spec.flipListWords = parseFlipListWords(o.flipListWords);
  return spec.image || spec.caption || spec.matchCorruptions?.length ? spec : undefined;
}

export interface RunSpec {
  /** The model directory (absolute), or a Hugging Face repo id when no directory of that name exists. */
  model: string;
  outDir: string;
  seed: number;
  prompt: string | undefined;
  train: DataSpec;
  val: DataSpec;
  lora: ResolvedLoraConfig;
  eval: { maxNewTokens: number; numBeams: number; batchSize: number; maxImages: number; metrics: MetricName[] };
  /** Evaluate the model before any stage (the paper's first table row). */
  zeroShot: boolean;
  stages: StageSpec[];
  device: string | undefined;
  dtype: 'float32' | 'bfloat16' | 'float16' | undefined;
  threads: number | undefined;
  // The settings below are left out of the spec (undefined) when not given, so that configs without them resolve
  // to the same config.json as before they existed and their run folders still resume.
  /**
   * What the stages train: `'lora'` (default) adapters on `lora.targetModules`; `'all'` every parameter of the model
   * (vision, Q-Former and language model; the best and final weights are saved as model.safetensors). The scripts'
   * partial fine-tuning (`{ lastBlocks, lmHead }`) is not implemented yet.
   */
  trainable?: Trainable;
  /** Gradient checkpointing of the vision encoder layers and the T5 blocks (the scripts turn it on). Default off. */
  gradientCheckpointing?: boolean;
  /**
   * Pad (and truncate) the training prompt to this many tokens, attention mask 0 on the padding — Hugging Face's
   * `processor(text=prompt, padding="max_length", max_length=16)` in the scripts. Default: the prompt's own length.
   */
  promptMaxLength?: number;
  /** Truncate training captions to this many tokens, `</s>` included (the scripts: 40). Default: no limit. */
  labelMaxLength?: number;
  /**
   * Resize un-augmented images (training stages without image augmentation, SCST, every validation) to a
   * size×size square, Pillow bicubic, before the processor: the scripts' 384 (`PAPER_PRE_RESIZE`). Default off.
   */
  preResize?: number;
}

/** What a run trains: adapters, or every parameter. */
export type Trainable = 'lora' | 'all';

/** `trainable`: 'lora', 'all', or the scripts' `{ lastBlocks, lmHead }` (validated, then refused: not implemented). */
function trainable(value: unknown): Trainable | undefined {
  if (value === undefined || value === 'lora' || value === 'all') return value;
  if (!isPlainObject(value)) throw invalidParameterError('trainable', '"lora", "all" or { lastBlocks, lmHead }', value);
  const o = knownKeys('trainable', value, ['lastBlocks', 'lmHead']);
  const blocks = integerInRange('trainable.lastBlocks', o.lastBlocks, 1, 1024);
  const head = o.lmHead === undefined ? false : boolean('trainable.lmHead', o.lmHead);
  throw new TypeError(
    `trainable { lastBlocks: ${blocks}, lmHead: ${head} } is not implemented yet: training only the language model's last ` +
    'blocks (and lm_head) needs native support for a trainable subset of parameters; use "lora" or "all"',
  );
}

type Raw = Record<string, unknown>;

function obj(path: string, value: unknown): Raw {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalidParameterError(path, 'object', value);
  return value;
}

function data(path: string, value: unknown, base: string): DataSpec {
  if (!isPlainObject(value)) throw invalidParameterError(path, 'object {file, imageRoot?, format?, split?, includeRestval?}', value);
  const o = knownKeys(path, value, ['file', 'imageRoot', 'format', 'split', 'includeRestval']);
  const spec: DataSpec = {
    file: resolve(base, nonEmptyString(`${path}.file`, o.file)),
    format: o.format === undefined ? 'auto' : oneOf(`${path}.format`, o.format, ['auto', 'vizwiz', 'coco', 'karpathy', 'processed', 'jsonl'] as const),
  };
  if (o.imageRoot !== undefined) spec.imageRoot = resolve(base, nonEmptyString(`${path}.imageRoot`, o.imageRoot));
  if (o.split !== undefined) spec.split = oneOf(`${path}.split`, o.split, KARPATHY_SPLITS);
  if (o.includeRestval !== undefined) spec.includeRestval = boolean(`${path}.includeRestval`, o.includeRestval);
  if (spec.format !== 'auto' && spec.format !== 'karpathy' && (spec.split !== undefined || spec.includeRestval !== undefined)) {
    throw new RunConfigError(`${path}.split and ${path}.includeRestval apply to Karpathy files only, but ${path}.format is "${spec.format}"`);
  }
  return spec;
}

const STAGE_KEYS = [
  'name', 'epochs', 'maxSteps', 'lr', 'schedule', 'warmupSteps', 'minLrRatio', 'batchSize', 'gradAccum', 'weightDecay',
  'maxGradNorm', 'augment', 'freshAdapter', 'from', 'scst', 'earlyStopping', 'evalEverySteps', 'checkpointEverySteps', 'seed',
];

function stage(path: string, value: unknown, index: number): StageSpec {
  if (!isPlainObject(value)) throw invalidParameterError(path, 'object', value);
  const o = knownKeys(path, value, STAGE_KEYS);
  const p = (k: string) => `${path}.${k}`;
  const es = obj(p('earlyStopping'), o.earlyStopping);
  knownKeys(p('earlyStopping'), es, ['patience', 'minDelta']);
  const scst = o.scst === undefined || o.scst === false ? undefined : resolveScstOptions(o.scst === true ? {} : o.scst);
  return {
    name: o.name === undefined ? `stage${index + 1}` : nonEmptyString(p('name'), o.name),
    epochs: o.epochs === undefined ? 1 : integerInRange(p('epochs'), o.epochs, 1, 10_000),
    maxSteps: o.maxSteps === undefined ? 0 : integerInRange(p('maxSteps'), o.maxSteps, 0, 1e9),
    lr: o.lr === undefined ? (scst ? 2e-5 : 1e-4) : numberInRange(p('lr'), o.lr, 0, 10),
    schedule: o.schedule === undefined ? 'cosine' : oneOf(p('schedule'), o.schedule, ['constant', 'linear', 'cosine'] as const),
    warmupSteps: o.warmupSteps === undefined ? 0 : integerInRange(p('warmupSteps'), o.warmupSteps, 0, 1e9),
    minLrRatio: o.minLrRatio === undefined ? 0 : numberInRange(p('minLrRatio'), o.minLrRatio, 0, 1),
    batchSize: o.batchSize === undefined ? 8 : integerInRange(p('batchSize'), o.batchSize, 1, 4096),
    gradAccum: o.gradAccum === undefined ? 1 : integerInRange(p('gradAccum'), o.gradAccum, 1, 4096),
    weightDecay: o.weightDecay === undefined ? 0.01 : numberInRange(p('weightDecay'), o.weightDecay, 0, 10),
    maxGradNorm: o.maxGradNorm === undefined ? 1 : numberInRange(p('maxGradNorm'), o.maxGradNorm, 0, 1e9),
    augment: scst === undefined ? stageAugment(p('augment'), o.augment) : undefined,
    freshAdapter: o.freshAdapter === undefined ? false : boolean(p('freshAdapter'), o.freshAdapter),
    from: o.from === undefined ? undefined : nonEmptyString(p('from'), o.from),
    scst,
    earlyStopping: {
      patience: es.patience === undefined ? 0 : integerInRange(p('earlyStopping.patience'), es.patience, 0, 1e6),
      minDelta: es.minDelta === undefined ? 0 : numberInRange(p('earlyStopping.minDelta'), es.minDelta, 0, 1e6),
    },
    evalEverySteps: o.evalEverySteps === undefined ? 0 : integerInRange(p('evalEverySteps'), o.evalEverySteps, 0, 1e9),
    checkpointEverySteps: o.checkpointEverySteps === undefined ? 50 : integerInRange(p('checkpointEverySteps'), o.checkpointEverySteps, 1, 1e9),
    seed: o.seed === undefined ? undefined : integerInRange(p('seed'), o.seed, 0, 2 ** 31),
  };
}

/** A model path relative to the config's folder, or a repo id (`org/name`) when no such directory exists there. */
function modelSource(model: string, base: string): string {
  const path = resolve(base, model);
  return isRepoId(model) && !existsSync(path) ? model : path;
}

const RUN_KEYS = [
  'model', 'outDir', 'seed', 'prompt', 'data', 'lora', 'eval', 'zeroShot', 'stages', 'device', 'dtype', 'threads',
  'trainable', 'gradientCheckpointing', 'promptMaxLength', 'labelMaxLength', 'preResize',
];

/**
 * Validates a run config object; relative paths resolve against `base` (the config file's directory).
 * @throws RunConfigError for anything the config gets wrong, naming the key path.
 */
export function parseRunConfig(json: unknown, base = process.cwd()): RunSpec {
  try {
    return resolveRunConfig(json, base);
  } catch (err) {
    if (err instanceof InvalidParameterError) throw new RunConfigError(err.message, { cause: err });
    throw err;
  }
}

function resolveRunConfig(json: unknown, base: string): RunSpec {
  const o = knownKeys('config', json, RUN_KEYS);
  const d = obj('data', o.data);
  knownKeys('data', d, ['train', 'val']);
  const e = obj('eval', o.eval);
  knownKeys('eval', e, ['maxNewTokens', 'numBeams', 'batchSize', 'maxImages', 'metrics']);
  if (!Array.isArray(o.stages) || o.stages.length === 0) throw invalidParameterError('stages', 'non-empty array of stages', o.stages);
  const stages = o.stages.map((s, i) => stage(`stages[${i}]`, s, i));
  const names = new Set<string>();
  for (const s of stages) {
    if (names.has(s.name)) throw new RunConfigError(`Stage names must be unique; "${s.name}" appears twice`);
    if (s.from !== undefined && !names.has(s.from)) {
      throw new RunConfigError(`Stage "${s.name}" starts from "${s.from}", which is not an earlier stage`);
    }
    names.add(s.name);
  }
  const metrics = (e.metrics ?? ['bleu', 'meteor', 'rouge', 'cider']) as unknown;
  if (!Array.isArray(metrics) || !metrics.every((m) => ['bleu', 'meteor', 'rouge', 'cider', 'spice'].includes(m as string)) || !metrics.includes('cider')) {
    throw invalidParameterError('eval.metrics', 'array of bleu, meteor, rouge, cider, spice that includes cider', metrics);
  }
  const spec: RunSpec = {
    model: modelSource(nonEmptyString('model', o.model), base),
    outDir: resolve(base, o.outDir === undefined ? 'runs/progressive' : nonEmptyString('outDir', o.outDir)),
    seed: o.seed === undefined ? 0 : integerInRange('seed', o.seed, 0, Number.MAX_SAFE_INTEGER),
    prompt: o.prompt === undefined || o.prompt === null ? undefined : nonEmptyString('prompt', o.prompt),
    train: data('data.train', d.train, base),
    val: data('data.val', d.val, base),
    lora: resolveLoraOptions(o.lora ?? {}),
    eval: {
      maxNewTokens: e.maxNewTokens === undefined ? 24 : integerInRange('eval.maxNewTokens', e.maxNewTokens, 1, 1024),
      numBeams: e.numBeams === undefined ? 1 : integerInRange('eval.numBeams', e.numBeams, 1, 64),
      batchSize: e.batchSize === undefined ? 16 : integerInRange('eval.batchSize', e.batchSize, 1, 4096),
      maxImages: e.maxImages === undefined ? 0 : integerInRange('eval.maxImages', e.maxImages, 0, 1e9),
      metrics: metrics as MetricName[],
    },
    zeroShot: o.zeroShot === undefined ? true : boolean('zeroShot', o.zeroShot),
    stages,
    device: o.device === undefined ? undefined : nonEmptyString('device', o.device),
    dtype: o.dtype === undefined ? undefined : oneOf('dtype', o.dtype, ['float32', 'bfloat16', 'float16'] as const),
    threads: o.threads === undefined ? undefined : integerInRange('threads', o.threads, 1, 1024),
  };
  const train = trainable(o.trainable);
  if (train !== undefined) spec.trainable = train;
  if (train === 'all') {
    const fresh = stages.find((s) => s.freshAdapter);
    if (fresh) throw new TypeError(`Stage "${fresh.name}" asks for a fresh adapter, but trainable "all" trains every parameter (no adapters)`);
  }
  if (o.gradientCheckpointing !== undefined) spec.gradientCheckpointing = boolean('gradientCheckpointing', o.gradientCheckpointing);
  if (o.promptMaxLength !== undefined) {
    if (spec.prompt === undefined) throw invalidParameterError('promptMaxLength', 'no value without a prompt', o.promptMaxLength);
    spec.promptMaxLength = integerInRange('promptMaxLength', o.promptMaxLength, 1, 512);
  }
  if (o.labelMaxLength !== undefined) spec.labelMaxLength = integerInRange('labelMaxLength', o.labelMaxLength, 2, 4096);
  if (o.preResize !== undefined) spec.preResize = integerInRange('preResize', o.preResize, 1, 1 << 15);
  return spec;
}

/** Reads and validates a run config file; relative paths in it are relative to the file. */
export async function readRunConfig(file: string): Promise<RunSpec> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read run config ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
  try {
    return parseRunConfig(json, dirname(isAbsolute(file) ? file : resolve(file)));
  } catch (err) {
    if (!(err instanceof RunConfigError)) throw err;
    throw new RunConfigError(`Invalid run config ${file}: ${err.message}`, { cause: err });
  }
}
