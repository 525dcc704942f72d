/**
 * Caption augmentation of the progressive recipe: synonym substitution and sentence shuffling (p = 0.2
 * each in the paper), seeded and deterministic, plus {@link swapLeftRight} for captions of flipped images.
 */
import { chance, pick, shuffleInPlace, Xoshiro128 } from '../random.js';
import { integerInRange, invalidParameterError, isPlainObject, knownKeys, numberInRange, oneOf, optional } from '../is.js';

/** Lower-case word → replacements (single words or short phrases). */
export type SynonymTable = Readonly<Record<string, readonly string[]>>;

/** Which caption augmentations to apply. */
export interface CaptionAugmentSpec {
  /** Probability that each word found in the table is replaced by one of its synonyms (uniformly). Default 0. */
  synonymProb?: number;
  /** Probability that a caption with more than one sentence has its sentences shuffled. Default 0. */
  shuffleProb?: number;
  /**
   * The synonym table, or the name of a built-in one: `'default'` ({@link DEFAULT_SYNONYMS}, the default) or
   * `'seed'` ({@link SEED_SYNONYMS}, the paper's script's table).
   */
  synonyms?: SynonymTable | SynonymTableName;
}

/**
 * Groups of interchangeable caption words; every word maps to the others of its group. Colours, numbers,
 * shapes and directions are deliberately absent: changing them changes what the caption says.
 */
export const SYNONYM_GROUPS: readonly (readonly string[])[] = Object.freeze([
  ['picture', 'photo', 'image', 'photograph'],
  ['man', 'guy', 'gentleman'],
  ['woman', 'lady'],
  ['men', 'guys', 'gentlemen'],
  ['women', 'ladies'],
  ['person', 'individual'],
  ['people', 'persons'],
  ['child', 'kid'],
  ['children', 'kids'],
  ['small', 'little'],
  ['big', 'large'],
  ['street', 'road'],
  ['car', 'automobile'],
  ['bicycle', 'bike'],
  ['sitting', 'seated'],
  ['shows', 'depicts', 'displays'],
  ['showing', 'depicting', 'displaying'],
  ['near', 'close to'],
  ['beside', 'next to'],
  ['above', 'over'],
  ['below', 'beneath', 'under'],
  ['blurry', 'blurred'],
  ['dark', 'dim'],
  ['text', 'writing'],
  ['couch', 'sofa'],
  ['television', 'tv'],
  ['phone', 'telephone'],
  ['screen', 'display', 'monitor'],
  ['cup', 'mug'],
  ['plate', 'dish'],
  ['bag', 'sack'],
  ['rug', 'carpet'],
  ['floor', 'ground'],
  ['cloth', 'fabric'],
  ['path', 'pathway', 'walkway'],
  ['ocean', 'sea'],
  ['rock', 'stone'],
  ['building', 'structure'],
  ['package', 'parcel'],
  ['object', 'item', 'thing'],
  ['objects', 'items', 'things'],
  ['center', 'middle'],
  ['empty', 'blank'],
  ['several', 'multiple'],
  ['many', 'numerous'],
  ['round', 'circular'],
  ['closeup', 'close-up'],
  ['happy', 'cheerful'],
  ['walking', 'strolling'],
  ['appears', 'seems'],
  ['top', 'surface'],
  ['hat', 'cap'],
  ['jar', 'container'],
  ['label', 'sticker'],
  ['photographed', 'pictured'],
  ['shot', 'snapshot'],
].map((group) => Object.freeze(group)));

/** Builds a table in which every word of a group maps to the other words of the group. */
export function synonymTableFromGroups(groups: readonly (readonly string[])[]): SynonymTable {
  const table: Record<string, string[]> = {};
  for (const group of groups) {
    for (const word of group) {
      if (!WORD_KEY.test(word)) continue;
      const others = group.filter((w) => w !== word);
      table[word] = [...(table[word] ?? []), ...others.filter((w) => !(table[word] ?? []).includes(w))];
    }
  }
  return Object.freeze(Object.fromEntries(Object.entries(table).map(([k, v]) => [k, Object.freeze(v)])));
}

