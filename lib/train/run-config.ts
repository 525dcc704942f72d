/**
 * The progressive fine-tuning run, as data: model, data, LoRA, evaluation and the list of stages. Parsed from
 * JSON with every key validated (unknown keys are errors, naming their path) and defaults applied.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { isRepoId } from '../hub/repo.js';
import { boolean, integerInRange, invalidParameterError, isPlainObject, knownKeys, nonEmptyString, numberInRange, optional } from '../is.js';
import { ArgumentError, ConfigError } from '../errors.js';
import { readJsonFile } from '../io/json.js';
import { LORA_KEYS, resolveLoraOptions, type ResolvedLoraConfig } from '../model/lora-config.js';
import { DTYPES, type DtypeOption } from '../model/blip2-model.js';
import { booleanKey, choiceKey, integerKey, numberKey, readTable, renderTable, stringKey, type ConfigKey, type ConfigTable, type ReadContext } from '../config-table.js';
import { defaultModelDir } from '../hub/default-model.js';
import { parseFlipListWords, parseMatchCorruptions, type MatchCorruption } from '../data/loader.js';
import { PAPER_IMAGE_AUGMENT, parseImageAugmentSpec, type ResolvedImageAugmentSpec } from '../image/augment.js';
import { PAPER_CAPTION_AUGMENT, parseCaptionAugmentSpec, type CaptionAugmentSpec } from '../text/augment.js';
import { resolveScstOptions, SCST_KEYS, type ResolvedScstOptions } from './scst.js';
import { KARPATHY_SPLITS, type DatasetFormat, type KarpathySplit } from '../data/readers.js';
import { DATASET_FORMAT_CHOICES, formatHasSplits } from '../data/formats.js';
import { DEFAULT_METRICS, METRIC_NAMES, defaultMetrics, type MetricName } from '../metrics/registry.js';
import { generationOption } from '../generation/options.js';

/**
 * An invalid run config, a {@link ConfigError} (code `BLIP2_BAD_CONFIG`); the message names the key path
 * (`stages[1].lr`).
 */
