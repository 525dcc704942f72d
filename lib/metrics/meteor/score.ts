/**
 * METEOR of NLTK 3.8 (nltk/translate/meteor_score.py) on tokens: lower-casing, then alignment by
 * exact match, Porter stem match and WordNet synonym match, each stage scanning the hypothesis and
 * the reference from the last word backwards; chunks counted over the matches sorted by hypothesis
 * position; Fmean = P·R / (α·P + (1−α)·R), penalty = γ·(chunks/matches)^β.
 */
import { invalidParameterError, isNumber, knownKeys } from '../../is.js';
import { porterStem } from './porter.js';
import { wordnetSynonyms } from './wordnet.js';

/** METEOR's parameters (NLTK's defaults, which Hugging Face `evaluate` also uses). */
export interface MeteorOptions {
  /** Relative weight of precision and recall, in [0, 1]. Default 0.9. */
  alpha?: number;
  /** Shape of the fragmentation penalty, ≥ 0. Default 3. */
  beta?: number;
  /** Weight of the fragmentation penalty, in [0, 1]. Default 0.5. */
  gamma?: number;
}

interface ResolvedOptions {
  alpha: number;
  beta: number;
  gamma: number;
}

/** A word with its position in the sentence (NLTK's `(index, word)` enumeration). */
interface Enumerated {
  index: number;
  word: string;
}

type Match = readonly [hypothesisIndex: number, referenceIndex: number];

const stemCache = new Map<string, string>();

function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = porterStem(word);
    stemCache.set(word, s);
  }
  return s;
}

/** Validates METEOR options; unknown keys and out-of-range values are errors. */
export function resolveMeteorOptions(options: MeteorOptions | undefined): ResolvedOptions {
  const o = knownKeys('options', options, ['alpha', 'beta', 'gamma']);
  const get = (name: keyof MeteorOptions, fallback: number, max: number): number => {
    const value = o[name];
    if (value === undefined) return fallback;
    if (!isNumber(value) || value < 0 || value > max) {
      throw invalidParameterError(name, max === Infinity ? 'number >= 0' : `number between 0 and ${max}`, value);
    }
    return value;
  };
  return { alpha: get('alpha', 0.9, 1), beta: get('beta', 3, Infinity), gamma: get('gamma', 0.5, 1) };
}

/** NLTK's `_match_enums`: pairs equal words, scanning both lists from the end; removes them. */
function matchEqual(hypothesis: Enumerated[], reference: Enumerated[], matches: Match[]): void {
  for (let i = hypothesis.length - 1; i >= 0; i--) {
    const word = hypothesis[i]!.word;
    for (let j = reference.length - 1; j >= 0; j--) {
      if (reference[j]!.word === word) {
        matches.push([hypothesis[i]!.index, reference[j]!.index]);
        hypothesis.splice(i, 1);
        reference.splice(j, 1);
        break;
      }
    }
  }
}

/** NLTK's `_enum_wordnetsyn_match`: a reference word matches if it is a synonym of the hypothesis word. */
function matchSynonyms(hypothesis: Enumerated[], reference: Enumerated[], matches: Match[]): void {
  for (let i = hypothesis.length - 1; i >= 0; i--) {
    const word = hypothesis[i]!.word;
    const synonyms = wordnetSynonyms(word);
    for (let j = reference.length - 1; j >= 0; j--) {
      const candidate = reference[j]!.word;
      if (candidate === word || synonyms.has(candidate)) {
        matches.push([hypothesis[i]!.index, reference[j]!.index]);
        hypothesis.splice(i, 1);
        reference.splice(j, 1);
        break;
      }
    }
  }
}

const enumerate = (words: readonly string[]): Enumerated[] => words.map((word, index) => ({ index, word }));

/**
 * NLTK's `_enum_align_words` on lower-cased words: exact, then stem, then synonym matches (the
 * synonym stage sees the stems left over by the stem stage, as in NLTK), sorted by hypothesis index.
 */
function alignWords(hypothesis: readonly string[], reference: readonly string[]): Match[] {
  const matches: Match[] = [];
  let hyp = enumerate(hypothesis);
  let ref = enumerate(reference);
  matchEqual(hyp, ref, matches);
  hyp = hyp.map(({ index, word }) => ({ index, word: stem(word) }));
  ref = ref.map(({ index, word }) => ({ index, word: stem(word) }));
  matchEqual(hyp, ref, matches);
  matchSynonyms(hyp, ref, matches);
  return matches.sort((a, b) => a[0] - b[0]);
}

/** NLTK's `_count_chunks`: runs of matches adjacent in both hypothesis and reference. */
function countChunks(matches: readonly Match[]): number {
  let chunks = 1;
  for (let i = 0; i + 1 < matches.length; i++) {
    if (!(matches[i + 1]![0] === matches[i]![0] + 1 && matches[i + 1]![1] === matches[i]![1] + 1)) chunks++;
  }
  return chunks;
}

function scoreLowered(reference: readonly string[], hypothesis: readonly string[], o: ResolvedOptions): number {
  const matches = alignWords(hypothesis, reference);
  const matchCount = matches.length;
  if (matchCount === 0) return 0;
  const precision = matchCount / hypothesis.length;
  const recall = matchCount / reference.length;
  const fmean = (precision * recall) / (o.alpha * precision + (1 - o.alpha) * recall);
  const fragFrac = countChunks(matches) / matchCount;
  const penalty = o.gamma * fragFrac ** o.beta;
  return (1 - penalty) * fmean;
}

const lower = (tokens: readonly string[]): string[] => tokens.map((t) => t.toLowerCase());

function checkTokens(name: string, tokens: unknown): asserts tokens is string[] {
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) {
    throw invalidParameterError(name, 'array of string tokens', tokens);
  }
}

/**
 * NLTK 3.8's `single_meteor_score(reference, hypothesis)` on pre-tokenized input.
 * @param reference Reference tokens.
 * @param hypothesis Hypothesis (candidate) tokens.
 * @param options alpha, beta, gamma (defaults 0.9, 3, 0.5).
 * @returns The sentence METEOR in [0, 1]; 0 when nothing matches or either side is empty.
 */
export function singleMeteorScore(reference: readonly string[], hypothesis: readonly string[], options?: MeteorOptions): number {
  checkTokens('reference', reference);
  checkTokens('hypothesis', hypothesis);
  return scoreLowered(lower(reference), lower(hypothesis), resolveMeteorOptions(options));
}

/**
 * NLTK 3.8's `meteor_score(references, hypothesis)`: the best single-reference score.
 * @param references Token lists of the references (at least one).
 * @param hypothesis Hypothesis tokens.
 * @param options alpha, beta, gamma (defaults 0.9, 3, 0.5).
 * @returns The maximum over references of `singleMeteorScore`.
 */
export function meteorScore(references: readonly (readonly string[])[], hypothesis: readonly string[], options?: MeteorOptions): number {
  if (!Array.isArray(references) || references.length === 0) {
    throw invalidParameterError('references', 'non-empty array of token arrays', references);
  }
  references.forEach((reference, i) => checkTokens(`references[${i}]`, reference));
  checkTokens('hypothesis', hypothesis);
  const o = resolveMeteorOptions(options);
  const hyp = lower(hypothesis);
  let best = -Infinity;
  for (const reference of references) best = Math.max(best, scoreLowered(lower(reference), hyp, o));
  return best;
}
