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
import { invalidParameterError, knownKeys, boolean } from '../is.js';
import { ptbTokenize } from './ptb.js';

const N = 4;
const SIGMA = 6.0;

/** One sentence as TF-IDF vectors per n-gram order, in Python dict (first-occurrence) order. */
interface SentenceVector {
  /** `ids[n]` = n-gram ids of order n+1; -1 for n-grams absent from every reference. */
  ids: Int32Array[];
  vals: Float64Array[];
  norms: number[];
  /** Number of bigrams (pycocoevalcap's `length`, from its `if n == 1` test). */
  length: number;
}

/** n-gram counts of a token list, orders 1..4, in first-occurrence order within each order. */
function countNgrams(words: string[]): Map<string, number>[] {
  const byOrder: Map<string, number>[] = [];
  for (let k = 1; k <= N; k++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + k <= words.length; i++) {
      const key = k === 1 ? words[i]! : words.slice(i, i + k).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    byOrder.push(counts);
  }
  return byOrder;
}

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
  private readonly vocab = new Map<string, number>();
  private readonly logDf: Float64Array;
  private readonly refLen: number;
  private readonly refVectors: SentenceVector[][];
  private readonly imageIndex = new Map<string, number>();
  private readonly candidatesTokenized: boolean;

  /**
   * @param references image id → references of that image (a Map, or a plain object), or an array
   *   of reference lists whose index is the image id.
   * @throws TypeError on malformed input; Error when every reference is empty (pycocoevalcap raises
   *   `ValueError: max() arg is an empty sequence` there).
   */
  constructor(references: Map<string | number, string[]> | Record<string, string[]> | string[][], options?: CiderDScorerOptions) {
    const opts = knownKeys('options', options, ['refsTokenized', 'candidatesTokenized']) as CiderDScorerOptions;
    const refsTokenized = opts.refsTokenized === undefined ? false : boolean('refsTokenized', opts.refsTokenized);
    this.candidatesTokenized = opts.candidatesTokenized === undefined ? false : boolean('candidatesTokenized', opts.candidatesTokenized);
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
    const counts = tokenized.map((imageRefs) => imageRefs.map((r) => countNgrams(pySplit(r))));
    const df: number[] = [];
    for (const imageCounts of counts) {
      const seen = new Set<number>();
      for (const sentence of imageCounts) {
        for (const order of sentence) {
          for (const g of order.keys()) {
            let id = this.vocab.get(g);
            if (id === undefined) {
              id = this.vocab.size;
              this.vocab.set(g, id);
              df.push(0);
            }
            if (!seen.has(id)) {
              seen.add(id);
              df[id]! += 1;
            }
          }
        }
      }
    }
    if (df.length === 0) {
      throw new Error('CIDEr-D needs at least one non-empty reference: every reference is empty ' +
        '(pycocoevalcap raises "ValueError: max() arg is an empty sequence" here)');
    }
    this.logDf = Float64Array.from(df, (d) => Math.log(Math.max(1, d)));
    this.refLen = Math.log(this.numImages);
    this.refVectors = counts.map((imageCounts) => imageCounts.map((c) => this.vectorize(c)));
  }

  /** TF-IDF vectors of one sentence (pycocoevalcap's `counts2vec`). */
  private vectorize(counts: Map<string, number>[]): SentenceVector {
    const vec: SentenceVector = { ids: [], vals: [], norms: [], length: 0 };
    for (let n = 0; n < N; n++) {
      const order = counts[n]!;
      const ids = new Int32Array(order.size);
      const vals = new Float64Array(order.size);
      let norm = 0;
      let j = 0;
      for (const [g, tf] of order) {
        const id = this.vocab.get(g);
        ids[j] = id ?? -1;
        const v = tf * (this.refLen - (id === undefined ? 0 : this.logDf[id]!));
        vals[j] = v;
        norm += v * v;
        if (n === 1) vec.length += tf;
        j++;
      }
      vec.ids.push(ids);
      vec.vals.push(vals);
      vec.norms.push(Math.sqrt(norm));
    }
    return vec;
  }

  /** CIDEr-D of a candidate vector against one image's reference vectors (`compute_cider`'s loop body). */
  private scoreVector(hyp: SentenceVector, refs: SentenceVector[]): number {
    const score = [0, 0, 0, 0];
    for (const ref of refs) {
      const penalty = lengthPenalty(hyp.length - ref.length);
      for (let n = 0; n < N; n++) {
        const hIds = hyp.ids[n]!;
        const hVals = hyp.vals[n]!;
        const rIds = ref.ids[n]!;
        const rVals = ref.vals[n]!;
        let val = 0;
        for (let a = 0; a < hIds.length; a++) {
          const id = hIds[a]!;
          let vr = 0;
          if (id >= 0) {
            for (let b = 0; b < rIds.length; b++) {
              if (rIds[b] === id) {
                vr = rVals[b]!;
                break;
              }
            }
          }
          val += Math.min(hVals[a]!, vr) * vr;
        }
        if (hyp.norms[n] !== 0 && ref.norms[n] !== 0) val /= hyp.norms[n]! * ref.norms[n]!;
        val *= penalty;
        score[n]! += val;
      }
    }
    let avg = npMean(score);
    avg /= refs.length;
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
      const hyp = this.vectorize(countNgrams(pySplit(tokenized[i]!)));
      out[i] = this.scoreVector(hyp, this.refVectors[indices[i]!]!);
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
