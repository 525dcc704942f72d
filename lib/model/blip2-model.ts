/**
 * The low-level BLIP-2 model: weights and the forward pass in the native addon, options validated here.
 * Most users want {@link Blip2Captioner}; this class is for tests, tools and custom pipelines.
 */
import { availableParallelism } from 'node:os';
import { integerInRange, invalidParameterError, knownKeys, oneOf } from '../is.js';
import {
  native,
  withCallerStack,
  type ForwardOutputName,
  type NativeLoadOptions,
  type NativeModel,
  type NativeTensor,
  type OutputTensor,
} from '../native.js';
import { readBlip2Config, type Blip2Config } from './config.js';
import { intMatrix } from './tensors.js';
import { NativeDecoderSession, type DecoderSession } from './decoder.js';

/** Parameter storage precision. bfloat16/float16 halve memory; float32 is exact. */
export type Dtype = 'float32' | 'bfloat16' | 'float16';
export const DTYPES: readonly Dtype[] = ['float32', 'bfloat16', 'float16'];

/** Where and how a model runs. */
export interface ModelLoadOptions {
  /** 'cpu' (default), 'cuda' or 'cuda:N' (needs a CUDA build of libtorch). */
  device?: string;
  /** Parameter dtype. Default 'float32'. */
  dtype?: Dtype;
  /**
   * Intra-op threads for the model's native work. Default: the number of cores
   * (benchmarks/forward.ts measures 1 vs all; Debian's libtorch would otherwise use one thread).
   */
  threads?: number;
}

/** Inputs of {@link Blip2Model.forward}. Token matrices are rows of equal length. */
export interface ForwardInputs {
  /** NCHW float32 pixel values, e.g. from BlipImageProcessor.preprocess. */
  pixelValues: { data: Float32Array; shape: readonly number[] };
  /** Prompt token ids (B, L); L may be 0 for no prompt. */
  inputIds: readonly (readonly number[])[];
  /** Prompt mask (B, L) of 0/1; all ones when omitted. */
  attentionMask?: readonly (readonly number[])[];
  /** Target ids (B, T) with -100 on ignored positions; needed for loss and token_logprobs. */
  labels?: readonly (readonly number[])[];
  /** Decoder inputs (B, T); T5's shift-right of labels when omitted. */
  decoderInputIds?: readonly (readonly number[])[];
}

/** What {@link Blip2Model.info} reports. */
export interface ModelInfo {
  numParameters: number;
  numTensors: number;
  dtype: string;
  device: string;
  threads: number;
}

export const FORWARD_OUTPUTS: readonly ForwardOutputName[] = [
  'vision_last_hidden_state',
  'vision_pooler_output',
  'qformer_last_hidden_state',
  'qformer_pooler_output',
  'language_projection',
  'lm_inputs_embeds',
  'lm_attention_mask',
  't5_encoder_last_hidden_state',
  'logits',
  'loss',
  'token_logprobs',
];

