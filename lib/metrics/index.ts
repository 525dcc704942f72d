/**
 * Caption metrics identical to pycocoevalcap (`blip2-progressive/metrics`): the PTB tokenizer,
 * BLEU-1..4, METEOR (NLTK, as HF evaluate; METEOR 1.5 through its jar), ROUGE-L, CIDEr-D, SPICE
 * through its jar, `cocoEval`, file loaders and the CIDEr-D reward scorer for SCST.
 */
export { ptbTokenize, ptbJavaLines, tokenizeForEval, PTB_PUNCTUATIONS, type CaptionsByImage, type TokenizedForEval } from './ptb.js';
export { bleu, bleuVerboseText, type BleuResult, type BleuTotals, type BleuOptions } from './bleu.js';
export { rougeL, type RougeResult } from './rouge.js';
export { ciderD, CiderDScorer, type CiderResult, type CiderDScorerOptions } from './cider.js';
export {
  meteor,
  meteorScore,
  singleMeteorScore,
  wordTokenize,
  sentTokenize,
  treebankWordTokenize,
  porterStem,
  wordnetSynonyms,
  type MeteorResult,
  type MeteorOptions,
} from './meteor/index.js';
export { meteorJar, spiceJar, type JarOptions, type JarScore } from './jars.js';
export { cocoEval, METRIC_NAMES, TOKENIZE_MODES, type MetricName, type TokenizeMode, type CocoEvalOptions, type CocoEvalResult, type ImageScores, type MetricScores } from './coco-eval.js';
export {
  METRICS, DEFAULT_METRICS, METRIC_RESULTS, metricSpec, needsJar, defaultMetrics, type MetricSpec, type MetricJar, type MetricResult, type MetricResultKey,
} from './registry.js';
export {
  loadReferences, loadPredictions, referencesFromJson, predictionsFromJson, predictionsFromJsonLines, PREDICTION_FORMATS, ReferenceMap, type CaptionMap,
} from './loaders.js';
export { pySplit, npMean, npSum, pyFloatRepr } from './numeric.js';
