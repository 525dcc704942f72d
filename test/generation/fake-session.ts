/**
 * A small deterministic stand-in for the native decoder: each input ("image") has a table from the decoder
 * history to next-token probabilities. It honours `reorder` and `output` exactly like the native session, so the
 * strategies can be tested against hand-worked expectations without the model.
 */
import type { DecoderSession, StepOptions } from '../../lib/model/decoder.js';
import type { DecodingInputs, DecodingModel } from '../../lib/generation/types.js';

/** Next-token probabilities for an image and a decoder history (start token first). */
export type ProbabilityTable = (image: number, history: readonly number[]) => readonly number[];

export class FakeSession implements DecoderSession {
  private histories: number[][];
  private images: number[];
  private fed = 0;
  disposed = false;
  /** Every reorder received, for assertions. */
  readonly reorders: (number[] | undefined)[] = [];

  constructor(images: number[], readonly vocabSize: number, private readonly table: ProbabilityTable) {
    this.images = [...images];
    this.histories = images.map(() => []);
  }

  get rows(): number {
    return this.images.length;
  }

  get steps(): number {
    return this.fed;
  }

  async step(tokens: Int32Array, options: StepOptions = {}): Promise<Float32Array> {
    if (this.disposed) throw new Error('disposed');
    const { reorder, output = 'logits' } = options;
    this.reorders.push(reorder ? Array.from(reorder) : undefined);
    if (reorder) {
      this.images = Array.from(reorder, (r) => this.images[r]!);
      this.histories = Array.from(reorder, (r) => [...this.histories[r]!]);
    }
    if (tokens.length !== this.images.length) throw new Error(`fed ${tokens.length} tokens to ${this.images.length} rows`);
    this.fed += 1;
    const out = new Float32Array(this.images.length * this.vocabSize);
    this.histories.forEach((history, r) => {
      history.push(tokens[r]!);
      const p = this.table(this.images[r]!, history);
      if (p.length !== this.vocabSize) throw new Error(`table gave ${p.length} probabilities`);
      const total = p.reduce((a, b) => a + b, 0);
      for (let v = 0; v < this.vocabSize; v++) {
        // logits = ln p + a row-dependent shift, so logits and log-probs differ as they do for a real model
        out[r * this.vocabSize + v] = output === 'logprobs' ? Math.log(p[v]! / total) : Math.log(p[v]!) + 3 + r;
      }
    });
    return out;
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** A DecodingModel whose "pixel values" hold one image id per input (shape [B, 1, 1, 1]). */
export class FakeModel implements DecodingModel {
  readonly sessions: FakeSession[] = [];

  constructor(readonly vocabSize: number, readonly table: ProbabilityTable) {}

  async startDecoding(inputs: DecodingInputs, options: { expand?: number } = {}): Promise<FakeSession> {
    const expand = options.expand ?? 1;
    const images = Array.from(inputs.pixelValues.data).flatMap((id) => Array.from({ length: expand }, () => id));
    const session = new FakeSession(images, this.vocabSize, this.table);
    this.sessions.push(session);
    return session;
  }
}

/** Inputs for the fake model: one image id per input. */
export function fakeInputs(images: number[]): DecodingInputs {
  return {
    pixelValues: { data: Float32Array.from(images), shape: [images.length, 1, 1, 1] },
    inputIds: images.map(() => []),
  };
}

/** Builds a table from history keys ("0,2,3") to probabilities, with a fallback. */
export function tableFrom(
  perImage: Record<number, Record<string, readonly number[]>>, fallback: readonly number[],
): ProbabilityTable {
  return (image, history) => perImage[image]?.[history.join(',')] ?? fallback;
}
