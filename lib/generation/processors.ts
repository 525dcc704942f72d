/**
 * Logits processors and warpers, one small class each, with Hugging Face's semantics (transformers 4.44
 * logits_process.py). Each works in place on a row-major score matrix `[rows, vocab]` (Float32Array, so every
 * result is rounded to fp32 like torch's), given each row's decoder tokens so far (start token first).
 *
 * Processors shape the distribution for every strategy; warpers (temperature, top-k, top-p) only for sampling.
 * {@link buildLogitsProcessors} and {@link buildLogitsWarpers} make the lists in HF's order.
 */
import type { GenerationConfig } from './config.js';
import { kthLargest } from './select.js';

/** One processing step: modifies `scores` ([sequences.length, vocab]) in place. */
export interface LogitsProcessor {
  /**
   * @param sequences each row's decoder tokens so far (start token first); all rows have the same length
   * @param scores row-major [rows, vocab] scores, changed in place
   * @param vocab the row width
   */
  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void;
}

/** Applies a list of processors in order. */
export function applyProcessors(list: readonly LogitsProcessor[], sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
  for (const p of list) p.process(sequences, scores, vocab);
}

/**
 * HF MinLengthLogitsProcessor: EOS is -inf while the decoder sequence (start token included) is shorter than minLength.
 */
export class MinLengthProcessor implements LogitsProcessor {
  constructor(readonly minLength: number, readonly eosTokenIds: readonly number[]) {}

  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
    if (sequences.length === 0 || sequences[0]!.length >= this.minLength) return;
    banForAllRows(scores, sequences.length, vocab, this.eosTokenIds);
  }
}

/** HF MinNewTokensLengthLogitsProcessor: EOS is -inf while fewer than minNewTokens tokens follow the start token(s). */
export class MinNewTokensProcessor implements LogitsProcessor {
  constructor(readonly minNewTokens: number, readonly eosTokenIds: readonly number[], readonly promptLength = 1) {}

  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
    if (sequences.length === 0 || sequences[0]!.length - this.promptLength >= this.minNewTokens) return;
    banForAllRows(scores, sequences.length, vocab, this.eosTokenIds);
  }
}

/**
 * HF RepetitionPenaltyLogitsProcessor (CTRL): for every distinct id already in the row (start token included),
 * `s < 0 ? s * penalty : s / penalty`.
 */
export class RepetitionPenaltyProcessor implements LogitsProcessor {
  private readonly penalty: number;

  constructor(penalty: number) {
    this.penalty = Math.fround(penalty);
  }

  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
    const seen = new Set<number>();
    sequences.forEach((seq, r) => {
      seen.clear();
      const base = r * vocab;
      for (const id of seq) {
        if (seen.has(id) || id < 0 || id >= vocab) continue;
        seen.add(id);
        const s = scores[base + id]!;
        scores[base + id] = s < 0 ? s * this.penalty : s / this.penalty;
      }
    });
  }
}

/** The tokens that would repeat an n-gram of `seq` if appended (HF `_calc_banned_ngram_tokens`). */
export function bannedNgramTokens(seq: Int32Array, n: number): number[] {
  const len = seq.length;
  if (len + 1 < n) return [];
  if (n === 1) return Array.from(new Set(seq));
  const banned: number[] = [];
  const prefixStart = len - n + 1;
  for (let i = 0; i + n <= len; i++) {
    let match = true;
    for (let j = 0; j < n - 1; j++) {
      if (seq[i + j] !== seq[prefixStart + j]) {
        match = false;
        break;
      }
    }
    if (match) banned.push(seq[i + n - 1]!);
  }
  return banned;
}

/** HF NoRepeatNGramLogitsProcessor: no n-gram occurs twice in a row's decoder sequence (start token included). */
export class NoRepeatNGramProcessor implements LogitsProcessor {
  constructor(readonly ngramSize: number) {}

  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
    sequences.forEach((seq, r) => {
      for (const id of bannedNgramTokens(seq, this.ngramSize)) {
        if (id >= 0 && id < vocab) scores[r * vocab + id] = -Infinity;
      }
    });
  }
}

/**
 * HF NoBadWordsLogitsProcessor: single-token bad words are always -inf; for longer ones the last token is -inf
 * when the row ends with the rest. Sequences equal to an EOS id alone are dropped, as in HF.
 */
export class NoBadWordsProcessor implements LogitsProcessor {
  private readonly single: number[];
  private readonly multi: number[][];

  constructor(badWordsIds: readonly (readonly number[])[], eosTokenIds: readonly number[]) {
    const kept = badWordsIds.filter((seq) => !(seq.length === 1 && eosTokenIds.includes(seq[0]!)));
    this.single = kept.filter((s) => s.length === 1).map((s) => s[0]!);
    this.multi = kept.filter((s) => s.length > 1).map((s) => [...s]);
  }

  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
    sequences.forEach((seq, r) => {
      const base = r * vocab;
      for (const id of this.single) if (id < vocab) scores[base + id] = -Infinity;
      for (const words of this.multi) {
        const prefix = words.length - 1;
        // HF ignores a word longer than the sequence so far (start token included)
        if (seq.length < words.length) continue;
        let match = true;
        for (let j = 0; j < prefix; j++) {
          if (seq[seq.length - prefix + j] !== words[j]) {
            match = false;
            break;
          }
        }
        const last = words[prefix]!;
        if (match && last < vocab) scores[base + last] = -Infinity;
      }
    });
  }
}

