/**
 * CIDEr-D exactly as pycocoevalcap's `Cider()` (`cider/cider_scorer.py`, n = 4, sigma = 6):
 * TF-IDF n-gram vectors with document frequencies taken from a reference set, clipped dot products,
 * a Gaussian length penalty on the BIGRAM count, x10. Sums run in Python's dict order (each
 * sentence's n-grams in first-occurrence order, all 1-grams before 2-grams) so results match to ~1e-15.
 *
 * {@link CiderDScorer} holds the document frequencies and reference vectors of a corpus, for fast
 * SCST rewards; {@link ciderD} is the evaluation entry point (df from the evaluated set).
 */
import { npMean, pySplit } from './numeric.js';
import { checkScorerInput } from './validate.js';
import { boolean, invalidParameterError, knownKeys, optional } from '../is.js';
import { ptbTokenize } from './ptb.js';
import { FlatNgrams, NgramVocab } from './ngrams.js';

const N = 4;
const SIGMA = 6.0;

/** Gaussian length penalty `np.e ** (-(delta**2) / (2 * sigma**2))`. */
function lengthPenalty(delta: number): number {
  return Math.pow(Math.E, -(delta * delta) / (2 * SIGMA ** 2));
}

/** Options of {@link CiderDScorer}. */
export interface CiderDScorerOptions {
  /** References are already PTB-tokenized strings (default false: tokenized once here with {@link ptbTokenize}). */
  refsTokenized?: boolean;
  /** Candidates passed to `score` are already tokenized (default false: tokenized with {@link ptbTokenize}). */
  candidatesTokenized?: boolean;
}

/**
 * CIDEr-D against a fixed reference corpus. Construction counts document frequencies over all
 * images (the union of each image's references) and precomputes every reference vector, so a
 * `score` call only vectorises the candidates. When the corpus is exactly the evaluated set this
 * equals pycocoevalcap's per-image CIDEr (`Cider().compute_score`).
 */
export class CiderDScorer {
  /** Number of images in the reference corpus. */
  readonly numImages: number;
  private readonly vocab = new NgramVocab();
  private readonly refs = new FlatNgrams(N);
  /** `refStart[i]`..`refStart[i + 1]` are the reference sentences of image i. */
  private readonly refStart: Int32Array;
  private readonly logDf: Float64Array;
  private readonly refLen: number;
  /** TF-IDF value of every reference n-gram entry, aligned with `refs.ids`. */
  private readonly refVals: Float64Array;
  /** `refNorms[s * 4 + n]`; `refBigrams[s]` = pycocoevalcap's `length` of sentence s. */
  private readonly refNorms: Float64Array;
  private readonly refBigrams: Int32Array;
  private readonly imageIndex = new Map<string, number>();
  private readonly candidatesTokenized: boolean;
  private readonly hyp = new FlatNgrams(N);
  private hypVals = new Float64Array(256);
  private readonly hypNorms = new Float64Array(N);

