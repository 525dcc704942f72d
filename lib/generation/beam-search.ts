/**
 * Beam search as Hugging Face's `_beam_search` with `BeamSearchScorer` / `BeamHypotheses` (transformers 4.44):
 *
 * - each step: log_softmax (native, fp32) → processors → + running beam score (fp32), then the top
 *   2·numBeams candidates over beams×vocab (partial selection, not a sort);
 * - a candidate ending in EOS joins the hypotheses only if its rank is < numBeams; the others become the next
 *   beams until numBeams are chosen;
 * - hypothesis score = sum_logprobs / generated_len ** lengthPenalty, generated_len counting EOS and not the
 *   start token (4.36+);
 * - earlyStopping true / false / 'never' decide when an input is done; at the length limit the open beams join
 *   the hypotheses; the numReturnSequences best are returned per input, best first, EOS appended and
 *   right-padded with pad.
 *
 * With doSample (HF's beam sampling) the warpers run on the processed log-probs of each beam, the beam score is
 * added, and 2·numBeams candidates are drawn without replacement from the softmax over beams×vocab, then sorted.
 *
 * Inputs that are done leave the native cache (unless processed scores are requested, where they keep running
 * on pad tokens from row 0 as in HF).
 */
import { maxDecoderLength, type EarlyStopping, type GenerationConfig } from './config.js';
import { applyProcessors } from './processors.js';
import { Xoshiro128 } from '../random.js';
import { TopCandidates } from './select.js';
import type { DecoderSession, StrategyContext, StrategyOutput } from './types.js';

/** A finished (or length-limited) hypothesis. */
export interface Hypothesis {
  /** sum_logprobs / generated_len ** lengthPenalty. */
  score: number;
  /** Decoder tokens, start token first, EOS not included. */
  tokens: Int32Array;
  /** Global beam row (input × numBeams + beam) that produced each generated token. */
  beamIndices: Int32Array;
  /** log p(token) under the model per generated token (EOS included), when tracked. */
  logprobs: Float32Array | undefined;
}

/** HF BeamHypotheses: the numBeams best finished hypotheses of one input. */
export class BeamHypotheses {
  readonly beams: Hypothesis[] = [];
  worstScore = 1e9;

  constructor(
    readonly numBeams: number,
    readonly lengthPenalty: number,
    readonly earlyStopping: EarlyStopping,
    readonly maxLength: number,
  ) {}

  /** Adds a hypothesis with `generatedLen` generated tokens if it is among the numBeams best. */
  add(hyp: Omit<Hypothesis, 'score'>, sumLogprobs: number, generatedLen: number): void {
    const score = sumLogprobs / generatedLen ** this.lengthPenalty;
    if (this.beams.length < this.numBeams || score > this.worstScore) {
      this.beams.push({ score, ...hyp });
      if (this.beams.length > this.numBeams) {
        const order = this.beams.map((b, i) => ({ s: b.score, i })).sort((a, b) => a.s - b.s || a.i - b.i);
        this.beams.splice(order[0]!.i, 1);
        this.worstScore = order[1]!.s;
      } else {
        this.worstScore = Math.min(score, this.worstScore);
      }
    }
  }

  /**
   * Whether no open beam can beat the kept hypotheses. `bestSumLogprobs` is the best candidate score of this
   * step and `generatedLen` the generated tokens after it (HF's cur_len - decoder_prompt_len).
   */
  isDone(bestSumLogprobs: number, generatedLen: number): boolean {
    if (this.beams.length < this.numBeams) return false;
    if (this.earlyStopping === true) return true;
    const len = this.earlyStopping === 'never' && this.lengthPenalty > 0 ? this.maxLength - 1 : generatedLen;
    return this.worstScore >= bestSumLogprobs / len ** this.lengthPenalty;
  }
}

/** The open beams of one input. */
interface InputBeams {
  hyps: BeamHypotheses;
  done: boolean;
  tokens: Int32Array[];
  scores: Float32Array;
  beamIndices: Int32Array[];
  logprobs: Float32Array[] | undefined;
  /** For each beam, the beam of the previous step it continues; -1: session row 0 (HF's padding of done inputs). */
  source: Int32Array;
}

function appended<T extends Int32Array | Float32Array>(array: T, value: number): T {
  const out = new (array.constructor as { new (n: number): T })(array.length + 1);
  out.set(array);
  out[array.length] = value;
  return out;
}

