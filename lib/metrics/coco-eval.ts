/**
 * `COCOEvalCap.evaluate` in TypeScript: PTB-tokenize references and predictions (two calls),
 * then BLEU-1..4, METEOR, ROUGE-L, CIDEr-D and (with the official jar) SPICE, under
 * pycocoevalcap's result keys. With `tokenize: 'none'`, the paper's `inference/eval_utils.py`
 * protocol instead: the same scorers on raw captions.
 */
import { invalidParameterError, isPlainObject, knownKeys, nonEmptyString, oneOf, optional } from '../is.js';
import { silentLogger, type Logger } from '../logger.js';
import { bleu } from './bleu.js';
import { ciderD } from './cider.js';
import { meteorJar, spiceJar } from './jars.js';
import { meteor } from './meteor/index.js';
import { rougeL } from './rouge.js';
import { tokenizeForEval, type TokenizedForEval } from './ptb.js';
import { ReferenceMap, baseName } from './loaders.js';
import { ArgumentError } from '../errors.js';
import { METRIC_NAMES, type MetricName, type MetricResultKey } from './registry.js';

export { METRIC_NAMES, type MetricName, type MetricResultKey };

/** Corpus or per-image scores under pycocoevalcap's result keys (those computed). */
export type MetricScores = { [K in MetricResultKey]?: number };

/** Caption preparation before the scorers: see {@link CocoEvalOptions.tokenize}. */
export const TOKENIZE_MODES = ['ptb', 'none'] as const;
export type TokenizeMode = (typeof TOKENIZE_MODES)[number];

/** Options of {@link cocoEval}. */
export interface CocoEvalOptions {
  /** Metrics to compute (default all five; SPICE only runs when `spiceJar` is given). */
  metrics?: MetricName[];
  /**
   * How captions reach the scorers.
   * - `'ptb'` (default): pycocoevalcap's `COCOEvalCap.evaluate`: the Stanford PTB tokenizer 3.4.1
   *   (lower-cased, punctuation tokens dropped), references and predictions in two calls. A
   *   prediction for an image without references is an error, as in pycocoevalcap.
   * - `'none'`: the paper's `inference/eval_utils.py` protocol: no PTB step. Each caption is
   *   lower-cased (`toLowerCase`, Python's `str.lower()`) and handed to the scorers as it is, which
   *   split it themselves as pycocoevalcap's do when given raw strings: BLEU and CIDEr-D on
   *   whitespace (`str.split()`), ROUGE-L on single spaces (`split(" ")`); punctuation stays on its
   *   word (`dog.` and `dog` are different tokens). METEOR is unchanged (NLTK, as HF `evaluate`, on
   *   the raw captions by default); the jars get the lower-cased captions. Only images that have
   *   both a prediction and references are evaluated; the others are dropped with a warning
   *   naming how many.
   */
  tokenize?: TokenizeMode;
  /**
   * Input of the built-in METEOR (NLTK 3.8, as HF `evaluate`): `'raw'` captions (default, as the
   * paper) or the PTB-`'tokenized'` ones. Ignored when `meteorJar` is given.
   */
  meteorInput?: 'raw' | 'tokenized';
  /** Path to the official `meteor-1.5.jar`: METEOR then comes from it, on tokenized captions. */
  meteorJar?: string;
  /** Path to the official `spice-1.0.jar`; without it SPICE is listed in `notComputed`. */
  spiceJar?: string;
  /** The `java` executable for the jars (default `"java"`). */
  javaPath?: string;
  /** Receives warnings (for example references of images without a prediction). */
  logger?: Logger;
}

/** Scores of one image. */
export interface ImageScores extends MetricScores {
  image_id: string | number;
}

/** Result of {@link cocoEval}: pycocoevalcap's `eval` keys plus per-image scores. */
export interface CocoEvalResult extends MetricScores {
  /** One entry per evaluated image, in evaluation order (pycocoevalcap's `evalImgs`). */
  perImage: ImageScores[];
  /** Requested metrics that could not be computed here (SPICE without `spiceJar`). */
  notComputed?: string[];
  /** Which METEOR was computed: NLTK on raw or tokenized captions, or the 1.5 jar. */
  meteorVariant?: 'nltk-raw' | 'nltk-tokenized' | 'meteor-1.5-jar';
  /** How captions were prepared: `'ptb'` (pycocoevalcap) or `'none'` (eval_utils.py). */
  tokenize: TokenizeMode;
}

type CaptionInput = Map<string | number, string[] | string> | Record<string, string[] | string>;

function entries(name: string, input: unknown): [string | number, unknown][] {
  if (input instanceof Map) return [...input.entries()];
  if (isPlainObject(input)) return Object.entries(input);
  throw invalidParameterError(name, 'Map or object of image id to captions', input);
}

function captionList(name: string, id: string | number, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw invalidParameterError(`${name} of image ${JSON.stringify(id)}`, 'string or array of strings', value);
  list.forEach((c, j) => {
    if (typeof c !== 'string') throw invalidParameterError(`${name}[${j}] of image ${JSON.stringify(id)}`, 'string', c);
  });
  return list as string[];
}

