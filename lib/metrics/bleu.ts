/**
 * BLEU-1..4 exactly as pycocoevalcap's `Bleu(4)` (`bleu/bleu_scorer.py`) computes it with the
 * 'closest' effective reference length: clipped n-gram matches, the 1e-15 / 1e-9 smoothing, and a
 * corpus score from summed counts (not the mean of per-image scores).
 */
import { pySplit, pyFloatRepr } from './numeric.js';
import { checkScorerInput } from './validate.js';
import { knownKeys } from '../is.js';

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

/** Counts a sentence's n-grams (n = 1..4) as `precook` does; keys are tokens joined by spaces. */
function ngramCounts(words: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let k = 1; k <= N; k++) {
    for (let i = 0; i + k <= words.length; i++) {
      const key = k === 1 ? words[i]! : words.slice(i, i + k).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

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
  for (let i = 0; i < refs.length; i++) {
    const maxCounts = new Map<string, number>();
    const reflens: number[] = [];
    for (const ref of refs[i]!) {
      const words = pySplit(ref);
      reflens.push(words.length);
      for (const [g, c] of ngramCounts(words)) {
        if (c > (maxCounts.get(g) ?? 0)) maxCounts.set(g, c);
      }
    }
    const words = pySplit(cands[i]!);
    const testlen = words.length;
    // min((abs(l - testlen), l) for l in reflens)[1]: ties go to the shorter reference.
    let reflen = reflens[0]!;
    for (const l of reflens) {
      const d = Math.abs(l - testlen);
      const best = Math.abs(reflen - testlen);
      if (d < best || (d === best && l < reflen)) reflen = l;
    }
    const guess = [0, 1, 2, 3].map((k) => Math.max(0, testlen - k));
    const correct = [0, 0, 0, 0];
    for (const [g, c] of ngramCounts(words)) {
      const order = g.split(' ').length;
      correct[order - 1]! += Math.min(maxCounts.get(g) ?? 0, c);
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
