/**
 * Small selection kernels for decoding: argmax, k-th largest, top-k candidates by partial selection (a bounded
 * heap instead of a full sort), log-sum-exp. All work on typed arrays without allocating per element.
 */

/** Index of the largest value in `row` (the first one on ties, like torch.argmax). -inf everywhere gives 0. */
export function argmax(row: Float32Array): number {
  let best = 0;
  let bestValue = row[0]!;
  for (let i = 1; i < row.length; i++) {
    const v = row[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** log(sum(exp(row))) computed stably in float64. */
export function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return max + Math.log(sum);
}

/**
 * The best `k` (value, index) pairs seen so far; better = larger value, then smaller index (a stable order, as a
 * sorted torch.topk gives for distinct values). Kept as a min-heap whose root is the worst kept pair.
 */
export class TopCandidates {
  readonly values: Float64Array;
  readonly indices: Float64Array;
  private size = 0;

  constructor(readonly k: number) {
    this.values = new Float64Array(k);
    this.indices = new Float64Array(k);
  }

  /** Forgets every pair. */
  clear(): void {
    this.size = 0;
  }

  /** The number of pairs kept. */
  get length(): number {
    return this.size;
  }

  /** Whether a value would enter the heap now (cheap pre-check before {@link push}). */
  accepts(value: number): boolean {
    return this.size < this.k || value >= this.values[0]!;
  }

  /** Offers one pair. Indices must be offered in increasing order for the tie rule to hold. */
  push(value: number, index: number): void {
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(value, index, this.values[parent]!, this.indices[parent]!)) break;
        this.values[i] = this.values[parent]!;
        this.indices[i] = this.indices[parent]!;
        i = parent;
      }
      this.values[i] = value;
      this.indices[i] = index;
      return;
    }
    if (!this.worse(this.values[0]!, this.indices[0]!, value, index)) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      let c = l;
      if (r < this.size && this.worse(this.values[r]!, this.indices[r]!, this.values[l]!, this.indices[l]!)) c = r;
      if (!this.worse(this.values[c]!, this.indices[c]!, value, index)) break;
      this.values[i] = this.values[c]!;
      this.indices[i] = this.indices[c]!;
      i = c;
    }
    this.values[i] = value;
    this.indices[i] = index;
  }

  /** The kept pairs, best first. */
  sorted(): { value: number; index: number }[] {
    const out: { value: number; index: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ value: this.values[i]!, index: this.indices[i]! });
    return out.sort((a, b) => b.value - a.value || a.index - b.index);
  }

  private worse(va: number, ia: number, vb: number, ib: number): boolean {
    return va < vb || (va === vb && ia > ib);
  }
}

/** The k-th largest value of `row` (1-based k ≤ row.length), by partial selection. */
export function kthLargest(row: Float32Array, k: number): number {
  const heap = new TopCandidates(k);
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (heap.accepts(v)) heap.push(v, i);
  }
  return heap.values[0]!;
}
