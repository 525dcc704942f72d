/**
 * BLEU-1..4 exactly as pycocoevalcap's `Bleu(4)` (`bleu/bleu_scorer.py`) computes it with the
 * 'closest' effective reference length: clipped n-gram matches, the 1e-15 / 1e-9 smoothing, and a
 * corpus score from summed counts (not the mean of per-image scores).
 */
import { pySplit, pyFloatRepr } from './numeric.js';
import { checkScorerInput } from './validate.js';
import { knownKeys } from '../is.js';
import { FlatNgrams, NgramVocab } from './ngrams.js';

/** Integer statistics BLEU is computed from, summed over the corpus (`totalcomps` in Python). */
export interface BleuTotals {
  testlen: number;
  reflen: number;
  guess: [number, number, number, number];
  correct: [number, number, number, number];
  /** `(testlen + 1e-15) / (reflen + 1e-9)`, the brevity-penalty ratio. */
  ratio: number;
}

/** Result of {@link bleu}. */
export interface BleuResult {
  /** Corpus BLEU-1..4. */
  scores: [number, number, number, number];
  /** `perImage[k][i]` = BLEU-(k+1) of image i, as pycocoevalcap's `bleu_list`. */
  perImage: [number[], number[], number[], number[]];
  totals: BleuTotals;
}

/** Options of {@link bleu}. */
export interface BleuOptions {
  /**
   * Receives the exact text `Bleu(4).compute_score` prints with its default `verbose=1`
   * (`str(totalcomps)` then `ratio: <repr>`), each line ending in a newline.
   */
  verboseLog?: (text: string) => void;
}

const N = 4;
const TINY = 1e-15;
const SMALL = 1e-9;

/** BLEU-1..4 from counts with pycocoevalcap's smoothing and brevity penalty. */
function bleuFromCounts(correct: number[], guess: number[], testlen: number, reflen: number): [number, number, number, number] {
  const out: number[] = [];
  let b = 1;
  for (let k = 0; k < N; k++) {
    b *= (correct[k]! + TINY) / (guess[k]! + SMALL);
    out.push(b ** (1 / (k + 1)));
  }
  const ratio = (testlen + TINY) / (reflen + SMALL);
  if (ratio < 1) {
    const bp = Math.exp(1 - 1 / ratio);
    for (let k = 0; k < N; k++) out[k]! *= bp;
  }
  return out as [number, number, number, number];
}

/**
 * Corpus and per-image BLEU-1..4 on tokenized strings (tokens = Python `str.split()`).
 *
 * @param refs `refs[i]` = the references of image i (at least one).
 * @param cands `cands[i]` = the single candidate of image i.
 * @returns corpus scores, per-image scores and the integer totals.
 * @throws TypeError when the inputs are not string arrays of matching length or an image has no reference.
 */
export function bleu(refs: string[][], cands: string[], options?: BleuOptions): BleuResult {
  checkScorerInput(refs, cands);
  const opts = knownKeys('options', options, ['verboseLog']) as BleuOptions;
  const perImage: [number[], number[], number[], number[]] = [[], [], [], []];
  const totals: BleuTotals = { testlen: 0, reflen: 0, guess: [0, 0, 0, 0], correct: [0, 0, 0, 0], ratio: 0 };
  // Intern every n-gram first, then clip with flat per-id arrays (no strings, no maps per image).
  const vocab = new NgramVocab();
  const refGrams = new FlatNgrams(N);
  const candGrams = new FlatNgrams(N);
  const refStart = new Int32Array(refs.length + 1);
  for (let i = 0; i < refs.length; i++) {
    refStart[i] = refGrams.sentences;
    for (const ref of refs[i]!) refGrams.add(pySplit(ref), vocab, true);
    candGrams.add(pySplit(cands[i]!), vocab, true);
  }
  refStart[refs.length] = refGrams.sentences;
  const maxCount = new Int32Array(vocab.size);
  const stamp = new Int32Array(vocab.size);
  for (let i = 0; i < refs.length; i++) {
    // cook_refs: max count of each n-gram over the references
    const reflens: number[] = [];
    for (let r = refStart[i]!; r < refStart[i + 1]!; r++) {
      reflens.push(refGrams.lengths[r]!);
      for (let e = refGrams.offsets[r * (N + 1)]!; e < refGrams.offsets[r * (N + 1) + N]!; e++) {
        const id = refGrams.ids[e]!;
        const c = refGrams.counts[e]!;
        if (stamp[id] !== i + 1) {
          stamp[id] = i + 1;
          maxCount[id] = c;
        } else if (c > maxCount[id]!) {
          maxCount[id] = c;
        }
      }
    }
    const testlen = candGrams.lengths[i]!;
    // min((abs(l - testlen), l) for l in reflens)[1]: ties go to the shorter reference.
    let reflen = reflens[0]!;
    for (const l of reflens) {
      const d = Math.abs(l - testlen);
      const best = Math.abs(reflen - testlen);
      if (d < best || (d === best && l < reflen)) reflen = l;
    }
    const guess = [0, 1, 2, 3].map((k) => Math.max(0, testlen - k));
    const correct = [0, 0, 0, 0];
    const base = i * (N + 1);
    for (let k = 0; k < N; k++) {
      for (let e = candGrams.offsets[base + k]!; e < candGrams.offsets[base + k + 1]!; e++) {
        const id = candGrams.ids[e]!;
        correct[k]! += Math.min(stamp[id] === i + 1 ? maxCount[id]! : 0, candGrams.counts[e]!);
      }
    }
    totals.testlen += testlen;
    totals.reflen += reflen;
    for (let k = 0; k < N; k++) {
      totals.guess[k]! += guess[k]!;
      totals.correct[k]! += correct[k]!;
    }
    const scores = bleuFromCounts(correct, guess, testlen, reflen);
    for (let k = 0; k < N; k++) perImage[k]!.push(scores[k]);
  }
  totals.ratio = (totals.testlen + TINY) / (totals.reflen + SMALL);
  const scores = bleuFromCounts(totals.correct, totals.guess, totals.testlen, totals.reflen);
  opts.verboseLog?.(bleuVerboseText(totals));
  return { scores, perImage, totals };
}

/** The two lines pycocoevalcap's `BleuScorer.compute_score(verbose=1)` prints. */
export function bleuVerboseText(totals: BleuTotals): string {
  const list = (xs: number[]) => `[${xs.join(', ')}]`;
  return `{'testlen': ${totals.testlen}, 'reflen': ${totals.reflen}, 'guess': ${list(totals.guess)}, ` +
    `'correct': ${list(totals.correct)}}\nratio: ${pyFloatRepr(totals.ratio)}\n`;
}