export class RunConfigError extends ConfigError {
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
  /** Passes over the training set (ignored with `steps`). */
  epochs: number;
  /** Exactly this many optimizer steps, as many passes over the training set as they take (undefined: by epochs). */
  steps: number | undefined;
  /** A cap: stop the stage after this many optimizer steps if its epochs have not ended sooner (0 = no cap). */
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
  /**
   * Start from this adapter folder (absolute; a finished run's folder means its final adapter) instead of the previous
   * stage's best.
   */
  init: string | undefined;
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
  eval: EvalSpec;
  /** Evaluate the model before any stage (the paper's first table row). */
  zeroShot: boolean;
  stages: StageSpec[];
  device: string | undefined;
  dtype: DtypeOption | undefined;
  threads: number | undefined;
  // The settings below are left out of the spec (undefined) when not given, so that configs without them resolve
  // to the same config.json as before they existed and their run folders still resume.
  /**
   * What the stages train: `'lora'` (default) adapters on `lora.targetModules`; `'all'` every parameter of the model
   * (vision, Q-Former and language model; the best and final weights are saved as model.safetensors);
   * `{ lastBlocks, lmHead }` the scripts' partial fine-tuning: the last `lastBlocks` blocks of the T5 encoder and of
   * the T5 decoder (and the LM head with `lmHead`), everything else frozen, saved like `'all'`.
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

/** What a run trains: adapters, every parameter, or the language model's last blocks (and LM head). */
export type Trainable = 'lora' | 'all' | { lastBlocks: number; lmHead: boolean };

/** Whether a run with this `trainable` trains model weights (saved as model.safetensors) rather than adapters. */
export function trainsWeights(value: Trainable | undefined): boolean {
  return value !== undefined && value !== 'lora';
}

/** `trainable`: 'lora', 'all', or the scripts' `{ lastBlocks, lmHead }`. */
function trainable(value: unknown): Trainable | undefined {
  if (value === undefined || value === 'lora' || value === 'all') return value;
  if (!isPlainObject(value)) throw invalidParameterError('trainable', '"lora", "all" or { lastBlocks, lmHead }', value);
  const o = knownKeys('trainable', value, ['lastBlocks', 'lmHead']);
  const lastBlocks = integerInRange('trainable.lastBlocks', o.lastBlocks, 1, 1024);
  const lmHead = optional(o.lmHead, false, (v) => boolean('trainable.lmHead', v));
  return { lastBlocks, lmHead };
}

/** A path in the config, resolved against the config file's folder. */
function pathKey(doc: string, defaultDoc = '—'): ConfigKey<string | undefined> {
  return { type: 'string (path)', default: defaultDoc, doc, read: (value, name, { base }) => optional(value, undefined, (v) => resolve(base, nonEmptyString(name, v))) };
}

/** A nested object read by its own table (documented in a table of its own). */
function objectKey<T>(type: string, defaultDoc: string, doc: string, read: (value: unknown, name: string, context: ReadContext) => T): ConfigKey<T> {
  return { type, default: defaultDoc, doc, read };
}

/** The keys of `data.train` and `data.val`. */
export const DATA_KEYS = {
  file: {
    type: 'string (path)', default: '— (required)',
    doc: 'The annotation file: VizWiz-Captions, COCO captions, Karpathy\'s `dataset_coco.json`, the paper\'s `processed_*.json` or JSONL (one `{"image", "captions", "image_id"?}` per line).',
    read: (value: unknown, name: string, { base }: ReadContext) => resolve(base, nonEmptyString(name, value)),
  },
  imageRoot: pathKey('The folder image paths in the file are relative to.', 'the annotation file\'s folder'),
  format: choiceKey(DATASET_FORMAT_CHOICES, 'auto', 'The file\'s format; `auto` detects it (a `.jsonl` name, JSONL-looking text, else the JSON\'s shape).'),
  split: choiceKey(KARPATHY_SPLITS, undefined, 'Karpathy files: the split to read.', 'the role\'s: `train` for `data.train`, `val` for `data.val`'),
  includeRestval: booleanKey(undefined, 'Karpathy files with split `train`: also the restval images.', 'false'),
} satisfies ConfigTable;

function data(path: string, value: unknown, context: ReadContext): DataSpec {
  const o = readTable(DATA_KEYS, value ?? {}, path, `${path}.`, context);
  const spec: DataSpec = { file: o.file, format: o.format };
  if (o.imageRoot !== undefined) spec.imageRoot = o.imageRoot;
  if (o.split !== undefined) spec.split = o.split;
  if (o.includeRestval !== undefined) spec.includeRestval = o.includeRestval;
  if (!formatHasSplits(spec.format) && (spec.split !== undefined || spec.includeRestval !== undefined)) {
    throw new RunConfigError(`${path}.split and ${path}.includeRestval apply to Karpathy files only, but ${path}.format is "${spec.format}"`);
  }
  return spec;
}

/** The keys of `eval` (every validation, the zero-shot one included). */
export const EVAL_KEYS = {
  maxNewTokens: integerKey(...generationOption('maxNewTokens').range!, 24, 'Longest validation caption, in tokens.'),
  numBeams: integerKey(...generationOption('numBeams').range!, 1, 'Beam width (1: greedy).'),
  batchSize: integerKey(1, 4096, 16, 'Images per generation batch.'),
  maxImages: integerKey(0, 1e9, 0, 'Validate on the first N images of `data.val` only (0: all of them); every score in the table is then on those N.'),
  metrics: {
    type: `array of ${METRIC_NAMES.map((m) => JSON.stringify(m)).join(', ')}`, default: `${JSON.stringify(DEFAULT_METRICS).replace(/,/g, ', ')}, and "spice" with \`spiceJar\``,
    doc: 'Metrics of every validation; must include `cider` (early stopping and the best adapter go by val CIDEr). `spice` needs `spiceJar`.',
    read: (value: unknown, name: string): MetricName[] | undefined => {
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || !value.every((m) => (METRIC_NAMES as readonly unknown[]).includes(m)) || !value.includes('cider')) {
        throw invalidParameterError(name, `array of ${METRIC_NAMES.join(', ')} that includes cider`, value);
      }
      return value as MetricName[];
    },
  },
  tokenize: choiceKey(['ptb', 'none'], undefined, 'How captions are prepared before scoring: `ptb` is pycocoevalcap\'s (Stanford PTB tokenizer, punctuation dropped); `none` the paper\'s `eval_utils.py` (lower-cased, split on spaces). Early stopping and the table use it.', '"ptb"'),
  spiceJar: pathKey('The official `spice-1.0.jar` (its `lib/` of Stanford CoreNLP jars beside it): every validation then scores SPICE with it, on the PTB-tokenized captions as pycocoevalcap. Must be a file when `metrics` includes `spice`; Java is checked when the run starts, before the model loads.', '— (no SPICE)'),
  javaPath: {
    type: 'string', default: '"java"', doc: 'The Java 8+ executable that runs `spiceJar`: a command on the PATH, or a path (relative to the config file\'s folder).',
    read: (value: unknown, name: string, { base }: ReadContext) => {
      if (value === undefined) return undefined;
      const java = nonEmptyString(name, value);
      return /[\\/]/.test(java) ? resolve(base, java) : java;
    },
  },
} satisfies ConfigTable;

