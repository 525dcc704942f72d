/**
 * Deterministic seed derivation for the data pipeline: every random choice of the loader (epoch order,
 * target caption, image augmentation, caption augmentation, corruption) gets its own seed computed from
 * (run seed, epoch, sample index, stream), so a choice never depends on the batch size, on prefetching,
 * on how many batches were skipped when resuming, or on any other draw.
 */

/** Independent random streams of the loader; the value is mixed into the seed. */
export const SEED_STREAM = Object.freeze({
  order: 1,
  caption: 2,
  imageAugment: 3,
  captionAugment: 4,
  corrupt: 5,
  matchCorrupt: 6,
} as const);

/** A name of {@link SEED_STREAM}. */
export type SeedStream = keyof typeof SEED_STREAM;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** MurmurHash3's block mix of one 32-bit word into the running hash. */
function mixWord(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = rotl(k, 15);
  k = Math.imul(k, 0x1b873593);
  const h = rotl(hash ^ k, 13);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finaliser (full avalanche). */
function finalMix(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A seed in [0, 2^53) for one (run seed, epoch, index, stream): MurmurHash3 over the 32-bit words of the
 * inputs, finalised twice for the low 32 and high 21 bits.
 *
 * @param seed the run seed, an integer in [0, 2^53).
 * @param epoch the epoch, a non-negative integer.
 * @param index the sample (or entry) index, a non-negative integer.
 * @param stream which random choice the seed is for.
 */
export function deriveSeed(seed: number, epoch: number, index: number, stream: SeedStream): number {
  const words = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, epoch >>> 0, Math.floor(epoch / 2 ** 32) >>> 0, index >>> 0, SEED_STREAM[stream]];
  let hash = 0x2545f491;
  for (const word of words) hash = mixWord(hash, word);
  const low = finalMix(hash ^ words.length);
  const high = finalMix(mixWord(hash, low)) >>> 11;
  return high * 2 ** 32 + low;
}
