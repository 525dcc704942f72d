/**
 * `generate`: Hugging Face's `generate()` for BLIP-2 (T5 or a decoder-only OPT) over a KV-cached native decoder
 * session. The strategy follows the config: greedy search (numBeams 1), multinomial sampling (doSample) or beam
 * search (numBeams > 1).
 */
import { abortSignal, throwIfAborted } from '../abort.js';
import { integerInRange, invalidParameterError, knownKeys } from '../is.js';
import { resolveGenerationConfig, type GenerationConfig, type GenerationOptions } from './config.js';
import { beamSearch } from './beam-search.js';
import { buildLogitsProcessors, buildLogitsWarpers } from './processors.js';
import { randomSeed } from '../random.js';
import { greedyOrSample } from './sample.js';
import type { LogitsProcessor } from './processors.js';
import {
  StepTimer,
  type DecoderSession,
  type DecodingInputs,
  type DecodingModel,
  type StepOptions,
  type StrategyOutput,
  type TokenEvent,
} from './types.js';

/** Options of {@link generate} that are not generation settings. */
export interface GenerateHooks {
  /** Called for every generated token of every row (greedy search and sampling only). */
  onToken?: (event: TokenEvent) => void;
  /**
   * Ids ≥ this cannot be decoded (the tokenizer's size); they are suppressed unless config.suppressUndecodable is
   * false.
   */
  decodableVocabSize?: number;
  /**
   * Defaults under the call's options, e.g. the model directory's generation_config.json
   * ({@link readGenerationOptions}).
   */
  defaults?: GenerationOptions;
  /** Cancels the call between decoder steps: it rejects with an AbortError and the decoder session is freed. */
  signal?: AbortSignal;
}

/** Scores that are NaN or +Inf (or a row that is -Inf everywhere): broken weights or inputs, not a caption. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

/**
 * Which value of a step's scores is not usable, or undefined when every row is. log_softmax turns a NaN, a +Inf or
 * a row of -Inf anywhere in a row into NaN everywhere in it, so for log-probs a finite first value clears the row.
 */
function nonFinite(scores: Float32Array, vocab: number, logprobs: boolean): string | undefined {
  for (let row = 0; row * vocab < scores.length; row++) {
    if (logprobs && Number.isFinite(scores[row * vocab]!)) continue;
    let usable = false;
    for (let v = row * vocab; v < (row + 1) * vocab; v++) {
      const x = scores[v]!;
      if (Number.isNaN(x) || x === Infinity) return `${x} in row ${row} at token ${v - row * vocab}`;
      if (x !== -Infinity) usable = true;
    }
    if (!usable) return `-Infinity for every token of row ${row}`;
  }
  return undefined;
}

/** A session that stops between steps when the signal is aborted or a step's scores are not finite. */
class GuardedSession implements DecoderSession {
  constructor(private readonly inner: DecoderSession, private readonly signal: AbortSignal | undefined) {}

  get rows(): number {
    return this.inner.rows;
  }

  get vocabSize(): number {
    return this.inner.vocabSize;
  }

  get steps(): number {
    return this.inner.steps;
  }