/** The default intra-op thread count: every core this process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}

function resolveLoadOptions(options: unknown): NativeLoadOptions {
  const o = knownKeys('options', options, ['device', 'dtype', 'threads']);
  const device = o.device ?? 'cpu';
  if (typeof device !== 'string' || !/^(cpu|cuda(:\d+)?)$/.test(device)) {
    throw invalidParameterError('device', "'cpu', 'cuda' or 'cuda:N'", device);
  }
  return {
    device,
    dtype: o.dtype === undefined ? 'float32' : oneOf('dtype', o.dtype, DTYPES),
    threads: o.threads === undefined ? defaultThreads() : integerInRange('threads', o.threads, 1, 1024),
  };
}

export class Blip2Model {
  private handle: NativeModel;

  private constructor(
    /** The resolved config the weights follow. */
    readonly config: Blip2Config,
    handle: NativeModel,
  ) {
    this.handle = handle;
  }

  /** Loads `<dir>/config.json` and its safetensors weights (single file or sharded index). */
  static async load(dir: string, options?: ModelLoadOptions): Promise<Blip2Model> {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidParameterError('dir', 'model directory path', dir);
    const resolved = resolveLoadOptions(options);
    const config = await readBlip2Config(dir);
    const handle = await withCallerStack(native().loadModel(dir, config, resolved));
    return new Blip2Model(config, handle);
  }

  /** A model with random weights (normal(0, 0.02) matrices), for benchmarks and tests. */
  static async random(config: Blip2Config, options?: ModelLoadOptions & { seed?: number }): Promise<Blip2Model> {
    const { seed, ...rest } = knownKeys('options', options, ['device', 'dtype', 'threads', 'seed']);
    const resolved = resolveLoadOptions(rest);
    resolved.seed = seed === undefined ? 0 : integerInRange('seed', seed, 0, Number.MAX_SAFE_INTEGER);
    const handle = await withCallerStack(native().randomModel(config, resolved));
    return new Blip2Model(config, handle);
  }

  /** Tensor names and shapes a config expects (the checkpoint's key list), computed without allocating. */
  static expectedTensors(config: Blip2Config): { name: string; shape: number[] }[] {
    return native().expectedTensors(config);
  }

  /** Parameter count, dtype, device and threads. */
  info(): ModelInfo {
    return this.handle.info();
  }

  /** Whether {@link dispose} was called. */
  get disposed(): boolean {
    return this.handle.disposed;
  }

  /**
   * Runs the full forward pass (eval mode) and returns the requested tensors by name, each as
   * `{ data, shape, dtype }`.
   */
  async forward(
    inputs: ForwardInputs,
    outputs: readonly ForwardOutputName[],
  ): Promise<Partial<Record<ForwardOutputName, OutputTensor>>> {
    const i = knownKeys('inputs', inputs, ['pixelValues', 'inputIds', 'attentionMask', 'labels', 'decoderInputIds']);
    if (!Array.isArray(outputs) || outputs.length === 0) {
      throw invalidParameterError('outputs', `non-empty array of ${FORWARD_OUTPUTS.join(', ')}`, outputs);
    }
    outputs.forEach((name, k) => oneOf(`outputs[${k}]`, name, FORWARD_OUTPUTS));
    const pixelValues = this.checkPixels(i.pixelValues);
    const batch = pixelValues.shape[0]!;
    const rows = (name: string, value: unknown, required: boolean): NativeTensor<Int32Array> | undefined => {
      if (value === undefined && !required) return undefined;
      const t = intMatrix(name, value as number[][]);
      if (t.shape[0] !== batch) throw invalidParameterError(name, `${batch} rows (one per image)`, value);
      return t;
    };
    const inputIds = rows('inputIds', i.inputIds, true)!;
    const attentionMask = rows('attentionMask', i.attentionMask, false);
    if (attentionMask && attentionMask.shape[1] !== inputIds.shape[1]) {
      throw invalidParameterError('attentionMask', `rows of length ${inputIds.shape[1]} like inputIds`, i.attentionMask);
    }
    const labels = rows('labels', i.labels, false);
    const decoderInputIds = rows('decoderInputIds', i.decoderInputIds, false);
    if ((outputs.includes('loss') || outputs.includes('token_logprobs')) && !labels) {
      throw invalidParameterError('inputs.labels', 'label rows when asking for loss or token_logprobs', undefined);
    }
    if ((outputs.includes('logits')) && !labels && !decoderInputIds) {
      throw invalidParameterError('inputs.labels', 'labels or decoderInputIds when asking for logits', undefined);
    }
    this.checkIds('inputIds', inputIds, false);
    if (labels) this.checkIds('labels', labels, true);
    if (decoderInputIds) this.checkIds('decoderInputIds', decoderInputIds, false);
    return withCallerStack(
      this.live().forward({ pixelValues, inputIds, attentionMask, labels, decoderInputIds }, [...outputs]),
    );
  }

  /**
   * Encodes a batch (vision -> Q-Former -> projection -> T5 encoder, once) and opens a KV-cached decoding
   * session with each image's row repeated `expand` times ([img0 x expand, img1 x expand, ...], like
   * torch.repeat_interleave). Feed decoder_start_token_id first.
   */
  async startDecoding(
    inputs: Pick<ForwardInputs, 'pixelValues' | 'inputIds' | 'attentionMask'>,
    options?: { expand?: number },
  ): Promise<DecoderSession> {
    const i = knownKeys('inputs', inputs, ['pixelValues', 'inputIds', 'attentionMask']);
    const o = knownKeys('options', options, ['expand']);
    const expand = o.expand === undefined ? 1 : integerInRange('expand', o.expand, 1, 4096);
    const pixelValues = this.checkPixels(i.pixelValues);
    const batch = pixelValues.shape[0]!;
    const inputIds = intMatrix('inputIds', i.inputIds as number[][]);
    if (inputIds.shape[0] !== batch) throw invalidParameterError('inputIds', `${batch} rows (one per image)`, i.inputIds);
    this.checkIds('inputIds', inputIds, false);
    let attentionMask: NativeTensor<Int32Array> | undefined;
    if (i.attentionMask !== undefined) {
      attentionMask = intMatrix('attentionMask', i.attentionMask as number[][]);
      if (attentionMask.shape[0] !== batch || attentionMask.shape[1] !== inputIds.shape[1]) {
        throw invalidParameterError('attentionMask', `${batch} rows of length ${inputIds.shape[1]} like inputIds`, i.attentionMask);
      }
    }
    const decoder = await withCallerStack(this.live().startDecoding({ pixelValues, inputIds, attentionMask }, expand));
    return new NativeDecoderSession(decoder, batch * expand, this.config.text_config.vocab_size);
  }

  /** Writes every parameter to one safetensors file (atomically). */
  async save(path: string): Promise<void> {
    if (typeof path !== 'string' || path.length === 0) throw invalidParameterError('path', 'file path', path);
    return withCallerStack(this.live().save(path));
  }

  /** Frees the weights. Calls in flight finish first; later calls throw. */
  dispose(): void {
    this.handle.dispose();
  }

  private live(): NativeModel {
    if (this.handle.disposed) throw new Error('Model has been disposed; load it again to use it');
    return this.handle;
  }

  private checkPixels(value: unknown): NativeTensor<Float32Array> {
    const size = this.config.vision_config.image_size;
    const expected = `{data: Float32Array, shape: [B, 3, ${size}, ${size}]}`;
    if (typeof value !== 'object' || value === null) throw invalidParameterError('pixelValues', expected, value);
    const { data, shape } = value as { data: unknown; shape: unknown };
    if (!(data instanceof Float32Array) || !Array.isArray(shape) || shape.length !== 4 || shape[1] !== 3 ||
        shape[2] !== size || shape[3] !== size || !Number.isInteger(shape[0]) || shape[0] < 1 ||
        data.length !== shape[0] * 3 * size * size) {
      throw invalidParameterError('pixelValues', expected, value);
    }
    return { data, shape: [...shape] };
  }

  private checkIds(name: string, t: NativeTensor<Int32Array>, allowIgnore: boolean): void {
    const vocab = this.config.text_config.vocab_size;
    for (let k = 0; k < t.data.length; k++) {
      const v = t.data[k]!;
      if ((v < 0 || v >= vocab) && !(allowIgnore && v === -100)) {
        const row = Math.floor(k / t.shape[1]!);
        const col = k % t.shape[1]!;
        throw invalidParameterError(`${name}[${row}][${col}]`, `token id between 0 and ${vocab - 1}${allowIgnore ? ' or -100' : ''}`, v);
      }
    }
  }
}