/** What a run's validations compute. */
export interface EvalSpec {
  maxNewTokens: number;
  numBeams: number;
  batchSize: number;
  maxImages: number;
  metrics: MetricName[];
  /** Caption preparation before scoring; absent: `ptb` (pycocoevalcap). */
  tokenize?: 'ptb' | 'none';
  /** The SPICE jar (absolute), present when `metrics` includes `spice`. */
  spiceJar?: string;
  /** The Java executable for `spiceJar`; absent: `java` on the PATH. */
  javaPath?: string;
}

/**
 * `eval`: the table's keys, then the rules between them: without `metrics`, SPICE joins the defaults when a jar is
 * given; `spice` without a jar is an error naming `eval.spiceJar`, and the jar must be a file.
 */
function evalSpec(value: unknown, name: string, context: ReadContext): EvalSpec {
  const { metrics: given, spiceJar, javaPath, ...rest } = readTable(EVAL_KEYS, value, name, `${name}.`, context);
  const metrics = given ?? defaultMetrics({ spiceJar });
  const spec: EvalSpec = { ...rest, metrics };
  if (!metrics.includes('spice')) return spec;
  if (spiceJar === undefined) {
    throw new RunConfigError(`${name}.metrics includes "spice", which needs ${name}.spiceJar: give the path of the official spice-1.0.jar (run with Java 8), or leave "spice" out of ${name}.metrics`);
  }
  const info = statSync(spiceJar, { throwIfNoEntry: false });
  if (info === undefined || !info.isFile()) {
    throw new RunConfigError(`${name}.spiceJar: ${info === undefined ? 'no such file' : 'not a file'}: ${spiceJar} (the official spice-1.0.jar, for "spice" in ${name}.metrics)`);
  }
  spec.spiceJar = spiceJar;
  if (javaPath !== undefined) spec.javaPath = javaPath;
  return spec;
}

/** The keys of a stage's `earlyStopping`. */
export const EARLY_STOPPING_KEYS = {
  patience: integerKey(0, 1e6, 0, 'Stop the stage after this many validations in a row without improvement (0: never stop early).'),
  minDelta: numberKey(0, 1e6, 0, 'The val CIDEr gain that counts as an improvement.'),
} satisfies ConfigTable;