/** A word of a caption: letters, joined by inner hyphens or apostrophes ("close-up", "man's"). */
const WORD = /[A-Za-z]+(?:[-'][A-Za-z]+)*/g;
/** A valid table key: one lower-case word. */
const WORD_KEY = /^[a-z]+(?:[-'][a-z]+)*$/;

/** The default table (~110 words) built from {@link SYNONYM_GROUPS}; multi-word entries are values only. */
export const DEFAULT_SYNONYMS: SynonymTable = synonymTableFromGroups(SYNONYM_GROUPS);

/**
 * The paper's script's own synonym table (`SYNONYMS` in its training script, 9 entries). Its entries are not
 * available to this project, so the table is empty until they are filled in from the script: with it, synonym
 * substitution changes nothing. It is named so that `examples/seed.json` points at the right table.
 */
export const SEED_SYNONYMS: SynonymTable = Object.freeze({});

/** The built-in synonym tables a caption augmentation spec may name. */
export type SynonymTableName = 'default' | 'seed';

const NAMED_SYNONYMS: Readonly<Record<SynonymTableName, SynonymTable>> = Object.freeze({ default: DEFAULT_SYNONYMS, seed: SEED_SYNONYMS });

/**
 * The paper's probabilities: synonym substitution and sentence shuffling at p = 0.2, with our 121-word
 * {@link DEFAULT_SYNONYMS} (the script's own table is {@link SEED_SYNONYMS}).
 */
export const PAPER_CAPTION_AUGMENT: CaptionAugmentSpec = Object.freeze({ synonymProb: 0.2, shuffleProb: 0.2 });

/** Validates a caption augmentation spec; unknown keys are errors. Returns every field filled. */
export function parseCaptionAugmentSpec(spec: unknown): Required<CaptionAugmentSpec> & { synonyms: SynonymTable } {
  if (spec === undefined) throw invalidParameterError('caption augment spec', 'plain object', spec);
  const s = knownKeys('caption augment spec', spec, ['synonymProb', 'shuffleProb', 'synonyms']);
  return {
    synonymProb: numberInRange('synonymProb', s.synonymProb ?? 0, 0, 1),
    shuffleProb: numberInRange('shuffleProb', s.shuffleProb ?? 0, 0, 1),
    synonyms: optional(s.synonyms, DEFAULT_SYNONYMS, (v) => (typeof v === 'string'
      ? NAMED_SYNONYMS[oneOf('synonyms', v, ['default', 'seed'] as const)]
      : parseSynonymTable(v))),
  };
}

/** Validates a synonym table: keys are single lower-case words, values non-empty arrays of non-empty strings. */
export function parseSynonymTable(table: unknown): SynonymTable {
  if (!isPlainObject(table)) throw invalidParameterError('synonyms', 'plain object', table);
  for (const [key, value] of Object.entries(table)) {
    if (!WORD_KEY.test(key)) throw invalidParameterError('synonyms key', 'a single lower-case word', key);
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.trim().length > 0)) {
      throw invalidParameterError(`synonyms[${JSON.stringify(key)}]`, 'non-empty array of non-empty strings', value);
    }
  }
  return table as SynonymTable;
}

/** Gives `replacement` the case pattern of `original`: ALL CAPS, Capitalised or as written. */
export function matchCase(original: string, replacement: string): string {
  if (original.length > 1 && original === original.toUpperCase() && original !== original.toLowerCase()) return replacement.toUpperCase();
  const first = original[0]!;
  if (first !== first.toLowerCase()) return replacement[0]!.toUpperCase() + replacement.slice(1);
  return replacement;
}

/**
 * Replaces each word found in `table` (case-insensitively) with probability `p` by a uniformly chosen
 * synonym, keeping its case and all punctuation and spacing.
 */
export function substituteSynonyms(text: string, table: SynonymTable, p: number, rng: Xoshiro128): string {
  if (p <= 0) return text;
  return text.replace(WORD, (word) => {
    const key = word.toLowerCase();
    const choices = Object.hasOwn(table, key) ? table[key]! : undefined;
    if (choices === undefined || choices.length === 0) return word;
    if (!chance(rng, p)) return word;
    return matchCase(word, pick(rng, choices));
  });
}

/** Splits after `.`, `!` or `?` (and any closing quotes or brackets) followed by white space. */
export function splitSentences(text: string): string[] {
  return text.trim().split(/(?<=[.!?]["')\]]*)\s+/).filter((s) => s.length > 0);
}

/** With probability `p`, shuffles the sentences of a caption of two or more (Fisher–Yates), joined by single spaces. */
export function shuffleSentences(text: string, p: number, rng: Xoshiro128): string {
  const sentences = splitSentences(text);
  if (sentences.length < 2 || !chance(rng, p)) return text;
  return shuffleInPlace(rng, sentences).join(' ');
}

/**
 * Augments one caption: synonym substitution, then sentence shuffling, each from its own stream of the seed.
 * @param spec e.g. {@link PAPER_CAPTION_AUGMENT}
 * @param seed integer in [0, 2^53)
 */
export function augmentCaption(text: string, spec: CaptionAugmentSpec, seed: number): string {
  if (typeof text !== 'string') throw invalidParameterError('text', 'string', text);
  const s = parseCaptionAugmentSpec(spec);
  const master = new Xoshiro128(integerInRange('seed', seed, 0, Number.MAX_SAFE_INTEGER));
  const synonymRng = new Xoshiro128(master.nextUint32());
  const shuffleRng = new Xoshiro128(master.nextUint32());
  return shuffleSentences(substituteSynonyms(text, s.synonyms, s.synonymProb, synonymRng), s.shuffleProb, shuffleRng);
}

/** Words after which "right" means "immediately" / "correct" rather than a side ("right next to", "all right"). */
const INTENSIFIED = new Set([
  'now', 'away', 'next', 'behind', 'beside', 'above', 'below', 'under', 'underneath', 'in', 'on', 'at', 'there',
  'here', 'after', 'before', 'by', 'through', 'into', 'up', 'down', 'over', 'outside', 'inside', 'near', 'against',
]);
/** Words before "left"/"right" that make it a side ("the right", "her left", "turn right"). */
const DETERMINERS = new Set([
  'the', 'a', 'his', 'her', 'their', 'my', 'your', 'its', 'our', 'far', 'upper', 'lower', 'top', 'bottom', 'to',
  'turn', 'turns', 'turning', 'turned', 'go', 'goes', 'going', 'keep', 'bear', 'veer', 'facing', 'faces', 'pointing', 'points',
]);

const SIDE = /\b(left|right)(-hand(?:ed)?|most|wards?)?\b/gi;

function neighbourWords(text: string, start: number, end: number): { before: string; after: string } {
  const before = /([A-Za-z]+)[^A-Za-z]*$/.exec(text.slice(0, start))?.[1]?.toLowerCase() ?? '';
  const after = /^[^A-Za-z.!?,;]*([A-Za-z]+)/.exec(text.slice(end))?.[1]?.toLowerCase() ?? '';
  return { before, after };
}

/**
 * Swaps "left" and "right" (also "left-hand", "leftmost", "leftward(s)", any case) for the caption of a
 * horizontally flipped image. Leaves non-spatial uses alone: "all right", "right now", "right next to",
 * "left behind", "left over".
 */
export function swapLeftRight(caption: string): string {
  if (typeof caption !== 'string') throw invalidParameterError('caption', 'string', caption);
  return caption.replace(SIDE, (match: string, side: string, suffix: string | undefined, offset: number) => {
    const { before, after } = neighbourWords(caption, offset, offset + match.length);
    const lower = side.toLowerCase();
    if (suffix === undefined) {
      if (lower === 'right' && before === 'all') return match;
      if (lower === 'right' && INTENSIFIED.has(after) && !DETERMINERS.has(before)) return match;
      if (lower === 'left' && (after === 'behind' || after === 'over') && !DETERMINERS.has(before)) return match;
    }
    const swapped = lower === 'left' ? 'right' : 'left';
    return matchCase(side, swapped) + (suffix ?? '');
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Reverses lists of the given words ("red, blue and green" → "green, blue and red"; also "red, blue, green",
 * "red and blue" and "a red, a blue and an orange") for the caption of a horizontally flipped image, where such
 * lists read left to right — e.g. the colours of a row of objects. Items are whole words from `words` (any
 * case), each with an optional "a"/"an" that moves with it; the separators stay where they were.
 */
export function reverseWordLists(caption: string, words: Iterable<string>): string {
  return wordListReverser(words)(caption);
}

/**
 * {@link reverseWordLists} for a fixed set of words, compiled once (for a loader that mirrors many captions).
 * @param name how error messages name the words (`name[i]` for a bad item)
 * @throws TypeError when an item is not a single word of letters, apostrophes or hyphens
 */
export function wordListReverser(words: Iterable<string>, name = 'words'): (caption: string) => string {
  const alternatives: string[] = [];
  for (const w of words) {
    if (typeof w !== 'string' || !/^[A-Za-z][A-Za-z'-]*$/.test(w)) {
      throw invalidParameterError(`${name}[${alternatives.length}]`, 'a single word (letters, apostrophes, hyphens)', w);
    }
    alternatives.push(escapeRegExp(w));
  }
  const item = `(?:\\b(?:an?\\s+)?(?:${alternatives.join('|')})\\b)`;
  const separator = /,\s*(?:and\s+)?|\s+and\s+/;
  const separators = new RegExp(separator.source, 'g');
  const list = new RegExp(`${item}(?:(?:${separator.source})${item})+`, 'gi');
  return (caption: string) => {
    if (typeof caption !== 'string') throw invalidParameterError('caption', 'string', caption);
    if (alternatives.length === 0) return caption;
    return caption.replace(list, (match: string) => {
      const items = match.split(separator).map((text) => /^(?:(an?)(\s+))?(.*)$/i.exec(text)!);
      const seps = match.match(separators) ?? [];
      const reversed = items.map((m) => m[3]!).reverse();
      // articles move with their words when every item has one; otherwise they stay put and agree with the new word
      const together = items.every((m) => m[1] !== undefined);
      return reversed.map((word, k) => {
        const own = together ? items[items.length - 1 - k]! : items[k]!;
        let article = own[1] === undefined ? '' : own[1] + own[2];
        if (!together && own[1] !== undefined) article = matchCase(own[1], /^[aeiou]/i.test(word) ? 'an' : 'a') + own[2];
        return article + word + (k < seps.length ? seps[k] : '');
      }).join('');
    });
  };
}
