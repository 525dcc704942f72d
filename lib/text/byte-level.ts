/**
 * The pieces of GPT-2's byte-level BPE, as the slow `GPT2Tokenizer` of transformers 4.44 has them:
 * - pre-tokenization with GPT-2's pattern, run by Python's `regex` module, whose `\s` is Unicode White_Space
 *   (JavaScript's `\s` differs: it takes U+FEFF and leaves out U+0085, so the pattern spells `\p{White_Space}`);
 * - `bytes_to_unicode`, which gives each of the 256 bytes a printable character, so that BPE works on text;
 * - BPE by merge rank: the lowest-ranked adjacent pair is merged everywhere, left to right, until no ranked pair is
 *   left; results are cached per pre-token.
 */

/**
 * GPT-2's pre-tokenization pattern, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
 * with `\s` written as the White_Space property that the `regex` module gives it.
 */
export const GPT2_SPLIT_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** `re.findall(pat, text)`: the pre-tokens of a text, which together spell it whole. */
export function preTokenize(text: string): string[] {
  return text.match(GPT2_SPLIT_PATTERN) ?? [];
}

/**
 * `bytes_to_unicode`: the printable bytes `!`..`~`, `¡`..`¬` and `®`..`ÿ` stand for themselves; the other 68 bytes,
 * in order, take the characters from U+0100 on. Index = byte.
 */
function bytesToUnicode(): string[] {
  const table = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + next++);
  return table;
}

/** The character each byte stands for (`byte_encoder`). */
export const BYTE_TO_CHAR: readonly string[] = Object.freeze(bytesToUnicode());

/** The byte each of the 256 byte characters stands for (`byte_decoder`). */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8Encoder = new TextEncoder();

/** A pre-token's UTF-8 bytes written with {@link BYTE_TO_CHAR}: the string BPE works on. */
export function byteEncode(text: string): string {
  let out = '';
  for (const b of utf8Encoder.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}

/**
 * The bytes a token string stands for. A character outside the byte table (only an added token can hold one)
 * contributes its own UTF-8 bytes.
 */
export function byteDecode(tokenText: string, out: number[]): void {
  for (const c of tokenText) {
    const b = CHAR_TO_BYTE.get(c);
    if (b !== undefined) out.push(b);
    else out.push(...utf8Encoder.encode(c));
  }
}

/** Pre-tokens longer than this are not cached (they are rare, and each would hold its own entry). */
const MAX_CACHED_LENGTH = 256;
/** The cache is emptied when it holds this many entries, so a long-running process does not grow without bound. */
const CACHE_CAPACITY = 50_000;

/** BPE over byte characters with merges ranked by their order (`bpe_ranks`), with a cache per pre-token. */
export class BytePairEncoding {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  /** @param merges the merge pairs, lowest rank first; a pair listed twice takes its later rank, as Python's dict. */
  constructor(merges: ReadonlyArray<readonly [string, string]>) {
    merges.forEach(([a, b], rank) => this.ranks.set(pairKey(a, b), rank));
  }

  /** Number of distinct merges. */
  get size(): number {
    return this.ranks.size;
  }

  /** `GPT2Tokenizer.bpe`: the symbols a byte-encoded pre-token is merged into. */
  encode(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached !== undefined) return cached;
    const symbols = this.merge(Array.from(token));
    if (token.length <= MAX_CACHED_LENGTH) {
      if (this.cache.size >= CACHE_CAPACITY) this.cache.clear();
      this.cache.set(token, symbols);
    }
    return symbols;
  }

  private merge(initial: string[]): string[] {
    let word = initial;
    while (word.length > 1) {
      let best = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(pairKey(word[i]!, word[i + 1]!));
        if (rank !== undefined && rank < best) {
          best = rank;
          first = word[i]!;
          second = word[i + 1]!;
        }
      }
      if (best === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    return word;
  }
}

/** A map key for a pair of symbols (symbols never hold a space: the byte table maps it to "Ġ"). */
function pairKey(a: string, b: string): string {
  return `${a} ${b}`;
}
