/**
 * The SentencePiece normalizer (`normalizer.cc`, `Normalizer::Normalize`), which the slow Hugging Face
 * T5Tokenizer runs through `sp_model.encode`. It works on UTF-8 bytes:
 *
 * 1. each position is rewritten by the longest matching rule of the precompiled charsmap
 *    (a character with no rule is copied; a malformed byte becomes U+FFFD);
 * 2. with `removeExtraWhitespaces`, leading and trailing spaces are dropped and runs of spaces
 *    collapse to one (spaces *after* the charsmap, so a tab or U+200B counts once it maps to " ");
 * 3. with `addDummyPrefix`, one space is put in front;
 * 4. with `escapeWhitespaces`, every space becomes U+2581 "▁".
 */
import type { PrecompiledCharsmap } from './charsmap.js';

/** The NormalizerSpec fields that change the output. */
export interface NormalizerSpec {
  /** Replacement rules; `undefined` copies characters unchanged (the `identity` normalizer). */
  charsmap: PrecompiledCharsmap | undefined;
  /** Put one space in front of non-empty text (`add_dummy_prefix`). */
  addDummyPrefix: boolean;
  /** Drop leading/trailing spaces, collapse runs (`remove_extra_whitespaces`). */
  removeExtraWhitespaces: boolean;
  /** Write spaces as U+2581 (`escape_whitespaces`). */
  escapeWhitespaces: boolean;
}

const SPACE = 0x20;
const SPACE_SYMBOL = Uint8Array.of(0xe2, 0x96, 0x81);
const REPLACEMENT_CHARACTER = Uint8Array.of(0xef, 0xbf, 0xbd);
const utf8Encoder = new TextEncoder();

/** Growable byte buffer for the normalized output. */
class ByteBuilder {
  bytes = new Uint8Array(64);
  length = 0;

  push(byte: number): void {
    if (this.length === this.bytes.length) this.grow(1);
    this.bytes[this.length++] = byte;
  }

  append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.bytes.length) this.grow(chunk.length);
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  endsWith(suffix: Uint8Array): boolean {
    if (this.length < suffix.length) return false;
    for (let i = 0; i < suffix.length; i++) {
      if (this.bytes[this.length - suffix.length + i] !== suffix[i]) return false;
    }
    return true;
  }

  private grow(extra: number): void {
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }
}

/** Normalizes text the way SentencePiece does before its unigram model sees it. */
export class SentencePieceNormalizer {
  readonly spec: NormalizerSpec;

  constructor(spec: NormalizerSpec) {
    this.spec = spec;
  }

  /** Returns the normalized text as UTF-8 bytes (empty when the text is empty or all whitespace). */
  normalize(text: string): Uint8Array {
    const input = utf8Encoder.encode(text);
    const { addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces } = this.spec;
    const out = new ByteBuilder();
    let pos = 0;
    if (removeExtraWhitespaces) {
      while (pos < input.length) {
        const [piece, consumed] = this.normalizePrefix(input, pos);
        if (piece.length !== 1 || piece[0] !== SPACE) break;
        pos += consumed;
      }
    }
    if (pos >= input.length) return new Uint8Array(0);
    if (addDummyPrefix) out.append(escapeWhitespaces ? SPACE_SYMBOL : Uint8Array.of(SPACE));

    let isPrevSpace = removeExtraWhitespaces;
    while (pos < input.length) {
      const [piece, consumed] = this.normalizePrefix(input, pos);
      pos += consumed;
      let begin = 0;
      if (isPrevSpace) while (begin < piece.length && piece[begin] === SPACE) begin++;
      if (begin < piece.length) {
        for (let i = begin; i < piece.length; i++) {
          if (escapeWhitespaces && piece[i] === SPACE) out.append(SPACE_SYMBOL);
          else out.push(piece[i]);
        }
        isPrevSpace = piece[piece.length - 1] === SPACE;
      }
      if (!removeExtraWhitespaces) isPrevSpace = false;
    }

    if (removeExtraWhitespaces) {
      const space = escapeWhitespaces ? SPACE_SYMBOL : Uint8Array.of(SPACE);
      while (out.endsWith(space)) out.length -= space.length;
    }
    return out.bytes.slice(0, out.length);
  }

  /** The replacement for the longest rule at `pos` and how many input bytes it consumes. */
  private normalizePrefix(input: Uint8Array, pos: number): [Uint8Array, number] {
    const match = this.spec.charsmap?.longestMatch(input, pos, input.length);
    if (match !== undefined) return [match.replacement, match.length];
    const length = validUtf8Length(input, pos);
    if (length === 0) return [REPLACEMENT_CHARACTER, 1];
    return [input.subarray(pos, pos + length), length];
  }
}

/** Length of the well-formed UTF-8 character at `pos`, or 0 if the bytes there are malformed. */
export function validUtf8Length(bytes: Uint8Array, pos: number): number {
  const b0 = bytes[pos];
  if (b0 < 0x80) return 1;
  const need = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
  if (need === 0 || pos + need > bytes.length) return 0;
  for (let i = 1; i < need; i++) {
    if ((bytes[pos + i] & 0xc0) !== 0x80) return 0;
  }
  const b1 = bytes[pos + 1];
  if (b0 === 0xe0 && b1 < 0xa0) return 0;
  if (b0 === 0xed && b1 > 0x9f) return 0;
  if (b0 === 0xf0 && b1 < 0x90) return 0;
  if (b0 === 0xf4 && b1 > 0x8f) return 0;
  return need;
}