  async step(tokens: Int32Array, options?: StepOptions): Promise<Float32Array> {
    throwIfAborted(this.signal);
    const scores = await this.inner.step(tokens, options);
    throwIfAborted(this.signal);
    const bad = nonFinite(scores, this.inner.vocabSize, options?.output === 'logprobs');
    if (bad !== undefined) {
      throw new NonFiniteError(
        `Non-finite logits at decoder step ${this.inner.steps} (${bad}); the model's weights or inputs hold NaN or Inf values`);
    }
    return scores;
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** Wall-time split of one generate call. */
export interface GenerateTimings {
  /** Decoder steps run (the first one feeds the start token and includes the encoder pass). */
  steps: number;
  /** Whole call, milliseconds. */
  totalMs: number;
  /** Awaiting the native side (encoder + decoder steps), milliseconds. */
  nativeMs: number;
  /** Everything else (processors, selection, bookkeeping), milliseconds. */
  jsMs: number;
}

/** The result of {@link generate}; rows are grouped per input (`numReturnSequences` each, best first for beams). */
export interface GenerateOutput extends StrategyOutput {
  /** The resolved configuration that was used. */
  config: GenerationConfig;
  /** The sampling seed (given or drawn), when sampling. */
  seed?: number;
  /** Where the time went. */
  timings: GenerateTimings;
}

/**
 * A decoder-only model's lengths as Hugging Face's BLIP-2 sets them (transformers 4.44): it calls the language model
 * with max_length + Q - 1 and min_length + Q over Q query and L prompt embeddings, and generate() subtracts Q + L,
 * so without maxNewTokens the returned sequence (BOS included) is maxLength - L long, and without minNewTokens EOS
 * is allowed once max(minLength - L, 0) tokens are generated (minNewTokens overrides minLength, as in HF).
 */
function decoderOnlyLengths(config: GenerationConfig, promptLength: number): GenerationConfig {
  return {
    ...config,
    maxNewTokens: config.maxNewTokens ?? Math.max(1, config.maxLength - 1 - promptLength),
    minLength: config.minNewTokens > 0 ? 0 : Math.max(config.minLength - promptLength, 0),
  };
}

/** A processor that sees each sequence without its first token (the BOS a decoder-only model never fed). */
function withoutStartToken(processor: LogitsProcessor): LogitsProcessor {
  return {
    process(sequences, scores, vocab) {
      processor.process(sequences.map((s) => s.subarray(1)), scores, vocab);
    },
  };
}

function checkIds(config: GenerationConfig, vocab: number): void {
  const check = (name: string, id: number) => integerInRange(name, id, 0, vocab - 1);
  check('decoderStartTokenId', config.decoderStartTokenId);
  check('padTokenId', config.padTokenId);
  config.eosTokenId.forEach((id, i) => check(`eosTokenId[${i}]`, id));
  config.suppressTokens?.forEach((id, i) => check(`suppressTokens[${i}]`, id));
  config.badWordsIds?.forEach((seq, i) => seq.forEach((id, j) => check(`badWordsIds[${i}][${j}]`, id)));
}

/**
 * Generates token sequences for a batch of images (and optional right-padded prompts).
 *
 * @param model opens the decoding session (Blip2Model)
 * @param inputs pixel values [B,3,H,W], prompt ids (B rows, may be empty) and mask
 * @param options generation settings ({@link GenerationOptions}); unknown keys are errors
 * @param hooks streaming callback, tokenizer size, defaults
 * @returns HF-shaped sequences (start token first, right-padded), scores and timings
 */
export async function generate(
  model: DecodingModel, inputs: DecodingInputs, options?: GenerationOptions, hooks?: GenerateHooks,
): Promise<GenerateOutput> {
  const h = knownKeys('hooks', hooks, ['onToken', 'decodableVocabSize', 'defaults', 'signal']) as GenerateHooks;
  const decoderOnly = model.decoderOnly === true;
  const resolved = resolveGenerationConfig(h.defaults, options);
  const config = decoderOnly ? decoderOnlyLengths(resolved, inputs.inputIds[0]?.length ?? 0) : resolved;
  const signal = abortSignal('signal', h.signal);
  throwIfAborted(signal);
  if (h.onToken !== undefined && typeof h.onToken !== 'function') throw invalidParameterError('onToken', 'function', h.onToken);
  if (h.onToken !== undefined && config.numBeams > 1) {
    throw invalidParameterError('onToken', 'undefined with beam search (beams are only final at the end)', h.onToken);
  }
  if (h.decodableVocabSize !== undefined) integerInRange('decodableVocabSize', h.decodableVocabSize, 1, 2 ** 31 - 1);
  const started = performance.now();
  const timer = new StepTimer();
  const expand = config.numBeams > 1 ? config.numBeams : config.numReturnSequences;
  const opened = await timer.time(() => model.startDecoding(inputs, { expand }));
  const session: DecoderSession = new GuardedSession(opened, signal);
  timer.steps = 0;
  try {
    const vocabSize = session.vocabSize;
    checkIds(config, vocabSize);
    const seed = config.seed ?? randomSeed();
    const ctx = {
      config,
      processors: decoderOnly
        ? buildLogitsProcessors(config, { vocabSize, decodableVocabSize: h.decodableVocabSize, promptLength: 0 }).map(withoutStartToken)
        : buildLogitsProcessors(config, { vocabSize, decodableVocabSize: h.decodableVocabSize }),
      warpers: config.doSample ? buildLogitsWarpers(config) : [],
      onToken: h.onToken,
      seed,
      timer,
    };
    const result = config.numBeams > 1 ? await beamSearch(session, ctx) : await greedyOrSample(session, ctx);
    const totalMs = performance.now() - started;
    const out: GenerateOutput = {
      ...result,
      config,
      timings: { steps: timer.steps, totalMs, nativeMs: timer.nativeMs, jsMs: totalMs - timer.nativeMs },
    };
    if (config.doSample) out.seed = seed;
    return out;
  } finally {
    session.dispose();
  }
}

/** A row of {@link GenerateOutput.sequences} without its trailing padding, as plain numbers. */
export function trimmedSequence(output: StrategyOutput, row: number): number[] {
  return Array.from(output.sequences[row]!.subarray(0, output.lengths[row]!));
}
