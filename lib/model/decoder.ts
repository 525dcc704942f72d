/**
 * A KV-cached decoding session over one batch: the native side keeps the encoder output and every decoder
 * layer's keys/values; TypeScript feeds one token per row and gets next-token scores back, and owns the
 * strategy (greedy, beam search, sampling).
 */
import { invalidParameterError, knownKeys, oneOf, optional } from '../is.js';
import { withCallerStack, type NativeDecoder } from '../native.js';

/** Options of {@link DecoderSession.step}. */
export interface StepOptions {
  /** Re-select cache rows first: new row i continues old row reorder[i] (may shrink, grow or permute). */
  reorder?: Int32Array;
  /** 'logits' (default) or 'logprobs' (log_softmax computed natively in fp32). */
  output?: 'logits' | 'logprobs';
}

export interface DecoderSession {
  /** Rows currently in the cache. */
  readonly rows: number;
  /** Model vocabulary size (columns of the returned scores). */
  readonly vocabSize: number;
  /** Tokens fed so far. */
  readonly steps: number;
  /**
   * Feeds one token per row (after an optional row re-selection) and returns the next-token scores,
   * a row-major Float32Array [rows, vocabSize].
   */
  step(tokens: Int32Array, options?: StepOptions): Promise<Float32Array>;
  /** Frees the caches. */
  dispose(): void;
}

/** The {@link DecoderSession} over a native decoder. */
export class NativeDecoderSession implements DecoderSession {
  private current: number;
  private fed = 0;
  private disposed = false;

  constructor(
    private readonly native: NativeDecoder,
    rows: number,
    readonly vocabSize: number,
  ) {
    this.current = rows;
  }

  get rows(): number {
    return this.current;
  }

  get steps(): number {
    return this.fed;
  }

  async step(tokens: Int32Array, options?: StepOptions): Promise<Float32Array> {
    if (this.disposed) throw new Error('Decoder session has been disposed');
    const o = knownKeys('options', options, ['reorder', 'output']);
    const output = optional(o.output, 'logits', (v) => oneOf('output', v, ['logits', 'logprobs'] as const));
    const reorder = o.reorder as Int32Array | undefined;
    if (reorder !== undefined) {
      if (!(reorder instanceof Int32Array)) throw invalidParameterError('reorder', 'Int32Array', reorder);
      for (const r of reorder) {
        if (r < 0 || r >= this.current) throw invalidParameterError('reorder', `row indices between 0 and ${this.current - 1}`, r);
      }
    }
    const rows = reorder === undefined ? this.current : reorder.length;
    if (!(tokens instanceof Int32Array) || tokens.length !== rows) {
      throw invalidParameterError('tokens', `Int32Array of ${rows} token ids (one per row)`, tokens);
    }
    for (const t of tokens) {
      if (t < 0 || t >= this.vocabSize) throw invalidParameterError('tokens', `token ids between 0 and ${this.vocabSize - 1}`, t);
    }
    const scores = await withCallerStack(this.native.step(tokens, reorder, output === 'logprobs'), 'DecoderSession.step');
    this.current = rows;
    this.fed += 1;
    return scores;
  }

  dispose(): void {
    this.disposed = true;
    this.native.dispose();
  }
}
