/**
 * SentencePiece's precompiled character map (the `Precompiled` normalizer of tokenizer.json,
 * `normalizer_spec.precompiled_charsmap` of a `.model` file).
 *
 * Layout of the blob: `<uint32 LE trie size in bytes><Darts-clone double-array trie><normalized strings>`.
 * The trie maps UTF-8 byte sequences of the input to an offset into the normalized strings, which
 * are NUL-terminated UTF-8. Normalization takes, at each position, the longest key that matches
 * (SentencePiece `Normalizer::NormalizePrefix`).
 */

/** One replacement found by {@link PrecompiledCharsmap.longestMatch}. */
export interface CharsmapMatch {
  /** Number of input bytes the rule consumes. */
  length: number;
  /** The UTF-8 bytes that replace them (may be empty: the rule deletes the input). */
  replacement: Uint8Array;
}

/** Maximum number of prefix matches SentencePiece collects before picking the longest. */
const MAX_TRIE_RESULTS = 32;

/** A decoded precompiled charsmap: a double-array trie plus its replacement strings. */
export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly replacementCache = new Map<number, Uint8Array>();

  private constructor(units: Uint32Array, strings: Uint8Array) {
    this.units = units;
    this.strings = strings;
  }

  /** Decodes the base64 `precompiled_charsmap` string of a tokenizer.json `Precompiled` normalizer. */
  static fromBase64(base64: string): PrecompiledCharsmap {
    return PrecompiledCharsmap.fromBytes(new Uint8Array(Buffer.from(base64, 'base64')));
  }

  /** Decodes the raw blob; throws if its declared trie size does not fit the blob. */
  static fromBytes(blob: Uint8Array): PrecompiledCharsmap {
    if (blob.length < 4) {
      throw new Error(`Invalid precompiled charsmap: ${blob.length} bytes is too short for the 4-byte header`);
    }
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize % 4 !== 0 || 4 + trieSize > blob.length) {
      throw new Error(`Invalid precompiled charsmap: trie size ${trieSize} does not fit a blob of ${blob.length} bytes`);
    }
    const units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + 4 * i, true);
    return new PrecompiledCharsmap(units, blob.subarray(4 + trieSize));
  }

  /**
   * The longest rule whose key is a prefix of `input[start..end)`, or `undefined` when none matches
   * (Darts-clone `commonPrefixSearch`, keeping the longest of the first 32 results as SentencePiece does).
   */
  longestMatch(input: Uint8Array, start: number, end: number): CharsmapMatch | undefined {
    const units = this.units;
    let nodePos = unitOffset(units[0]);
    let found = 0;
    let bestLength = 0;
    let bestValue = 0;
    for (let i = start; i < end; i++) {
      const byte = input[i];
      nodePos ^= byte;
      const unit = units[nodePos];
      if (unit === undefined || unitLabel(unit) !== byte) break;
      nodePos ^= unitOffset(unit);
      if (unitHasLeaf(unit)) {
        if (found < MAX_TRIE_RESULTS) {
          bestLength = i + 1 - start;
          bestValue = units[nodePos] & 0x7fffffff;
        }
        found++;
      }
    }
    if (bestLength === 0) return undefined;
    return { length: bestLength, replacement: this.replacementAt(bestValue) };
  }

  private replacementAt(offset: number): Uint8Array {
    let cached = this.replacementCache.get(offset);
    if (cached === undefined) {
      let end = offset;
      while (end < this.strings.length && this.strings[end] !== 0) end++;
      cached = this.strings.subarray(offset, end);
      this.replacementCache.set(offset, cached);
    }
    return cached;
  }
}

// Darts-clone DoubleArrayUnit accessors (darts.h).
function unitHasLeaf(unit: number): boolean {
  return ((unit >>> 8) & 1) === 1;
}

function unitLabel(unit: number): number {
  return (unit & 0x800000ff) >>> 0;
}

function unitOffset(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
}
