/** Text generation: configuration, logits processors, greedy / beam search / sampling over a decoder session. */
export {
  GENERATION_KEYS,
  GENERATION_LIMITS,
  HF_DEFAULTS,
  generationOptionsFromJson,
  maxDecoderLength,
  readGenerationOptions,
  resolveGenerationConfig,
  type EarlyStopping,
  type GenerationConfig,
  type GenerationOptions,
} from './config.js';
export {
  GENERATION_OPTIONS, generationOption, generationOptionsOn, generationFlag, checkScalarOption,
  type GenerationOptionSpec, type GenerationOptionKind, type GenerationSurface, type GenerationKey,
} from './options.js';
export {
  applyProcessors,
  bannedNgramTokens,
  buildLogitsProcessors,
  buildLogitsWarpers,
  MinLengthProcessor,
  MinNewTokensProcessor,
  NoBadWordsProcessor,
  NoRepeatNGramProcessor,
  RepetitionPenaltyProcessor,
  SuppressTokensProcessor,
  TemperatureWarper,
  TopKWarper,
  TopPWarper,
  type LogitsProcessor,
  type ProcessorContext,
} from './processors.js';
export { BeamHypotheses, beamSearch, type Hypothesis } from './beam-search.js';
export { greedyOrSample, sampleFromLogits } from './sample.js';
export { generate, NonFiniteError, trimmedSequence, type GenerateHooks, type GenerateOutput, type GenerateTimings } from './generate.js';
export {
  captionImages, CAPTION_KEYS, DEFAULT_MAX_PROMPT_TOKENS, isCaptionFailure,
  type Caption, type CaptionFailure, type CaptionOptions, type CaptionParts, type CaptionResult,
} from './caption.js';
export { Xoshiro128 } from '../random.js';
export { argmax, kthLargest, logSumExp, TopCandidates } from './select.js';
export type { DecoderSession, DecodingInputs, DecodingModel, StepOptions, StrategyOutput, TokenEvent } from './types.js';
