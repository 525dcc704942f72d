/**
 * ROUGE-L exactly as pycocoevalcap's `Rouge` (`rouge/rouge.py`): tokens from `split(" ")` (so a
 * double space yields empty tokens that count and can match), LCS by dynamic programming, precision
 * and recall maximised independently over references, F-measure with beta = 1.2.
 */
import { npMean } from './numeric.js';
import { checkScorerInput } from './validate.js';

/** Result of {@link rougeL}. */
export interface RougeResult {
  /** `np.mean` of the per-image scores (pairwise summation). */
  score: number;
  perImage: number[];
}

const BETA = 1.2;

let scratchRow = new Int32Array(256);

/** Length of the longest common subsequence of two token-id sequences (one rolling row). */
export function lcsLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (scratchRow.length < b.length + 1) scratchRow = new Int32Array((b.length + 1) * 2);
  const row = scratchRow;
  row.fill(0, 0, b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    const ai = a[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = ai === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

/** ROUGE-L of one candidate against its references, as `Rouge.calc_score`. */
function rougeOne(cand: string, refs: string[], ids: Map<string, number>): number {
  const toIds = (s: string) => {
    const tokens = s.split(' ');
    const out: number[] = new Array<number>(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      let id = ids.get(tokens[i]!);
      if (id === undefined) ids.set(tokens[i]!, (id = ids.size));
      out[i] = id;
    }
    return out;
  };
  const c = toIds(cand);
  let precMax = -Infinity;
  let recMax = -Infinity;
  for (const ref of refs) {
    const r = toIds(ref);
    const lcs = lcsLength(r, c);
    precMax = Math.max(precMax, lcs / c.length);
    recMax = Math.max(recMax, lcs / r.length);
  }
  if (precMax === 0 || recMax === 0) return 0;
  const b2 = BETA ** 2;
  return ((1 + b2) * precMax * recMax) / (recMax + b2 * precMax);
}

/**
 * Corpus and per-image ROUGE-L on tokenized strings.
 *
 * @param refs `refs[i]` = the references of image i (at least one).
 * @param cands `cands[i]` = the single candidate of image i.
 * @throws TypeError when the inputs are not string arrays of matching length or an image has no reference.
 */
export function rougeL(refs: string[][], cands: string[]): RougeResult {
  checkScorerInput(refs, cands);
  const ids = new Map<string, number>();
  const perImage = cands.map((cand, i) => rougeOne(cand, refs[i]!, ids));
  return { score: npMean(perImage), perImage };
}
