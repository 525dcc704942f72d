/**
 * METEOR as computed by NLTK 3.8 (`nltk.translate.meteor_score`), called the way Hugging Face
 * `evaluate` calls it: `meteor_score([word_tokenize(r) for r in refs], word_tokenize(pred),
 * alpha=0.9, beta=3, gamma=0.5)` per image, `np.mean` over images. This is not METEOR 1.5.
 */
import { invalidParameterError } from '../../is.js';
import { npMean } from '../numeric.js';
import { sentTokenize } from './punkt.js';
import { meteorScore, resolveMeteorOptions, type MeteorOptions } from './score.js';
import { treebankWordTokenize } from './treebank.js';

export { porterStem } from './porter.js';
export { sentTokenize } from './punkt.js';
export { meteorScore, singleMeteorScore, type MeteorOptions } from './score.js';
export { treebankWordTokenize } from './treebank.js';
export { wordnetSynonyms } from './wordnet.js';

/** Corpus METEOR and the per-image scores it averages. */
export interface MeteorResult {
  /** `np.mean` of `perImage` (numpy pairwise summation). */
  score: number;
  /** METEOR of each image: the maximum over its references of the single-reference score. */
  perImage: number[];
}

/**
 * NLTK 3.8's `word_tokenize(text)`: English punkt sentence split, then `NLTKWordTokenizer` on each
 * sentence.
 * @param text Raw text.
 * @returns The tokens.
 */
export function wordTokenize(text: string): string[] {
  if (typeof text !== 'string') throw invalidParameterError('text', 'string', text);
  return sentTokenize(text).flatMap(treebankWordTokenize);
}

function checkInput(references: unknown, candidates: unknown): asserts references is string[][] {
  if (!Array.isArray(references)) throw invalidParameterError('references', 'array of arrays of strings', references);
  if (!Array.isArray(candidates)) throw invalidParameterError('candidates', 'array of strings', candidates);
  if (candidates.length !== references.length) {
    throw invalidParameterError('candidates', `array of length ${references.length} (one per image, as references)`, candidates);
  }
  references.forEach((refs: unknown, i) => {
    if (!Array.isArray(refs) || refs.length === 0) {
      throw invalidParameterError(`references[${i}]`, 'non-empty array of strings', refs);
    }
    refs.forEach((r: unknown, j) => {
      if (typeof r !== 'string') throw invalidParameterError(`references[${i}][${j}]`, 'string', r);
    });
    if (typeof candidates[i] !== 'string') throw invalidParameterError(`candidates[${i}]`, 'string', candidates[i]);
  });
}

/**
 * METEOR (NLTK 3.8) of raw captions, per image and over the corpus.
 * @param references `references[i]` holds the raw reference strings of image i (at least one).
 * @param candidates `candidates[i]` is the raw candidate string of image i.
 * @param options alpha, beta, gamma (defaults 0.9, 3, 0.5, as Hugging Face `evaluate`).
 * @returns The per-image scores and their `np.mean` (NaN for an empty corpus, as numpy).
 */
export function meteor(references: string[][], candidates: string[], options?: MeteorOptions): MeteorResult {
  checkInput(references, candidates);
  resolveMeteorOptions(options);
  const perImage = candidates.map((candidate, i) =>
    meteorScore(references[i]!.map(wordTokenize), wordTokenize(candidate), options));
  return { score: npMean(perImage), perImage };
}