/** The keys of a stage (`stages[k]`). */
export const STAGE_KEYS = {
  name: stringKey('Unique; names the stage\'s folder (`stages/<k>-<name>`) and its row of the table.', '`stage1`, `stage2`, …'),
  epochs: integerKey(1, 10_000, undefined, 'Passes over the training set.', '1'),
  steps: integerKey(1, 1e9, undefined, 'Exactly this many optimizer steps, passing over the training set as often as needed, instead of `epochs` (which it excludes, as it does `maxSteps`); early stopping can still end the stage sooner.'),
  maxSteps: integerKey(0, 1e9, 0, 'A cap, not a target: the stage stops after this many optimizer steps if its epochs have not ended sooner (1 epoch of 7 batches with `maxSteps` 10 runs 7 steps; `steps` asks for an exact count). 0: no cap.'),
  lr: {
    type: 'number 0–10', default: '1e-4 (2e-5 with `scst`)', doc: 'Peak learning rate (AdamW).',
    read: (value: unknown, name: string) => optional(value, undefined, (v) => numberInRange(name, v, 0, 10)),
  },
  schedule: choiceKey(['constant', 'linear', 'cosine'], 'cosine', 'Learning-rate schedule over the stage\'s steps, after the warm-up.'),
  warmupSteps: integerKey(0, 1e9, 0, 'Steps of linear warm-up from 0.'),
  minLrRatio: numberKey(0, 1, 0, 'Where linear and cosine decay end, as a fraction of `lr`.'),
  batchSize: integerKey(1, 4096, 8, 'Images per micro-batch (one caption of each, drawn anew every epoch).'),
  gradAccum: integerKey(1, 4096, 1, 'Micro-batches accumulated per optimizer step.'),
  weightDecay: numberKey(0, 10, 0.01, 'AdamW\'s decoupled weight decay.'),
  maxGradNorm: numberKey(0, 1e9, 1, 'Clip the gradients\' global norm to this (0: no clipping).'),
  augment: objectKey('true | false | { image?, caption?, matchCorruptions?, flipListWords? }', 'false',
    'Image and caption augmentation: `true` is the paper\'s (`PAPER_IMAGE_AUGMENT`, `PAPER_CAPTION_AUGMENT`); an object replaces or turns off (`false`) either half. Always off in an SCST stage.',
    (value, name) => stageAugment(name, value)),
  freshAdapter: booleanKey(false, 'Start from a fresh adapter on the base model instead of the previous stage\'s best.'),
  from: stringKey('Start from this earlier stage\'s best adapter instead of the previous stage\'s (ablations).'),
  init: pathKey('Start from this adapter folder instead of the previous stage\'s best (a finished run\'s folder means its final stage\'s best adapter); checked before the model loads.'),
  scst: objectKey('true | { … } (keys below)', '— (cross-entropy)', 'Self-critical sequence training with CIDEr-D rewards instead of cross-entropy; augmentation is off.',
    (value, name) => (value === undefined || value === false ? undefined : resolveScstOptions(value === true ? {} : value, name, `${name}.`))),
  earlyStopping: objectKey('{ patience?, minDelta? } (keys below)', '{ patience: 0, minDelta: 0 }', 'Early stopping on val CIDEr.',
    (value, name) => readTable(EARLY_STOPPING_KEYS, value, name, `${name}.`)),
  evalEverySteps: integerKey(0, 1e9, 0, 'Validate every N optimizer steps as well as at each epoch end (0: epoch ends only).'),
  checkpointEverySteps: integerKey(1, 1e9, 50, 'Write a resumable checkpoint every N optimizer steps (and at each epoch end).'),
  seed: integerKey(0, 2 ** 31, undefined, 'Seed of the stage\'s fresh adapter and batch order (images, captions, augmentation draws): two fresh-adapter stages with the same seed differ only by their settings.', 'derived from the run\'s `seed` and the stage\'s index'),
} satisfies ConfigTable;

function stage(path: string, value: unknown, index: number, context: ReadContext): StageSpec {
  if (!isPlainObject(value)) throw invalidParameterError(path, 'object', value);
  const o = readTable(STAGE_KEYS, value, path, `${path}.`, context);
  if (o.steps !== undefined && (o.epochs !== undefined || o.maxSteps !== 0)) {
    throw new RunConfigError(`${path}.steps is an exact step count; it cannot be given with ${path}.${o.epochs !== undefined ? 'epochs' : 'maxSteps'} (drop one)`);
  }
  const starts = (['from', 'init', 'freshAdapter'] as const).filter((k) => (k === 'freshAdapter' ? o[k] : o[k] !== undefined));
  if (starts.length > 1) throw new RunConfigError(`${path}: ${starts.join(' and ')} both say where the stage starts; give one`);
  return {
    ...o,
    name: o.name ?? `stage${index + 1}`,
    epochs: o.epochs ?? 1,
    lr: o.lr ?? (o.scst ? 2e-5 : 1e-4),
    augment: o.scst === undefined ? o.augment : undefined,
  };
}

/**
 * A model path relative to the config's folder, a repo id (`org/name`) when no such directory exists there, or
 * "default".
 */
function modelSource(model: string, base: string): string {
  if (model === DEFAULT_MODEL) return model;
  const path = resolve(base, model);
  return isRepoId(model) && !existsSync(path) ? model : path;
}

/**
 * `"model": "default"`: the built-in default model ({@link defaultModelDir}), resolved by {@link resolveDefaultModel}.
 */
export const DEFAULT_MODEL = 'default';

/** The dtypes a run trains in: every {@link DTYPES} value but `int8`, which is inference only. */
const TRAINING_DTYPES = DTYPES.filter((d): d is Exclude<DtypeOption, 'int8'> => d !== 'int8');

