/** Types shared by the decoding strategies. */
import type { DecoderSession } from '../model/decoder.js';
import type { GenerationConfig } from './config.js';
import type { LogitsProcessor } from './processors.js';

export type { DecoderSession, StepOptions } from '../model/decoder.js';

/**
 * Model inputs of one batch: pixel values and the prompt (right-padded for T5, left-padded for a decoder-only model).
 */
export interface DecodingInputs {
  /** NCHW float32 pixel values [B, 3, H, W]. */
  pixelValues: { data: Float32Array; shape: number[] };
  /** Prompt ids (B rows of equal length, padded on the model's side; length 0 for no prompt). */
  inputIds: number[][];
  /** Prompt mask (0 on padding); all ones when omitted. */
  attentionMask?: number[][];
}

/** Anything that can open a decoding session, such as Blip2Model. */
export interface DecodingModel {
  /**
   * Encodes the batch once and returns a KV-cached session with `batch * expand` rows ordered like
   * torch.repeat_interleave (each input's copies next to each other).
   */
  startDecoding(inputs: DecodingInputs, options?: { expand?: number }): Promise<DecoderSession>;
  /**
   * True for a decoder-only language model (OPT): the prompt (left-padded) and the generated tokens are one
   * sequence, so, as Hugging Face's BLIP-2 generates, the start token (BOS) leads the returned sequences without
   * being fed or seen by the logits processors, and lengths without maxNewTokens / minNewTokens count from the end
   * of the prompt. False or absent for T5.
   */
  readonly decoderOnly?: boolean;
}

/** One streamed token (greedy search and sampling). */
export interface TokenEvent {
  /** Output row (input index × numReturnSequences + copy). */
  row: number;
  /** 0-based index of the generated token (the start token is not counted). */
  step: number;
  /** The token id. */
  token: number;
  /** log p(token) under the model (log-softmax of the raw logits). */
  logprob: number;
}

/** What a strategy returns; rows grouped per input, best first for beam search. */
export interface StrategyOutput {
  /** Hugging Face's `sequences`: start token first, finished rows right-padded with pad to a common width. */
  sequences: Int32Array[];
  /** Each row's length without the trailing padding (start token and EOS included). */
  lengths: number[];
  /** Beam search: HF's sequences_scores; greedy and sampling: the mean token log-prob. */
  sequencesScores: number[];
  /** Per row, log p(token) under the model for each generated token (when asked for). */
  tokenLogprobs?: number[][];
  /** Per step, the processed scores [rows, vocab] (when asked for), as HF's `scores`. */
  scores?: Float32Array[];
  /** Beam search: HF's beam_indices (global beam row per generated token, -1 padded). */
  beamIndices?: Int32Array[];
}

/** Everything a strategy needs besides the session. */
export interface StrategyContext {
  config: GenerationConfig;
  processors: LogitsProcessor[];
  warpers: LogitsProcessor[];
  onToken?: (event: TokenEvent) => void;
  /** Seed of the sampling generator. */
  seed: number;
  /** Accumulates time spent awaiting the native side. */
  timer: StepTimer;
}

/** Splits wall time into native steps and the rest (JS). */
export class StepTimer {
  nativeMs = 0;
  steps = 0;

  /** Awaits a native step and adds its duration. */
  async time<T>(work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.nativeMs += performance.now() - t0;
      this.steps += 1;
    }
  }
}