/**
 * The reference image id a prediction id names: the id itself, else (when the references carry
 * file names) the image whose file name equals the prediction id, its base name, or its base name
 * without extension (`VizWiz_val_00000001.jpg`, `val/VizWiz_val_00000001.jpg`, `VizWiz_val_00000001`).
 */
function referenceIdResolver(refIds: Set<string>, fileNames: Map<string, string | number> | undefined) {
  const stem = (name: string) => name.replace(/\.[^.]*$/, '');
  const byStem = new Map<string, string | number>();
  for (const [name, id] of fileNames ?? []) if (!byStem.has(stem(name))) byStem.set(stem(name), id);
  return (predId: string): string | number | undefined => {
    if (refIds.has(predId) || fileNames === undefined) return undefined;
    const base = baseName(predId);
    return fileNames.get(predId) ?? fileNames.get(base) ?? byStem.get(stem(base));
  };
}

/**
 * Pairs predictions with references the way `COCOEvalCap` does: the evaluated images are those
 * with a prediction, in reference order (`loadRes` keeps the annotation file's image order); a
 * prediction for an image absent from the references is an error (`tokenize: 'ptb'`) or dropped
 * with a warning (`'none'`, as eval_utils.py evaluates the ids both sides have; an image whose
 * reference list is empty, as VizWiz images with every caption rejected, counts as absent); references of
 * images without a prediction are ignored (reported through the logger). Ids match by their
 * string form, or by the references' image file names (see {@link referenceIdResolver}).
 */
function align(refsInput: unknown, predsInput: unknown, logger: Logger, tokenize: TokenizeMode) {
  const predEntries = entries('preds', predsInput);
  const refEntries = entries('refs', refsInput);
  const toRefId = referenceIdResolver(new Set(refEntries.map(([id]) => String(id))), refsInput instanceof ReferenceMap ? refsInput.fileNames : undefined);
  const preds = new Map<string, { id: string | number; caption: string }>();
  for (const [predId, value] of predEntries) {
    const list = captionList('preds', predId, value);
    if (list.length !== 1) {
      throw invalidParameterError(`preds of image ${JSON.stringify(predId)}`, 'exactly one caption (pycocoevalcap asserts one hypothesis per image)', list);
    }
    const id = toRefId(String(predId)) ?? predId;
    if (preds.has(String(id))) throw new ArgumentError(`Duplicate prediction for image ${JSON.stringify(id)}${id === predId ? '' : ` (from ${JSON.stringify(predId)})`}`);
    preds.set(String(id), { id, caption: list[0]! });
  }
  if (preds.size === 0) throw invalidParameterError('preds', 'at least one prediction', predsInput);
  const ids: (string | number)[] = [];
  const refs = new Map<string | number, string[]>();
  const cands = new Map<string | number, string[]>();
  let ignored = 0;
  for (const [id, value] of refEntries) {
    const pred = preds.get(String(id));
    if (pred === undefined) {
      ignored++;
      continue;
    }
    const list = captionList('refs', id, value);
    if (list.length === 0 && tokenize === 'none') continue;
    if (list.length === 0) throw invalidParameterError(`refs of image ${JSON.stringify(id)}`, 'at least one reference caption', list);
    ids.push(pred.id);
    refs.set(pred.id, list);
    cands.set(pred.id, [pred.caption]);
    preds.delete(String(id));
  }
  if (preds.size > 0) {
    const missing = [...preds.values()].slice(0, 5).map((p) => JSON.stringify(p.id)).join(', ') + (preds.size > 5 ? ', ...' : '');
    if (tokenize === 'ptb') {
      throw new ArgumentError(`Predictions for ${preds.size} image(s) without references (${missing}); ` +
        'pycocoevalcap refuses these too ("Results do not correspond to current coco set"); tokenize \'none\' (eval_utils.py) drops them instead');
    }
    logger.warn(`${preds.size} prediction(s) have no references (${missing}); they are dropped`);
  }
  if (ids.length === 0) throw invalidParameterError('preds', 'at least one prediction for an image of the references', predsInput);
  if (ignored > 0) logger.warn(`${ignored} image(s) have references but no prediction; they are not evaluated`);
  return { ids, refs, cands };
}