/** HF SuppressTokensLogitsProcessor: the listed ids are always -inf. */
export class SuppressTokensProcessor implements LogitsProcessor {
  constructor(readonly tokenIds: readonly number[]) {}

  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
    banForAllRows(scores, sequences.length, vocab, this.tokenIds);
  }
}

/** HF TemperatureLogitsWarper: scores / temperature. */
export class TemperatureWarper implements LogitsProcessor {
  private readonly temperature: number;

  constructor(temperature: number) {
    this.temperature = Math.fround(temperature);
  }

  process(_sequences: readonly Int32Array[], scores: Float32Array): void {
    for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / this.temperature;
  }
}

/** HF TopKLogitsWarper: scores below the k-th largest of their row become -inf (ties with it are kept). */
export class TopKWarper implements LogitsProcessor {
  constructor(readonly topK: number, readonly minTokensToKeep = 1) {}

  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
    const k = Math.min(Math.max(this.topK, this.minTokensToKeep), vocab);
    for (let r = 0; r < sequences.length; r++) {
      const row = scores.subarray(r * vocab, (r + 1) * vocab);
      const threshold = kthLargest(row, k);
      for (let v = 0; v < vocab; v++) if (row[v]! < threshold) row[v] = -Infinity;
    }
  }
}

/**
 * HF TopPLogitsWarper: sort ascending, softmax, cumulative sum; tokens whose cumulative probability is
 * ≤ 1 - topP become -inf, except the `minTokensToKeep` most likely.
 */
export class TopPWarper implements LogitsProcessor {
  constructor(readonly topP: number, readonly minTokensToKeep = 1) {}

  process(sequences: readonly Int32Array[], scores: Float32Array, vocab: number): void {
    const limit = Math.fround(1 - this.topP);
    for (let r = 0; r < sequences.length; r++) {
      const row = scores.subarray(r * vocab, (r + 1) * vocab);
      // -inf entries have probability 0 and stay removed, so only finite ones are sorted.
      const ids: number[] = [];
      let max = -Infinity;
      for (let v = 0; v < vocab; v++) {
        if (row[v] !== -Infinity) {
          ids.push(v);
          if (row[v]! > max) max = row[v]!;
        }
      }
      ids.sort((a, b) => row[a]! - row[b]! || b - a);
      let total = 0;
      for (const v of ids) total += Math.exp(row[v]! - max);
      let cumulative = 0;
      const keepFrom = ids.length - this.minTokensToKeep;
      for (let i = 0; i < ids.length; i++) {
        cumulative += Math.exp(row[ids[i]!]! - max) / total;
        if (i < keepFrom && Math.fround(cumulative) <= limit) row[ids[i]!] = -Infinity;
      }
    }
  }
}

function banForAllRows(scores: Float32Array, rows: number, vocab: number, ids: readonly number[]): void {
  for (let r = 0; r < rows; r++) {
    const base = r * vocab;
    for (const id of ids) if (id >= 0 && id < vocab) scores[base + id] = -Infinity;
  }
}

/** What the processor list needs besides the config. */
export interface ProcessorContext {
  /** Ids ≥ this cannot be decoded by the tokenizer; suppressed when config.suppressUndecodable. */
  decodableVocabSize?: number;
  /** The model's vocabulary (score row width). */
  vocabSize: number;
  /**
   * Tokens before the first generated one in the sequences the processors see: 1 (T5's start token, the default) or 0.
   */
  promptLength?: number;
}

/**
 * The logits processors a config asks for, in HF's order (`_get_logits_processor`), then undecodable-id suppression.
 */
export function buildLogitsProcessors(config: GenerationConfig, context: ProcessorContext): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (config.repetitionPenalty !== 1) list.push(new RepetitionPenaltyProcessor(config.repetitionPenalty));
  if (config.noRepeatNgramSize > 0) list.push(new NoRepeatNGramProcessor(config.noRepeatNgramSize));
  if (config.badWordsIds !== undefined) list.push(new NoBadWordsProcessor(config.badWordsIds, config.eosTokenId));
  if (config.minLength > 0) list.push(new MinLengthProcessor(config.minLength, config.eosTokenId));
  if (config.minNewTokens > 0) list.push(new MinNewTokensProcessor(config.minNewTokens, config.eosTokenId, context.promptLength ?? 1));
  if (config.suppressTokens !== undefined && config.suppressTokens.length > 0) {
    list.push(new SuppressTokensProcessor(config.suppressTokens));
  }
  const decodable = context.decodableVocabSize;
  if (config.suppressUndecodable && decodable !== undefined && decodable < context.vocabSize) {
    list.push(new SuppressTokensProcessor(Array.from({ length: context.vocabSize - decodable }, (_, i) => decodable + i)));
  }
  return list;
}

/** The sampling warpers a config asks for, in HF's order (`_get_logits_warper`): temperature, top-k, top-p. */
export function buildLogitsWarpers(config: GenerationConfig): LogitsProcessor[] {
  const minTokensToKeep = config.numBeams > 1 ? config.eosTokenId.length + 1 : 1;
  const list: LogitsProcessor[] = [];
  if (config.temperature !== 1) list.push(new TemperatureWarper(config.temperature));
  if (config.topK !== 0) list.push(new TopKWarper(config.topK, minTokensToKeep));
  if (config.topP < 1) list.push(new TopPWarper(config.topP, minTokensToKeep));
  return list;
}