/** Runs beam search; `session` has batch × numBeams rows. */
export async function beamSearch(session: DecoderSession, ctx: StrategyContext): Promise<StrategyOutput> {
  const { config, timer } = ctx;
  const K = config.numBeams;
  const vocab = session.vocabSize;
  if (session.rows % K !== 0) throw new Error(`Decoder session has ${session.rows} rows, not a multiple of numBeams ${K}`);
  const batch = session.rows / K;
  const maxLength = maxDecoderLength(config);
  const keepAll = config.outputScores;
  const trackLogprobs = config.outputTokenLogprobs;
  const eos = new Set(config.eosTokenId);
  const inputs: InputBeams[] = Array.from({ length: batch }, () => ({
    hyps: new BeamHypotheses(K, config.lengthPenalty, config.earlyStopping, maxLength),
    done: false,
    tokens: Array.from({ length: K }, () => Int32Array.of(config.decoderStartTokenId)),
    scores: Float32Array.from({ length: K }, (_, j) => (j === 0 ? 0 : -1e9)),
    beamIndices: Array.from({ length: K }, () => new Int32Array(0)),
    logprobs: trackLogprobs ? Array.from({ length: K }, () => new Float32Array(0)) : undefined,
    source: new Int32Array(K),
  }));
  const stepScores: Float32Array[] = [];
  const candidates = new TopCandidates(2 * K);
  const rng = config.doSample ? new Xoshiro128(ctx.seed) : undefined;
  let active = Array.from({ length: batch }, (_, b) => b);
  let curLen = 1;
  let logprobs = await timer.time(() =>
    session.step(new Int32Array(session.rows).fill(config.decoderStartTokenId), { output: 'logprobs' }));

  for (;;) {
    const sequences = active.flatMap((b) => inputs[b]!.tokens);
    const raw = trackLogprobs ? logprobs.slice() : undefined;
    applyProcessors(ctx.processors, sequences, logprobs, vocab);
    if (rng) applyProcessors(ctx.warpers, sequences, logprobs, vocab);
    if (keepAll) stepScores.push(logprobs.slice());
    const row0 = inputs[active[0]!]!.tokens[0]!;
    active.forEach((b, position) => {
      const input = inputs[b]!;
      if (input.done) {
        padDoneInput(input, row0, config.padTokenId);
        return;
      }
      const ranked = rng
        ? sampleCandidates(rng, candidates, logprobs, position * K, K, vocab, input.scores)
        : selectCandidates(candidates, logprobs, position * K, K, vocab, input.scores);
      advanceInput(input, b, ranked, { K, vocab, eos, curLen, raw, rawBase: position * K * vocab });
    });
    curLen += 1;
    if (inputs.every((x) => x.done) || curLen >= maxLength) break;
    const next = keepAll ? active : active.filter((b) => !inputs[b]!.done);
    const reorder = new Int32Array(next.length * K);
    const tokens = new Int32Array(next.length * K);
    next.forEach((b, i) => {
      const input = inputs[b]!;
      const position = active.indexOf(b);
      for (let j = 0; j < K; j++) {
        const source = input.source[j]!;
        reorder[i * K + j] = source < 0 ? 0 : position * K + source;
        tokens[i * K + j] = input.tokens[j]![curLen - 1]!;
      }
    });
    active = next;
    logprobs = await timer.time(() => session.step(tokens, { reorder, output: 'logprobs' }));
  }
  return finalize(inputs, curLen, maxLength, config, keepAll ? stepScores : undefined);
}

type Ranked = { value: number; index: number }[];

/** The best 2K (fp32 beam score + processed log-prob) over the input's K beams, best first. */
function selectCandidates(
  candidates: TopCandidates, scores: Float32Array, firstRow: number, K: number, vocab: number, beamScores: Float32Array,
): Ranked {
  candidates.clear();
  for (let j = 0; j < K; j++) {
    const beamScore = beamScores[j]!;
    const offset = (firstRow + j) * vocab;
    for (let v = 0; v < vocab; v++) {
      const value = Math.fround(scores[offset + v]! + beamScore);
      if (candidates.accepts(value)) candidates.push(value, j * vocab + v);
    }
  }
  return candidates.sorted();
}

/**
 * Beam sampling: 2K candidates drawn without replacement from softmax(beam score + warped log-prob) over the
 * input's K beams × vocab (the distribution of torch.multinomial(probs, 2K)), sorted best first. Draws use the
 * Gumbel-top-k trick (top 2K of value + Gumbel noise), which stays exact when probabilities underflow.
 */