function checkOptions(options: unknown): Required<Pick<CocoEvalOptions, 'metrics' | 'meteorInput' | 'logger' | 'tokenize'>> & CocoEvalOptions {
  const o = knownKeys('options', options, ['metrics', 'tokenize', 'meteorInput', 'meteorJar', 'spiceJar', 'javaPath', 'logger']) as CocoEvalOptions;
  const tokenize = optional(o.tokenize, 'ptb', (v) => oneOf('tokenize', v, TOKENIZE_MODES));
  const metrics = o.metrics ?? [...METRIC_NAMES];
  if (!Array.isArray(metrics) || metrics.length === 0) throw invalidParameterError('metrics', 'non-empty array of metric names', metrics);
  metrics.forEach((m, i) => oneOf(`metrics[${i}]`, m, METRIC_NAMES));
  const meteorInput = optional(o.meteorInput, 'raw', (v) => oneOf('meteorInput', v, ['raw', 'tokenized'] as const));
  if (o.meteorJar !== undefined) nonEmptyString('meteorJar', o.meteorJar);
  if (o.spiceJar !== undefined) nonEmptyString('spiceJar', o.spiceJar);
  if (o.javaPath !== undefined) nonEmptyString('javaPath', o.javaPath);
  return { ...o, metrics, meteorInput, tokenize, logger: o.logger ?? silentLogger };
}

/** What the scorers read: PTB-tokenized captions, or (eval_utils.py) the raw ones lower-cased. */
function prepare(tokenize: TokenizeMode, refs: Map<string | number, string[]>, cands: Map<string | number, string[]>): TokenizedForEval {
  if (tokenize === 'ptb') return tokenizeForEval(refs, cands);
  const lower = (m: Map<string | number, string[]>) => new Map([...m].map(([id, caps]) => [id, caps.map((c) => c.toLowerCase())] as const));
  return { refs: lower(refs), preds: lower(cands) };
}

/**
 * Evaluates predicted captions against references as pycocoevalcap's `COCOEvalCap.evaluate`.
 *
 * @param refs image id → reference captions (Map or plain object; a single string counts as one).
 *   Evaluation follows the references' order; note that a plain object lists integer-like keys in
 *   ascending order, so pass a Map (as the file loaders return) to keep a file's order.
 * @param preds image id → the predicted caption (a string or a one-element array). With references
 *   from {@link loadReferences} (which keep image file names), ids may also be file names.
 * @param options metrics, tokenization protocol, METEOR variant, jar paths.
 * @returns corpus scores under `Bleu_1`..`Bleu_4`, `METEOR`, `ROUGE_L`, `CIDEr`, `SPICE`, and per-image scores.
 * @throws TypeError on malformed input, a prediction without references (`tokenize: 'ptb'`), an image with no
 *   reference or with several predictions; Error when every reference is empty (CIDEr-D) or a jar fails.
 */
export async function cocoEval(refs: CaptionInput, preds: CaptionInput, options?: CocoEvalOptions): Promise<CocoEvalResult> {
  const opts = checkOptions(options);
  const { ids, refs: rawRefs, cands: rawCands } = align(refs, preds, opts.logger, opts.tokenize);
  const tok = prepare(opts.tokenize, rawRefs, rawCands);
  const tokRefs = ids.map((id) => tok.refs.get(id)!);
  const tokCands = ids.map((id) => tok.preds.get(id)![0]!);
  const result: CocoEvalResult = { perImage: ids.map((id) => ({ image_id: id })), tokenize: opts.tokenize };
  const set = (key: keyof Omit<ImageScores, 'image_id'>, score: number, perImage: number[]) => {
    result[key] = score;
    perImage.forEach((v, i) => { result.perImage[i]![key] = v; });
  };
  const want = new Set(opts.metrics);
  if (want.has('bleu')) {
    const b = bleu(tokRefs, tokCands);
    for (let k = 0; k < 4; k++) set(`Bleu_${k + 1}` as 'Bleu_1', b.scores[k]!, b.perImage[k]!);
  }
  if (want.has('meteor')) {
    if (opts.meteorJar !== undefined) {
      const m = await meteorJar(opts.meteorJar, tokRefs, tokCands, { javaPath: opts.javaPath });
      set('METEOR', m.score, m.perImage);
      result.meteorVariant = 'meteor-1.5-jar';
    } else if (opts.meteorInput === 'tokenized') {
      const m = meteor(tokRefs, tokCands);
      set('METEOR', m.score, m.perImage);
      result.meteorVariant = 'nltk-tokenized';
    } else {
      const m = meteor(ids.map((id) => rawRefs.get(id)!), ids.map((id) => rawCands.get(id)![0]!));
      set('METEOR', m.score, m.perImage);
      result.meteorVariant = 'nltk-raw';
    }
  }
  if (want.has('rouge')) {
    const r = rougeL(tokRefs, tokCands);
    set('ROUGE_L', r.score, r.perImage);
  }
  if (want.has('cider')) {
    const c = ciderD(tokRefs, tokCands);
    set('CIDEr', c.score, c.perImage);
  }
  if (want.has('spice')) {
    if (opts.spiceJar !== undefined) {
      const s = await spiceJar(opts.spiceJar, ids, tokRefs, tokCands, { javaPath: opts.javaPath });
      set('SPICE', s.score, s.perImage);
    } else {
      result.notComputed = ['SPICE'];
      opts.logger.warn('SPICE not computed: pass spiceJar (the official spice-1.0.jar) to compute it');
    }
  }
  return result;
}