  /**
   * @param references image id → references of that image (a Map, or a plain object), or an array
   *   of reference lists whose index is the image id.
   * @param options whether references and candidates are already PTB-tokenized.
   * @throws TypeError on malformed input; Error when every reference is empty (pycocoevalcap raises
   *   `ValueError: max() arg is an empty sequence` there).
   */
  constructor(references: Map<string | number, string[]> | Record<string, string[]> | string[][], options?: CiderDScorerOptions) {
    const opts = knownKeys('options', options, ['refsTokenized', 'candidatesTokenized']) as CiderDScorerOptions;
    const refsTokenized = optional(opts.refsTokenized, false, (v) => boolean('refsTokenized', v));
    this.candidatesTokenized = optional(opts.candidatesTokenized, false, (v) => boolean('candidatesTokenized', v));
    const entries: [string | number, unknown][] = references instanceof Map ? [...references.entries()]
      : Array.isArray(references) ? references.map((r, i) => [i, r])
      : (() => {
        if (typeof references !== 'object' || references === null) throw invalidParameterError('references', 'Map, object or array of reference lists', references);
        return Object.entries(references);
      })();
    const refs: string[][] = entries.map(([, r]) => r as string[]);
    checkScorerInput(refs, refs.map(() => ''));
    entries.forEach(([id], i) => this.imageIndex.set(String(id), i));
    this.numImages = refs.length;

    const tokenized = refsTokenized ? refs : regroup(refs, ptbTokenize(refs.flat()));
    this.refStart = new Int32Array(refs.length + 1);
    tokenized.forEach((imageRefs, i) => {
      this.refStart[i] = this.refs.sentences;
      for (const r of imageRefs) this.refs.add(pySplit(r), this.vocab, true);
    });
    this.refStart[refs.length] = this.refs.sentences;
    if (this.vocab.size === 0) {
      throw new Error('CIDEr-D needs at least one non-empty reference: every reference is empty ' +
        '(pycocoevalcap raises "ValueError: max() arg is an empty sequence" here)');
    }
    this.logDf = this.documentFrequencies();
    this.refLen = Math.log(this.numImages);
    const R = this.refs;
    this.refVals = new Float64Array(R.size);
    this.refNorms = new Float64Array(R.sentences * N);
    this.refBigrams = new Int32Array(R.sentences);
    for (let s = 0; s < R.sentences; s++) this.refBigrams[s] = this.vectorize(R, s, this.refVals, this.refNorms, s * N);
  }

  /** `ln(max(1, df))` per n-gram id, df = number of images whose references contain it. */
  private documentFrequencies(): Float64Array {
    const R = this.refs;
    const df = new Int32Array(this.vocab.size);
    const seen = new Int32Array(this.vocab.size);
    for (let i = 0; i < this.numImages; i++) {
      const from = R.offsets[this.refStart[i]! * (N + 1)]!;
      const to = R.offsets[this.refStart[i + 1]! * (N + 1) - 1]!;
      for (let e = from; e < to; e++) {
        const id = R.ids[e]!;
        if (seen[id] !== i + 1) {
          seen[id] = i + 1;
          df[id]! += 1;
        }
      }
    }
    return Float64Array.from(df, (d) => Math.log(Math.max(1, d)));
  }

  /**
   * TF-IDF values of sentence s of `grams` into `vals` (aligned with its entries) and its four
   * norms into `norms[at..]` (pycocoevalcap's `counts2vec`); returns its bigram count.
   */
  private vectorize(grams: FlatNgrams, s: number, vals: Float64Array, norms: Float64Array, at: number): number {
    let bigrams = 0;
    const base = s * (N + 1);
    for (let n = 0; n < N; n++) {
      let norm = 0;
      for (let e = grams.offsets[base + n]!; e < grams.offsets[base + n + 1]!; e++) {
        const id = grams.ids[e]!;
        const tf = grams.counts[e]!;
        // vec[n][ngram] = float(term_freq) * (self.ref_len - np.log(max(1.0, df)))
        const v = tf * (this.refLen - (id >= 0 ? this.logDf[id]! : 0));
        vals[e] = v;
        norm += v * v;
        if (n === 1) bigrams += tf;
      }
      norms[at + n] = Math.sqrt(norm);
    }
    return bigrams;
  }