/** The run's `dtype`: one of {@link TRAINING_DTYPES}; `int8` is refused with the dtypes to train in instead. */
function trainingDtypeKey(): ConfigKey<Exclude<DtypeOption, 'int8'> | undefined> {
  const key = choiceKey(TRAINING_DTYPES, undefined, 'Parameter dtype (float16 needs CUDA; `bfloat16-mixed`: bf16 matmul weights, the rest fp32; ' +
    '`auto`: `bfloat16-mixed` on CPUs with AVX512-BF16, else `float32`; `int8` is inference only: caption or evaluate the trained adapter with it).', '"float32"');
  return {
    ...key,
    read: (value, name, context) => {
      if (value === 'int8') {
        throw invalidParameterError(name, "a dtype to train in: 'float32' or 'bfloat16-mixed' (dtype 'int8' is inference only; " +
          'load the trained adapter onto an int8 model to caption with it)', value);
      }
      return key.read(value, name, context);
    },
  };
}

/** The keys at the top of a run config. */
export const RUN_KEYS = {
  model: {
    type: 'string', default: '— (required)',
    doc: 'The BLIP-2 model: a folder, a Hugging Face repo id `org/name` when no such folder exists (taken from the Hugging Face cache or downloaded into it, the run pinned to that snapshot), or `"default"`: the built-in default model that `blip2-progressive bench` makes (`defaultModelDir()`; write `./default` for a folder of that name).',
    read: (value: unknown, name: string, { base }: ReadContext) => modelSource(nonEmptyString(name, value), base),
  },
  outDir: {
    type: 'string (path)', default: '"runs/progressive"', doc: 'The run folder (see below).',
    read: (value: unknown, name: string, { base }: ReadContext) => resolve(base, optional(value, 'runs/progressive', (v) => nonEmptyString(name, v))),
  },
  seed: integerKey(0, Number.MAX_SAFE_INTEGER, 0, 'Seed of the whole run: fresh adapters, batch order, augmentation and SCST sampling (each stage derives its own unless it sets `seed`).'),
  prompt: {
    type: 'string | null', default: '— (no prompt)', doc: 'Text the language model is given before the caption, in training and validation alike (the scripts: `"caption:"`).',
    read: (value: unknown, name: string) => (value === undefined || value === null ? undefined : nonEmptyString(name, value)),
  },
  data: objectKey('{ train, val } (keys below)', '— (required)', 'The training and validation sets.', (value, name, context) => {
    const d = knownKeys(name, value, ['train', 'val']);
    return { train: data(`${name}.train`, d.train, context), val: data(`${name}.val`, d.val, context) };
  }),
  lora: objectKey('object (keys below)', '{} (the paper\'s r 16, alpha 32, dropout 0.05)', 'The adapters every stage trains.',
    (value, name) => resolveLoraOptions(value ?? {}, name, `${name}.`)),
  eval: objectKey('object (keys below)', '{}', 'How every validation captions and scores `data.val`.', (value, name, context) => evalSpec(value, name, context)),
  zeroShot: booleanKey(true, 'Evaluate the model before any stage: the table\'s first row, `zero-shot`.'),
  stages: objectKey('non-empty array of stages (keys below)', '— (required)', 'The stages, run in order, each from the previous stage\'s best adapter unless it says otherwise.', (value, name, context) => {
    if (!Array.isArray(value) || value.length === 0) throw invalidParameterError(name, 'non-empty array of stages', value);
    return value.map((s, i) => stage(`${name}[${i}]`, s, i, context));
  }),
  device: stringKey('`cpu`, `cuda` or `cuda:N`.', '"cpu"'),
  dtype: trainingDtypeKey(),
  threads: integerKey(1, 1024, undefined, 'Intra-op threads of the run (`--nproc` ranks: cores / ranks each).', 'all cores; 1 for models under 20M parameters'),
  trainable: objectKey('"lora" | "all" | { lastBlocks, lmHead }', '"lora"', '`lora`: the adapters; `all`: every parameter of the model, each stage from the previous stage\'s best weights (`best/model.safetensors`); `{ "lastBlocks": 2, "lmHead": true }`: the scripts\' partial fine-tuning, the last 2 blocks of the T5 encoder and decoder (and the LM head), saved like `all`.',
    (value) => trainable(value)),
  gradientCheckpointing: booleanKey(undefined, 'Recompute the vision and T5 blocks in backward (less memory, more time).', 'false'),
  promptMaxLength: integerKey(1, 512, undefined, 'Pad (and truncate) the training prompt to this many tokens, attention mask 0 on the padding; needs `prompt`.', '— (the prompt\'s own length)'),
  labelMaxLength: integerKey(2, 4096, undefined, 'Truncate training captions to this many tokens, `</s>` kept.', '— (no limit)'),
  preResize: integerKey(1, 1 << 15, undefined, 'Resize every image that is not augmented (SCST, validation, stages without image augmentation) to size × size, bicubic, before the processor.', '— (off)'),
} satisfies ConfigTable;

