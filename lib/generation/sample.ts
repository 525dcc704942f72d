/**
 * Greedy search and multinomial sampling, as Hugging Face's `_sample` (transformers 4.44): processors on the
 * raw logits (then warpers when sampling), argmax or a draw, finished rows padded with pad, stop when every
 * row has produced EOS or the length limit is reached.
 *
 * Finished rows leave the native cache (a smaller reorder) unless processed scores are requested: then they
 * keep running on pad tokens, exactly like HF, so every row of every step's scores matches HF's.
 */
import { Xoshiro128 } from '../random.js';
import { maxDecoderLength } from './config.js';
import { applyProcessors } from './processors.js';
import { argmax, logSumExp } from './select.js';
import type { DecoderSession, StrategyContext, StrategyOutput } from './types.js';

/** Runs greedy search (config.doSample false) or sampling over every row of `session`. */
export async function greedyOrSample(session: DecoderSession, ctx: StrategyContext): Promise<StrategyOutput> {
  const { config, timer } = ctx;
  const rows = session.rows;
  const vocab = session.vocabSize;
  const maxLength = maxDecoderLength(config);
  const keepAll = config.outputScores;
  const rng = config.doSample ? new Xoshiro128(ctx.seed) : undefined;
  const buffers = Array.from({ length: rows }, () => new Int32Array(maxLength).fill(config.padTokenId));
  for (const b of buffers) b[0] = config.decoderStartTokenId;
  const lengths = new Array<number>(rows).fill(0);
  const logprobSums = new Array<number>(rows).fill(0);
  const tokenLogprobs: number[][] = Array.from({ length: rows }, () => []);
  const stepScores: Float32Array[] = [];
  const eos = new Set(config.eosTokenId);
  let active = Array.from({ length: rows }, (_, r) => r);
  let curLen = 1;
  let scores = await timer.time(() => session.step(new Int32Array(rows).fill(config.decoderStartTokenId), { output: 'logits' }));

  for (;;) {
    const sequences = active.map((r) => buffers[r]!.subarray(0, curLen));
    const raw = scores.slice();
    applyProcessors(ctx.processors, sequences, scores, vocab);
    if (rng) applyProcessors(ctx.warpers, sequences, scores, vocab);
    if (keepAll) stepScores.push(scores.slice());
    active.forEach((r, i) => {
      if (lengths[r]! > 0) return;
      const row = scores.subarray(i * vocab, (i + 1) * vocab);
      const token = rng ? sampleFromLogits(row, rng) : argmax(row);
      const rawRow = raw.subarray(i * vocab, (i + 1) * vocab);
      const logprob = rawRow[token]! - logSumExp(rawRow);
      buffers[r]![curLen] = token;
      logprobSums[r]! += logprob;
      tokenLogprobs[r]!.push(logprob);
      ctx.onToken?.({ row: r, step: curLen - 1, token, logprob });
      if (eos.has(token)) lengths[r] = curLen + 1;
    });
    curLen += 1;
    const unfinished = active.filter((r) => lengths[r] === 0);
    if (unfinished.length === 0 || curLen >= maxLength) break;
    const next = keepAll ? active : unfinished;
    const reorder = next.length === active.length ? undefined : Int32Array.from(next, (r) => active.indexOf(r));
    const tokens = Int32Array.from(next, (r) => buffers[r]![curLen - 1]!);
    active = next;
    scores = await timer.time(() => session.step(tokens, reorder ? { reorder, output: 'logits' } : { output: 'logits' }));
  }

  for (let r = 0; r < rows; r++) if (lengths[r] === 0) lengths[r] = curLen;
  const out: StrategyOutput = {
    sequences: buffers.map((b) => b.slice(0, curLen)),
    lengths,
    sequencesScores: lengths.map((n, r) => logprobSums[r]! / (n - 1)),
  };
  if (config.outputTokenLogprobs) out.tokenLogprobs = tokenLogprobs;
  if (keepAll) out.scores = stepScores;
  return out;
}

/**
 * Draws an index from the distribution softmax(row) (entries of -inf have probability 0), in float64.
 * Equivalent to torch.multinomial(softmax(row), 1) in distribution, not in stream.
 */
export function sampleFromLogits(row: Float32Array, rng: Xoshiro128): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  if (max === -Infinity) throw new Error('Cannot sample: every token has probability 0 (all scores are -inf)');
  let total = 0;
  for (let i = 0; i < row.length; i++) if (row[i] !== -Infinity) total += Math.exp(row[i]! - max);
  const target = rng.nextDouble() * total;
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] === -Infinity) continue;
    cumulative += Math.exp(row[i]! - max);
    last = i;
    if (cumulative > target) return i;
  }
  return last;
}
