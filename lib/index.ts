/**
 * blip2-progressive: BLIP-2 (EVA ViT-g + Q-Former + Flan-T5) in Node.js over libtorch.
 *
 * - {@link Blip2Captioner}: load a local Hugging Face snapshot or a repo id, score captions and caption.
 * - {@link resolveModel}: a directory or Hugging Face repo id to a local directory, in the cache Python shares.
 * - {@link Blip2Model}: the low-level model (forward pass, KV-cached decoding sessions).
 * - {@link T5Tokenizer}, {@link ByteLevelBpeTokenizer} ({@link loadTokenizer} picks one), {@link BlipImageProcessor}:
 *   Hugging Face-identical inputs.
 * - {@link modelFamily}: what differs between the Flan-T5 and OPT language models above the model.
 * - Caption metrics live in `blip2-progressive/metrics`.
 */
export {
  Blip2Captioner, type CaptionerOptions, type CaptionScore, type ScoreOptions, type CaptionSequences, type TypedCaptionOptions,
} from './captioner.js';
export {
  Blip2Model,
  DTYPES,
  FORWARD_OUTPUTS,
  defaultThreads,
  SMALL_MODEL_PARAMETERS,
  type Dtype,
  type DtypeOption,
  resolveDtype,
  type ForwardInputs,
  type ModelInfo,
  type ModelLoadOptions,
  LOAD_OPTION_KEYS,
} from './model/blip2-model.js';
export type { DecoderSession, StepOptions } from './model/decoder.js';
export {
  resolveModel,
  resolveRepo,
  ModelNotCachedError,
  MODEL_SOURCE_KEYS,
  hubCacheDir,
  hfHome,
  hubEndpoint,
  isOfflineEnv,
  isRepoId,
  snapshotRepoId,
  REQUIRED_FILES,
  OPTIONAL_FILES,
  TOKENIZER_FILE_SETS,
  type DownloadProgress,
  type ModelSourceOptions,
  type ResolveModelOptions,
  type ResolvedModel,
  type HubEnv,
} from './hub/index.js';
export {
  generate,
  trimmedSequence,
  NonFiniteError,
  isCaptionFailure,
  DEFAULT_MAX_PROMPT_TOKENS,
  GENERATION_LIMITS,
  resolveGenerationConfig,
  readGenerationOptions,
  generationOptionsFromJson,
  HF_DEFAULTS,
  GENERATION_KEYS,
  GENERATION_OPTIONS,
  generationOptionsOn,
  buildLogitsProcessors,
  buildLogitsWarpers,
  applyProcessors,
  MinLengthProcessor,
  MinNewTokensProcessor,
  RepetitionPenaltyProcessor,
  NoRepeatNGramProcessor,
  NoBadWordsProcessor,
  SuppressTokensProcessor,
  TemperatureWarper,
  TopKWarper,
  TopPWarper,
  BeamHypotheses,
  Xoshiro128,
} from './generation/index.js';
export { AbortError } from './abort.js';
export { ArgumentError, ConfigError, ERROR_CODES, FileError, NativeError, type ErrorCode } from './errors.js';
export { readJsonFile } from './io/json.js';
export type {
  CaptionFailure,
  CaptionResult,
  GenerationConfig,
  GenerationOptions,
  GenerationOptionSpec,
  GenerationSurface,
  EarlyStopping,
  GenerateOutput,
  GenerateHooks,
  GenerateTimings,
  TokenEvent,
  DecodingModel,
  DecodingInputs,
  LogitsProcessor,
  Caption,
  CaptionOptions,
} from './generation/index.js';
export { OPT_TARGET_MODULES, PAPER_TARGET_MODULES, resolveAdapterDirectory, type LoraOptions, type ResolvedLoraConfig } from './model/lora-config.js';
export type { AdamWOptions } from './model/adamw.js';
export { learningRate, resolveSchedule, type Schedule, type ScheduleKind, type ScheduleOptions } from './train/schedule.js';
export { saveCheckpoint, loadCheckpoint, type TrainingState } from './train/checkpoint.js';
export type { LoraSummary } from './native.js';
export {
  CONFIG_LIMITS,
  estimateParameters,
  MAX_PARAMETERS,
  parseBlip2Config,
  readBlip2Config,
  TEXT_MODEL_TYPES,
  type Blip2Config,
  type OptTextConfig,
  type QFormerConfig,
  type T5TextConfig,
  type TextConfig,
  type TextModelType,
  type VisionConfig,
} from './model/config.js';
export { familyOf, MODEL_FAMILIES, modelFamily, type GenerationDefaults, type ModelFamily } from './model/family.js';
export type { ForwardOutputName, OutputTensor } from './native.js';
export { T5Tokenizer, shiftRight, IGNORE_INDEX } from './text/tokenizer.js';
export type {
  BatchEncoding,
  DecodeOptions,
  EncodeBatchOptions,
  EncodeOptions,
  EncodeTargetsOptions,
  PaddingStrategy,
  TargetEncoding,
  TokenIds,
  TokenizerConfig,
} from './text/tokenizer.js';
export { ByteLevelBpeTokenizer, type BpeFiles } from './text/bpe-tokenizer.js';
export { detectTokenizerKind, loadTokenizer, TOKENIZER_CLASSES } from './text/load.js';
export type { PaddingSide, Tokenizer, TokenizerKind } from './text/encoding.js';
export { BlipImageProcessor, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, type PixelValues, type PreprocessOptions } from './image/processor.js';
export { loadImage, ImageLoadError, type ImageInput, type LoadImageOptions, type RgbImage } from './image/decode.js';
export { ImageWorkerPool } from './image/pool.js';
export { readSafetensorsFile, parseSafetensors, type SafetensorsFile, type SafetensorsTensor } from './io/safetensors.js';
export {
  augmentImage,
  PAPER_IMAGE_AUGMENT,
  PAPER_PRE_RESIZE,
  type ImageAugmentSpec,
  type RotateFill,
  type RotateInterpolation,
  type AugmentedImage,
} from './image/augment.js';
export { corruptImage, parseCorruption, CORRUPTIONS, type Corruption, type CorruptionKind } from './image/corrupt.js';
export type { ImageTransform } from './image/pipeline.js';
export {
  augmentCaption, swapLeftRight, reverseWordLists, wordListReverser, PAPER_CAPTION_AUGMENT, DEFAULT_SYNONYMS, SEED_SYNONYMS,
  type CaptionAugmentSpec, type SynonymTableName,
} from './text/augment.js';
export {
  loadDataset,
  detectFormat,
  imageCaptions,
  describeSkipped,
  CaptionLoader,
  DATASET_FORMATS,
  type DatasetFormatSpec,
  type CaptionDataset,
  type CaptionSample,
  type DatasetFormat,
  type LoadDatasetOptions,
  type CaptionBatch,
  type CaptionLoaderOptions,
} from './data/index.js';
export {
  scstBackward,
  resolveScstOptions,
  ciderReward,
  batchCiderReward,
  type ScstOptions,
  type ScstBatch,
  type ScstStepResult,
  type RewardFunction,
} from './train/scst.js';
export { parseRunConfig, readRunConfig, resolveDefaultModel, runConfigReference, RunConfigError, type RunSpec, type StageSpec } from './train/run-config.js';
export { NonFiniteLossError, runProgressive, type RunOptions, type RunEvents, type RunSummary, type StepEvent } from './train/run.js';
export { evaluateCaptioner, type EvaluateOptions, type EvaluationResult } from './train/evaluate.js';
export { pretrainModel, type PretrainOptions } from './train/pretrain.js';
export { generateSynthDataset, synthModelConfig, synthPreprocessorConfig, synthGenerationConfig, SYNTH_PROMPT } from './synth/index.js';
export { runSynthBenchmark, FULL_SCALE, QUICK_SCALE, type SynthBenchmarkOptions, type SynthBenchmarkResult } from './synth/benchmark.js';
export { runtimeInfo, SPEED_CPU_FLAGS, type RuntimeInfo, type SpeedCpuFlag } from './runtime-info.js';
export { addonLocation, type AddonLocation } from './native.js';
export { benchHome, defaultModelDir } from './hub/default-model.js';
export {
  ProcessGroup,
  gatherTokenIds,
  distributedEnv,
  distributedBackends,
  REDUCE_OPS,
  DEFAULT_MASTER_PORT,
  DEFAULT_DISTRIBUTED_TIMEOUT_MS,
  type ProcessGroupOptions,
  type ReduceOp,
  type DistributedBackend,
} from './distributed/process-group.js';
export { launchRanks, freePort, type LaunchOptions, type LaunchResult } from './distributed/launch.js';
export type { Logger } from './logger.js';
export { silentLogger, streamLogger } from './logger.js';