/**
 * Validates a run config object; relative paths resolve against `base` (the config file's directory).
 * @throws RunConfigError for anything the config gets wrong, naming the key path.
 */
export function parseRunConfig(json: unknown, base = process.cwd()): RunSpec {
  try {
    return resolveRunConfig(json, base);
  } catch (err) {
    if (err instanceof ArgumentError) throw new RunConfigError(err.message, { cause: err });
    throw err;
  }
}

function resolveRunConfig(json: unknown, base: string): RunSpec {
  if (!isPlainObject(json)) throw invalidParameterError('config', 'plain object', json);
  const { trainable: train, gradientCheckpointing, promptMaxLength, labelMaxLength, preResize, data: d, ...o } = readTable(RUN_KEYS, json, 'config', '', { base });
  const names = new Set<string>();
  for (const s of o.stages) {
    if (names.has(s.name)) throw new RunConfigError(`Stage names must be unique; "${s.name}" appears twice`);
    if (s.from !== undefined && !names.has(s.from)) {
      throw new RunConfigError(`Stage "${s.name}" starts from "${s.from}", which is not an earlier stage`);
    }
    names.add(s.name);
  }
  const spec: RunSpec = { ...o, train: d.train, val: d.val };
  // left out when not given (see RunSpec)
  if (train !== undefined) spec.trainable = train;
  if (trainsWeights(train)) {
    const own = o.stages.find((s) => s.freshAdapter || s.init !== undefined);
    if (own) throw new RunConfigError(`Stage "${own.name}" asks for ${own.freshAdapter ? 'a fresh adapter' : 'an init adapter'}, but trainable ${JSON.stringify(train)} trains model weights (no adapters)`);
  }
  if (gradientCheckpointing !== undefined) spec.gradientCheckpointing = gradientCheckpointing;
  if (promptMaxLength !== undefined) {
    if (spec.prompt === undefined) throw invalidParameterError('promptMaxLength', 'no value without a prompt', promptMaxLength);
    spec.promptMaxLength = promptMaxLength;
  }
  if (labelMaxLength !== undefined) spec.labelMaxLength = labelMaxLength;
  if (preResize !== undefined) spec.preResize = preResize;
  return spec;
}

/**
 * A spec whose `model` is `"default"` with the built-in default model's folder in its place (others as they are).
 * @throws RunConfigError when the default model does not exist yet.
 */
export async function resolveDefaultModel(spec: RunSpec): Promise<RunSpec> {
  if (spec.model !== DEFAULT_MODEL) return spec;
  const dir = await defaultModelDir();
  if (dir === undefined) {
    throw new RunConfigError('model "default" is the built-in default model, which does not exist yet: run `npx blip2-progressive bench` once to make it, or give a model folder or Hugging Face repo id');
  }
  return { ...spec, model: dir };
}

/** The run-config reference of the README (every key, type, default and meaning), rendered from the tables above. */
export function runConfigReference(): string {
  const sections: [string, ConfigTable][] = [
    ['Top level:', RUN_KEYS],
    ['`data.train` and `data.val`:', DATA_KEYS],
    ['`lora`:', LORA_KEYS],
    ['`eval`:', EVAL_KEYS],
    ['Each stage, `stages[k]`:', STAGE_KEYS],
    ['`stages[k].earlyStopping`:', EARLY_STOPPING_KEYS],
    ['`stages[k].scst` (`true` for all defaults):', SCST_KEYS],
  ];
  return sections.map(([title, table]) => `${title}\n\n${renderTable(table)}\n`).join('\n');
}

/**
 * Reads and validates a run config file; relative paths in it are relative to the file.
 * @throws FileError for a file that is missing or not JSON; RunConfigError naming the file and the key path.
 */
export async function readRunConfig(file: string): Promise<RunSpec> {
  const json = await readJsonFile(file, 'run config');
  try {
    return parseRunConfig(json, dirname(isAbsolute(file) ? file : resolve(file)));
  } catch (err) {
    if (!(err instanceof RunConfigError)) throw err;
    throw new RunConfigError(`Invalid run config ${file}: ${err.message}`, { file, cause: err });
  }
}