  /** CIDEr-D of hypothesis sentence `h` (in `this.hyp`) against the references of image `image`. */
  private scoreHypothesis(h: number, image: number): number {
    const H = this.hyp;
    const R = this.refs;
    if (this.hypVals.length < H.size) this.hypVals = new Float64Array(H.size * 2);
    const hypBigrams = this.vectorize(H, h, this.hypVals, this.hypNorms, 0);
    const score = [0, 0, 0, 0];
    const first = this.refStart[image]!;
    const last = this.refStart[image + 1]!;
    const hb = h * (N + 1);
    for (let r = first; r < last; r++) {
      const penalty = lengthPenalty(hypBigrams - this.refBigrams[r]!);
      const rb = r * (N + 1);
      for (let n = 0; n < N; n++) {
        const rFrom = R.offsets[rb + n]!;
        const rTo = R.offsets[rb + n + 1]!;
        let val = 0;
        // val[n] += min(vec_hyp[n][ngram], vec_ref[n][ngram]) * vec_ref[n][ngram], in hypothesis order
        for (let a = H.offsets[hb + n]!; a < H.offsets[hb + n + 1]!; a++) {
          const id = H.ids[a]!;
          let vr = 0;
          if (id >= 0) {
            for (let b = rFrom; b < rTo; b++) {
              if (R.ids[b] === id) {
                vr = this.refVals[b]!;
                break;
              }
            }
          }
          val += Math.min(this.hypVals[a]!, vr) * vr;
        }
        const nh = this.hypNorms[n]!;
        const nr = this.refNorms[r * N + n]!;
        if (nh !== 0 && nr !== 0) val /= nh * nr;
        val *= penalty;
        score[n]! += val;
      }
    }
    let avg = npMean(score);
    avg /= last - first;
    avg *= 10.0;
    return avg;
  }

  /**
   * Per-caption CIDEr-D rewards.
   *
   * @param imageIds the image of each candidate (must be in the reference corpus; compared as strings).
   * @param candidates one caption per entry of `imageIds`.
   * @returns `out[i]` = CIDEr-D of `candidates[i]` against the references of `imageIds[i]`.
   */
  score(imageIds: readonly (string | number)[], candidates: readonly string[]): Float64Array {
    if (!Array.isArray(imageIds)) throw invalidParameterError('imageIds', 'array of image ids', imageIds);
    if (!Array.isArray(candidates) || candidates.length !== imageIds.length) {
      throw invalidParameterError('candidates', `array of ${imageIds.length} strings (one per image id)`, candidates);
    }
    const indices = imageIds.map((id, i) => {
      const index = (typeof id === 'string' || typeof id === 'number') ? this.imageIndex.get(String(id)) : undefined;
      if (index === undefined) throw invalidParameterError(`imageIds[${i}]`, 'an image id of the reference corpus', id);
      return index;
    });
    candidates.forEach((c, i) => {
      if (typeof c !== 'string') throw invalidParameterError(`candidates[${i}]`, 'string', c);
    });
    const tokenized = this.candidatesTokenized ? candidates : ptbTokenize([...candidates]);
    const out = new Float64Array(candidates.length);
    for (let i = 0; i < candidates.length; i++) {
      this.hyp.reset();
      const h = this.hyp.add(pySplit(tokenized[i]!), this.vocab, false);
      out[i] = this.scoreHypothesis(h, indices[i]!);
    }
    return out;
  }
}

/** Splits a flat list back into groups with the sizes of `shape`. */
function regroup(shape: string[][], flat: string[]): string[][] {
  let k = 0;
  return shape.map((group) => group.map(() => flat[k++]!));
}

/** Result of {@link ciderD}. */
export interface CiderResult {
  /** `np.mean` of the per-image scores. */
  score: number;
  perImage: number[];
}

/**
 * Corpus and per-image CIDEr-D on tokenized strings, with document frequencies from `refs` (the
 * evaluated set), as pycocoevalcap. A single-image corpus always scores 0 (`ref_len = ln 1`).
 *
 * @throws TypeError on malformed input; Error when every reference is empty.
 */
export function ciderD(refs: string[][], cands: string[]): CiderResult {
  checkScorerInput(refs, cands);
  const scorer = new CiderDScorer(refs, { refsTokenized: true, candidatesTokenized: true });
  const perImage = Array.from(scorer.score(refs.map((_, i) => i), cands));
  return { score: npMean(perImage), perImage };
}
