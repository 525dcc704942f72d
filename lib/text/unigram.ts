/**
 * The SentencePiece unigram model (`unigram_model.cc`, `Model::EncodeOptimized`): Viterbi over the
 * piece scores on the normalized UTF-8 bytes, in float32 exactly as the C++ code, with the same
 * tie-breaking (a later candidate must be strictly better). A character that no piece covers becomes
 * an unknown node scored `minScore - 10`; consecutive unknown nodes merge into one `<unk>` token
 * (`PopulateSentencePieceText`).
 */

/** A vocabulary entry of the unigram model. */
export interface UnigramPiece {
  piece: string;
  score: number;
  /** `false` for control and unknown pieces, which Viterbi never produces (SentencePiece CONTROL/UNKNOWN). */
  normal: boolean;
}

/** One token of an encoding: its id and its surface (the normalized text it covers). */
export interface UnigramToken {
  id: number;
  /** Byte range of the normalized input covered by this token. */
  start: number;
  end: number;
}

/** SentencePiece's `kUnkPenalty`. */
const UNK_PENALTY = 10;
const utf8Encoder = new TextEncoder();

/**
 * A byte trie of the normal pieces. Children live in one Map keyed `node * 256 + byte`; the id
 * reached at a node is in `ids` (-1 when no piece ends there).
 */
class ByteTrie {
  private readonly children = new Map<number, number>();
  private ids: number[] = [-1];

  insert(bytes: Uint8Array, id: number): void {
    let node = 0;
    for (const byte of bytes) {
      const key = node * 256 + byte;
      let child = this.children.get(key);
      if (child === undefined) {
        child = this.ids.length;
        this.ids.push(-1);
        this.children.set(key, child);
      }
      node = child;
    }
    this.ids[node] = id;
  }

  /** Next node from `node` on `byte`, or -1. */
  step(node: number, byte: number): number {
    return this.children.get(node * 256 + byte) ?? -1;
  }

  idAt(node: number): number {
    return this.ids[node];
  }
}

/** Viterbi segmentation with SentencePiece's unigram semantics. */
export class UnigramModel {
  readonly pieces: readonly UnigramPiece[];
  readonly unkId: number;
  private readonly scores: Float32Array;
  private readonly trie = new ByteTrie();
  private readonly unkScore: number;

  /** Builds the model; `unkId` must index a piece. */
  constructor(pieces: readonly UnigramPiece[], unkId: number) {
    if (!Number.isInteger(unkId) || unkId < 0 || unkId >= pieces.length) {
      throw new Error(`Unigram unk_id ${unkId} is not a piece index (the vocabulary has ${pieces.length} pieces)`);
    }
    this.pieces = pieces;
    this.unkId = unkId;
    this.scores = Float32Array.from(pieces, (p) => p.score);
    let minScore = Number.MAX_VALUE;
    pieces.forEach((p, id) => {
      if (!p.normal) return;
      minScore = Math.min(minScore, this.scores[id]);
      this.trie.insert(utf8Encoder.encode(p.piece), id);
    });
    this.unkScore = Math.fround(Math.fround(minScore) - UNK_PENALTY);
  }

  /** Segments normalized UTF-8 bytes into tokens, merging runs of unknown characters. */
  encode(normalized: Uint8Array): UnigramToken[] {
    const size = normalized.length;
    const bestScore = new Float64Array(size + 1);
    const bestStart = new Int32Array(size + 1).fill(-1);
    const bestId = new Int32Array(size + 1).fill(-1);
    for (let startsAt = 0; startsAt < size; ) {
      const scoreTillHere = bestScore[startsAt];
      const charLength = Math.min(utf8CharLength(normalized[startsAt]), size - startsAt);
      let hasSingleNode = false;
      let node = 0;
      for (let keyPos = startsAt; keyPos < size; ) {
        node = this.trie.step(node, normalized[keyPos]);
        if (node < 0) break;
        keyPos++;
        const id = this.trie.idAt(node);
        if (id < 0) continue;
        const candidate = Math.fround(this.scores[id] + scoreTillHere);
        if (bestStart[keyPos] === -1 || candidate > bestScore[keyPos]) {
          bestScore[keyPos] = candidate;
          bestStart[keyPos] = startsAt;
          bestId[keyPos] = id;
        }
        if (keyPos - startsAt === charLength) hasSingleNode = true;
      }
      if (!hasSingleNode) {
        const target = startsAt + charLength;
        const candidate = Math.fround(this.unkScore + scoreTillHere);
        if (bestStart[target] === -1 || candidate > bestScore[target]) {
          bestScore[target] = candidate;
          bestStart[target] = startsAt;
          bestId[target] = this.unkId;
        }
      }
      startsAt += charLength;
    }
    return this.backtrack(size, bestStart, bestId);
  }

  private backtrack(size: number, bestStart: Int32Array, bestId: Int32Array): UnigramToken[] {
    const reversed: UnigramToken[] = [];
    for (let end = size; end > 0; end = bestStart[end]) {
      reversed.push({ id: bestId[end], start: bestStart[end], end });
    }
    const tokens: UnigramToken[] = [];
    for (let i = reversed.length - 1; i >= 0; i--) {
      const token = reversed[i];
      const previous = tokens[tokens.length - 1];
      if (previous !== undefined && previous.id === this.unkId && token.id === this.unkId) {
        previous.end = token.end;
      } else {
        tokens.push(token);
      }
    }
    return tokens;
  }
}

/** Byte length of the UTF-8 character whose lead byte is `lead` (SentencePiece `OneCharLen`). */
function utf8CharLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead < 0xc0) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return 4;
}
