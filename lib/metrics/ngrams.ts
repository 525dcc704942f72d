/**
 * Integer n-gram ids for the BLEU and CIDEr-D scorers: tokens are interned to ids, and an n-gram
 * is the id of (its (n-1)-gram prefix, its last token) in an open-addressing hash table. Counting
 * then needs no string building, which is most of the cost of a naive implementation.
 */

/** A growable open-addressing table from (prefix id, token id) to n-gram id. */
export class NgramVocab {
  private readonly tokens = new Map<string, number>();
  private keysPrefix = new Int32Array(1 << 16).fill(-2);
  private keysToken = new Int32Array(1 << 16);
  private values = new Int32Array(1 << 16);
  private mask = (1 << 16) - 1;
  /** Number of n-gram ids handed out. */
  size = 0;

  /** The id of a token, or -1 when unknown and `insert` is false. */
  tokenId(token: string, insert: boolean): number {
    let id = this.tokens.get(token);
    if (id === undefined) {
      if (!insert) return -1;
      id = this.tokens.size;
      this.tokens.set(token, id);
    }
    return id;
  }

  /** Number of distinct tokens. */
  get tokenCount(): number {
    return this.tokens.size;
  }

  private slot(prefix: number, token: number): number {
    let h = (Math.imul(prefix + 1, 0x9e3779b1) ^ Math.imul(token, 0x85ebca77)) >>> 0;
    h = (h ^ (h >>> 15)) & this.mask;
    while (this.keysPrefix[h] !== -2 && (this.keysPrefix[h] !== prefix || this.keysToken[h] !== token)) {
      h = (h + 1) & this.mask;
    }
    return h;
  }

  /**
   * The id of the n-gram (prefix n-gram, last token); `prefix` is -1 for unigrams. Returns -1
   * when unknown and `insert` is false.
   */
  ngramId(prefix: number, token: number, insert: boolean): number {
    const h = this.slot(prefix, token);
    if (this.keysPrefix[h] !== -2) return this.values[h]!;
    if (!insert) return -1;
    const id = this.size++;
    this.keysPrefix[h] = prefix;
    this.keysToken[h] = token;
    this.values[h] = id;
    if (this.size * 2 > this.mask) this.grow();
    return id;
  }

  private grow(): void {
    const oldP = this.keysPrefix;
    const oldT = this.keysToken;
    const oldV = this.values;
    const cap = oldP.length * 2;
    this.keysPrefix = new Int32Array(cap).fill(-2);
    this.keysToken = new Int32Array(cap);
    this.values = new Int32Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < oldP.length; i++) {
      if (oldP[i] === -2) continue;
      const h = this.slot(oldP[i]!, oldT[i]!);
      this.keysPrefix[h] = oldP[i]!;
      this.keysToken[h] = oldT[i]!;
      this.values[h] = oldV[i]!;
    }
  }
}

let scratchPrev = new Int32Array(256);
let scratchCur = new Int32Array(256);
let scratchTokens = new Int32Array(256);

/**
 * The n-grams (orders 1..maxN) of many sentences with their counts, stored flat to keep the
 * garbage collector out of the way. Within a sentence, each order lists its n-grams in
 * first-occurrence order (Python dict order of pycocoevalcap's `precook`).
 */
export class FlatNgrams {
  ids = new Int32Array(4096);
  counts = new Int32Array(4096);
  /** Entries used in `ids` / `counts`. */
  size = 0;
  /** `offsets[s * (maxN + 1) + n]` = first entry of order n+1 of sentence s; the last slot is its end. */
  offsets = new Int32Array(1024);
  /** Token count of each sentence. */
  lengths = new Int32Array(256);
  sentences = 0;
  private unknown: Map<string, number> | null = null;
  /** `where[id]` = the entry where n-gram `id` was last stored (checked before use, never cleared). */
  private where = new Int32Array(1024);
  private unknownNext = -2;

  constructor(readonly maxN: number) {}

  /** Forgets every sentence (buffers are kept). */
  reset(): void {
    this.size = 0;
    this.sentences = 0;
    this.unknown = null;
    this.unknownNext = -2;
  }

  private ensure(extra: number): void {
    if (this.size + extra > this.ids.length) {
      const cap = Math.max(this.ids.length * 2, this.size + extra);
      const ids = new Int32Array(cap);
      ids.set(this.ids.subarray(0, this.size));
      const counts = new Int32Array(cap);
      counts.set(this.counts.subarray(0, this.size));
      this.ids = ids;
      this.counts = counts;
    }
    const need = (this.sentences + 1) * (this.maxN + 1);
    if (need > this.offsets.length) {
      const o = new Int32Array(Math.max(this.offsets.length * 2, need));
      o.set(this.offsets);
      this.offsets = o;
    }
    if (this.sentences + 1 > this.lengths.length) {
      const l = new Int32Array(this.lengths.length * 2);
      l.set(this.lengths);
      this.lengths = l;
    }
  }

  private growWhere(id: number): void {
    const w = new Int32Array(Math.max(this.where.length * 2, id + 1));
    w.set(this.where);
    this.where = w;
  }

  /** A fresh id (< -1) for an n-gram absent from a vocabulary that is not being extended. */
  private unknownId(key: string): number {
    if (this.unknown === null) this.unknown = new Map();
    let u = this.unknown.get(key);
    if (u === undefined) this.unknown.set(key, (u = this.unknownNext--));
    return u;
  }

  /**
   * Appends a tokenized sentence and returns its index. With `insert` false, n-grams unknown to
   * `vocab` get negative ids, distinct per n-gram within this buffer until `reset`.
   */
  add(words: readonly string[], vocab: NgramVocab, insert: boolean): number {
    const L = words.length;
    const maxN = this.maxN;
    this.ensure(L * maxN);
    if (scratchPrev.length < L) {
      scratchPrev = new Int32Array(L * 2);
      scratchCur = new Int32Array(L * 2);
      scratchTokens = new Int32Array(L * 2);
    }
    const s = this.sentences++;
    this.lengths[s] = L;
    const base = s * (maxN + 1);
    let prev = scratchPrev;
    let cur = scratchCur;
    const tokens = scratchTokens;
    for (let i = 0; i < L; i++) {
      const w = words[i]!;
      const id = vocab.tokenId(w, insert);
      tokens[i] = id >= 0 ? id : this.unknownId(`t${w}`);
    }
    for (let n = 0; n < maxN; n++) {
      const start = this.size;
      this.offsets[base + n] = start;
      for (let i = 0; i + n < L; i++) {
        const prefix = n === 0 ? -1 : prev[i]!;
        const token = tokens[i + n]!;
        let id = prefix >= -1 && token >= 0 ? vocab.ngramId(prefix, token, insert) : -1;
        if (id === -1) id = this.unknownId(`${prefix},${token}`);
        cur[i] = id;
        let j: number;
        if (id >= 0) {
          // Where this id was last stored; valid only if it lies in this order's segment.
          if (id >= this.where.length) this.growWhere(id);
          j = this.where[id]!;
          if (j < start || j >= this.size || this.ids[j] !== id) j = this.size;
        } else {
          j = start;
          while (j < this.size && this.ids[j] !== id) j++;
        }
        if (j === this.size) {
          if (id >= 0) this.where[id] = j;
          this.ids[j] = id;
          this.counts[j] = 1;
          this.size++;
        } else {
          this.counts[j]! += 1;
        }
      }
      const t = prev;
      prev = cur;
      cur = t;
    }
    this.offsets[base + maxN] = this.size;
    return s;
  }
}