function sampleCandidates(
  rng: Xoshiro128, candidates: TopCandidates, scores: Float32Array, firstRow: number, K: number, vocab: number,
  beamScores: Float32Array,
): Ranked {
  candidates.clear();
  for (let j = 0; j < K; j++) {
    const offset = (firstRow + j) * vocab;
    for (let v = 0; v < vocab; v++) {
      const value = Math.fround(scores[offset + v]! + beamScores[j]!);
      if (value === -Infinity) continue;
      const key = value - Math.log(-Math.log(rng.nextDouble() || 2 ** -53));
      if (candidates.accepts(key)) candidates.push(key, j * vocab + v);
    }
  }
  return candidates.sorted()
    .map(({ index }) => {
      const j = Math.floor(index / vocab);
      return { value: Math.fround(scores[(firstRow + j) * vocab + index - j * vocab]! + beamScores[j]!), index };
    })
    .sort((a, b) => b.value - a.value || a.index - b.index);
}

interface StepShape {
  K: number;
  vocab: number;
  eos: Set<number>;
  curLen: number;
  raw: Float32Array | undefined;
  rawBase: number;
}

/** HF BeamSearchScorer.process for one input: EOS candidates → hypotheses, the rest → the next K beams. */
function advanceInput(input: InputBeams, b: number, ranked: { value: number; index: number }[], s: StepShape): void {
  const tokens: Int32Array[] = [];
  const scores = new Float32Array(s.K);
  const beamIndices: Int32Array[] = [];
  const logprobs: Float32Array[] = [];
  for (let rank = 0; rank < ranked.length && tokens.length < s.K; rank++) {
    const { value, index } = ranked[rank]!;
    const beam = Math.floor(index / s.vocab);
    const token = index - beam * s.vocab;
    const globalBeam = b * s.K + beam;
    const logprob = s.raw ? s.raw[s.rawBase + index]! : 0;
    const history = input.logprobs ? appended(input.logprobs[beam]!, logprob) : undefined;
    if (s.eos.has(token)) {
      if (rank >= s.K) continue;
      input.hyps.add({ tokens: input.tokens[beam]!, beamIndices: appended(input.beamIndices[beam]!, globalBeam), logprobs: history }, value, s.curLen);
    } else {
      scores[tokens.length] = value;
      input.source[tokens.length] = beam;
      tokens.push(appended(input.tokens[beam]!, token));
      beamIndices.push(appended(input.beamIndices[beam]!, globalBeam));
      if (history) logprobs.push(history);
    }
  }
  if (tokens.length < s.K) {
    throw new Error(`Beam search found only ${tokens.length} non-EOS candidates for ${s.K} beams; use fewer beams or a larger vocabulary`);
  }
  input.tokens = tokens;
  input.scores = scores;
  input.beamIndices = beamIndices;
  if (input.logprobs) input.logprobs = logprobs;
  input.done = input.hyps.isDone(ranked[0]!.value, s.curLen);
}

/** HF's padding of a done input: every beam continues row 0 with pad and score 0. */
function padDoneInput(input: InputBeams, row0: Int32Array, pad: number): void {
  input.tokens = input.tokens.map(() => appended(row0, pad));
  input.scores.fill(0);
  input.source.fill(-1);
}

/** HF BeamSearchScorer.finalize: open beams join the hypotheses, the best numReturnSequences per input. */
function finalize(
  inputs: InputBeams[], curLen: number, maxLength: number, config: GenerationConfig, scores: Float32Array[] | undefined,
): StrategyOutput {
  const best: Hypothesis[] = [];
  for (const input of inputs) {
    if (!input.done) {
      input.tokens.forEach((tokens, j) => {
        input.hyps.add({ tokens, beamIndices: input.beamIndices[j]!, logprobs: input.logprobs?.[j] }, input.scores[j]!, curLen - 1);
      });
    }
    const sorted = input.hyps.beams.map((h, i) => ({ h, i })).sort((a, b) => a.h.score - b.h.score || a.i - b.i);
    for (let n = 0; n < config.numReturnSequences; n++) best.push(sorted.pop()!.h);
  }
  const width = Math.min(Math.max(...best.map((h) => h.tokens.length)) + 1, maxLength);
  const out: StrategyOutput = {
    sequences: [],
    lengths: [],
    sequencesScores: best.map((h) => Math.fround(h.score)),
    beamIndices: [],
  };
  for (const h of best) {
    const row = new Int32Array(width).fill(config.padTokenId);
    row.set(h.tokens);
    const eosAppended = h.tokens.length < width;
    if (eosAppended) row[h.tokens.length] = config.eosTokenId[0]!;
    out.sequences.push(row);
    out.lengths.push(h.tokens.length + (eosAppended ? 1 : 0));
    const indices = new Int32Array(width).fill(-1);
    indices.set(h.beamIndices);
    out.beamIndices!.push(indices);
  }
  if (config.outputTokenLogprobs) out.tokenLogprobs = best.map((h) => Array.from(h.logprobs ?? []));
  if (scores) out.scores = scores;
  return out;
}
