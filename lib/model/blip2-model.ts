/**
 * The low-level BLIP-2 model: weights and the forward pass in the native addon, options validated here.
 * Most users want {@link Blip2Captioner}; this class is for tests, tools and custom pipelines.
 */
import { availableParallelism, totalmem } from 'node:os';
import { integerInRange, invalidParameterError, knownKeys, numberInRange, oneOf, optional } from '../is.js';
import {
  FORWARD_OUTPUTS,
  LOAD_DTYPES,
  native,
  withCallerStack,
  type ForwardOutputName,
  type NativeLoadOptions,
  type NativeModel,
  type LoraSummary,
  type NativeForwardInputs,
  type NativeTensor,
  type OutputTensor,
} from '../native.js';
import { estimateParameters, readBlip2Config, type Blip2Config } from './config.js';
import { familyOf } from './family.js';
import { intMatrix } from './tensors.js';
import { NativeDecoderSession, type DecoderSession } from './decoder.js';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { ProcessGroup } from '../distributed/process-group.js';
import {
  nativeLoraConfig,
  peftAdapterConfig,
  readPeftAdapterConfig,
  resolveAdapterDirectory,
  resolveLoraOptions,
  type LoraOptions,
  type TargetedLoraConfig,
  withTargetModules,
} from './lora-config.js';
import { resolveAdamW, type AdamWOptions } from './adamw.js';
import { MODEL_SOURCE_KEYS, resolveModel, sourceOptions, type ModelSourceOptions } from '../hub/resolve.js';
import { cpuInfo } from '../runtime-info.js';

/**
 * How a model's parameters are stored and its products computed:
 * - `'float32'`: exact, Hugging Face's default; 4 bytes per parameter.
 * - `'bfloat16'`: every parameter and activation in bfloat16, as Hugging Face's `torch_dtype=torch.bfloat16`;
 *   half the memory. Fast on CPUs with AVX512-BF16 (and on CUDA); on other CPUs libtorch's bf16 matmul is ~100×
 *   slower than fp32.
 * - `'float16'`: CUDA only.
 * - `'bfloat16-mixed'`: the Linear weights and the LM head in bfloat16, so the matmuls run in bf16, while the
 *   embeddings, norms, attention, the residual stream and LoRA adapters stay in float32. About half the memory and
 *   the speed of `'bfloat16'` on AVX512-BF16 CPUs, with fewer roundings (README, Benchmarks, for its agreement with
 *   float32).
 * - `'int8'`: CPU inference only. Float32, except that every Linear weight (not the LM head, not the embeddings) is
 *   quantized to int8, symmetric per output channel (scale = max|row| / 127), and its products run as PyTorch's
 *   dynamic quantized linear (the activations quantized per call). Once loaded, the Linear weights take about half
 *   their float32 memory (oneDNN's packed weights, ~2 bytes a weight), but the load peaks at the float32 model (it is
 *   read in float32, then quantized Linear by Linear).
 *   The float32 Linear weights are gone, so training, merging adapters, {@link Blip2Model.save} and
 *   {@link Blip2Model.loadWeights} are refused; LoRA adapters load and run unmerged, in float32. Never chosen by
 *   `'auto'` (README, Benchmarks, for its agreement with float32).
 */
export type Dtype = (typeof LOAD_DTYPES)[number];
/** A {@link Dtype}, or `'auto'`: see {@link resolveDtype}. */
export type DtypeOption = Dtype | 'auto';
/** Every value the `dtype` option accepts. */
export const DTYPES: readonly DtypeOption[] = [...LOAD_DTYPES, 'auto'];

/**
 * The dtype `'auto'` stands for on a device: `'bfloat16-mixed'` on a CPU with AVX512-BF16 (where bf16 matmuls run
 * at several times the fp32 rate), `'float32'` on other CPUs and on CUDA (not measured there yet). Other values are
 * returned as they are.
 */
export function resolveDtype(dtype: DtypeOption, device: string, cpuHasBf16: boolean = cpuInfo().flags.avx512_bf16): Dtype {
  if (dtype !== 'auto') return dtype;
  return device === 'cpu' && cpuHasBf16 ? 'bfloat16-mixed' : 'float32';
}

/** Where and how a model runs. */
export interface ModelLoadOptions {
  /** 'cpu' (default), 'cuda' or 'cuda:N' (needs a CUDA build of libtorch). */
  device?: string;
  /** Parameter dtype ({@link Dtype}), or 'auto' ({@link resolveDtype}). Default 'float32'. */
  dtype?: DtypeOption;
  /**
   * Intra-op threads for the model's native work (libtorch's and OpenBLAS's, set before each of this model's calls).
   * Default ({@link defaultThreads}): 1 for models under {@link SMALL_MODEL_PARAMETERS} parameters, otherwise
   * `os.availableParallelism()`, the CPUs this process may run on.
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
  /** Decoder inputs (B·R, T); T5's shift-right of labels when omitted. */
  decoderInputIds?: readonly (readonly number[])[];
  /**
   * R (default 1): every image's encoder output (vision, Q-Former, T5 encoder — computed once) serves R
   * consecutive label rows, e.g. R captions sampled per image in SCST; labels and decoderInputIds then have B·R
   * rows. The same result as repeating the pixels and prompt R times, without R times the encoder work.
   */
  imageRepeat?: number;
}

/** What {@link Blip2Model.info} reports. */
export interface ModelInfo {
  numParameters: number;
  numTensors: number;
  dtype: string;
  device: string;
  threads: number;
}

export { FORWARD_OUTPUTS };

/**
 * Models below this many parameters run faster on one thread: their matrix products are too small to repay
 * waking a second one (benchmarks/forward.ts measures the tiny fixture and the base-size model on 1 and 2 threads;
 * the README's Benchmarks gives the numbers).
 */
export const SMALL_MODEL_PARAMETERS = 20_000_000;

/** The default intra-op thread count for a model: 1 for small models, otherwise every core this process may use. */
export function defaultThreads(config?: Blip2Config): number {
  if (config !== undefined) {
    if (estimateParameters(config) < SMALL_MODEL_PARAMETERS) return 1;
  }
  return availableParallelism();
}

/** The option names of {@link ModelLoadOptions}. */
export const LOAD_OPTION_KEYS = ['device', 'dtype', 'threads'] as const;

function resolveLoadOptions(options: unknown, config: Blip2Config): NativeLoadOptions {
  const o = knownKeys('options', options, LOAD_OPTION_KEYS);
  const device = o.device ?? 'cpu';
  if (typeof device !== 'string' || !/^(cpu|cuda(:\d+)?)$/.test(device)) {
    throw invalidParameterError('device', "'cpu', 'cuda' or 'cuda:N'", device);
  }
  const dtype = resolveDtype(optional(o.dtype, 'float32', (v) => oneOf('dtype', v, DTYPES)), device);
  if (device === 'cpu' && dtype === 'float16') {
    throw invalidParameterError('dtype', "'float32' or 'bfloat16' on device 'cpu' (libtorch has no float16 CPU kernels for this model; " +
      "use bfloat16 for half the memory, or float16 with device 'cuda')", dtype);
  }
  if (device !== 'cpu' && dtype === 'int8') {
    throw invalidParameterError('dtype', `a float dtype on device '${device}' (int8 runs on the CPU only)`, dtype);
  }
  if (device === 'cpu') checkMemory(config, dtype);
  return { device, dtype, threads: optional(o.threads, defaultThreads(config), (v) => integerInRange('threads', v, 1, 1024)) };
}

/** Refuses, before anything is allocated, a model whose load would exceed this machine's memory. */
function checkMemory(config: Blip2Config, dtype: Dtype): void {
  const parameters = estimateParameters(config);
  const bytes = loadPeakBytes(config, dtype, parameters);
  if (bytes > totalmem()) {
    const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;
    const what = dtype === 'int8'
      ? `to load its ${parameters.toLocaleString('en-US')} parameters in int8 (read in float32, then quantized)`
      : `for its ${parameters.toLocaleString('en-US')} ${dtype} parameters`;
    throw new Error(`The model needs ${gb(bytes)} ${what}, more than this machine's ${gb(totalmem())} of memory`);
  }
}

/**
 * What loading a model in `dtype` peaks at, in bytes. bfloat16-mixed stores the Linear weights in bf16 as they are
 * read, everything else in fp32. int8 holds the whole float32 model, then packs each Linear in turn: the float32
 * model plus, for the largest Linear weight, its |w| for the scales (4 bytes an element), the quantized copy and the
 * packed one (1 byte each).
 */
export function loadPeakBytes(config: Blip2Config, dtype: Dtype, parameters: number = estimateParameters(config)): number {
  const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  if (dtype === 'bfloat16-mixed') {
    return native().expectedTensors(config).reduce((n, t) => n + numel(t.shape) * (t.matmul ? 2 : 4), 0);
  }
  if (dtype === 'int8') {
    const largestLinear = native().expectedTensors(config)
      .filter((t) => t.matmul && t.shape.length === 2 && t.name !== 'language_model.lm_head.weight')
      .reduce((m, t) => Math.max(m, numel(t.shape)), 0);
    return parameters * 4 + largestLinear * (4 + 1 + 1);
  }
  return parameters * (dtype === 'float32' ? 4 : 2);
}

/** The message of a call that needs the float32 Linear weights, on a model loaded with dtype 'int8'. */
export function int8RefusalMessage(operation: string): string {
  return `${operation} needs the float32 Linear weights, which a model loaded with dtype 'int8' no longer has; ` +
    "load it with dtype 'float32' or 'bfloat16-mixed' to train, merge or save";
}

export class Blip2Model {
  private handle: NativeModel;
  private lora: TargetedLoraConfig | undefined;
  private isTraining = false;
  private full = false;

  private constructor(
    /** The resolved config the weights follow. */
    readonly config: Blip2Config,
    handle: NativeModel,
  ) {
    this.handle = handle;
  }

  /**
   * Loads `<dir>/config.json` and its safetensors weights (single file or sharded index). `dir` may be a Hugging
   * Face repo id (`org/name`), resolved in the Hugging Face cache and downloaded when missing (see
   * {@link resolveModel}); an existing directory of the same spelling wins.
   */
  static async load(dir: string, options?: ModelLoadOptions & ModelSourceOptions): Promise<Blip2Model> {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidParameterError('dir', 'model directory or Hugging Face repo id', dir);
    const o = knownKeys('options', options, [...LOAD_OPTION_KEYS, ...MODEL_SOURCE_KEYS]);
    const modelDir = (await resolveModel(dir, sourceOptions(o))).dir;
    const config = await readBlip2Config(modelDir);
    const loadOptions: Record<string, unknown> = {};
    for (const key of LOAD_OPTION_KEYS) if (o[key] !== undefined) loadOptions[key] = o[key];
    const resolved = resolveLoadOptions(loadOptions, config);
    const handle = await withCallerStack(native().loadModel(modelDir, config, resolved), 'Blip2Model.load');
    return new Blip2Model(config, handle);
  }

  /** A model with random weights (normal(0, 0.02) matrices), for benchmarks and tests. */
  static async random(config: Blip2Config, options?: ModelLoadOptions & { seed?: number }): Promise<Blip2Model> {
    const { seed, ...rest } = knownKeys('options', options, ['device', 'dtype', 'threads', 'seed']);
    const resolved = resolveLoadOptions(rest, config);
    resolved.seed = optional(seed, 0, (v) => integerInRange('seed', v, 0, Number.MAX_SAFE_INTEGER));
    const handle = await withCallerStack(native().randomModel(config, resolved), 'Blip2Model.random');
    return new Blip2Model(config, handle);
  }

  /** Tensor names and shapes a config expects (the key list of its weight files), computed without allocating. */
  static expectedTensors(config: Blip2Config): { name: string; shape: number[]; matmul: boolean }[] {
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
    if (!Array.isArray(outputs) || outputs.length === 0) {
      throw invalidParameterError('outputs', `non-empty array of ${FORWARD_OUTPUTS.join(', ')}`, outputs);
    }
    outputs.forEach((name, k) => oneOf(`outputs[${k}]`, name, FORWARD_OUTPUTS));
    const needLabels = outputs.includes('loss') || outputs.includes('token_logprobs');
    const native = this.nativeInputs(inputs, needLabels ? 'loss or token_logprobs' : undefined);
    if (outputs.includes('logits') && !native.labels && !native.decoderInputIds) {
      throw invalidParameterError('inputs.labels', 'labels or decoderInputIds when asking for logits', undefined);
    }
    return withCallerStack(this.live().forward(native, [...outputs]), 'Blip2Model.forward');
  }

  /** Validates forward-style inputs and converts them for the addon; `labelsFor` names why labels are required. */
  private nativeInputs(inputs: unknown, labelsFor?: string): NativeForwardInputs {
    const i = knownKeys('inputs', inputs, ['pixelValues', 'inputIds', 'attentionMask', 'labels', 'decoderInputIds', 'imageRepeat']);
    const pixelValues = this.checkPixels(i.pixelValues);
    const batch = pixelValues.shape[0]!;
    const repeat = optional(i.imageRepeat, 1, (v) => integerInRange('inputs.imageRepeat', v, 1, 1 << 20));
    const rows = (name: string, value: unknown, required: boolean, perImage = 1): NativeTensor<Int32Array> | undefined => {
      if (value === undefined && !required) return undefined;
      const t = intMatrix(name, value as number[][]);
      if (t.shape[0] !== batch * perImage) {
        throw invalidParameterError(name, perImage === 1 ? `${batch} rows (one per image)` : `${batch * perImage} rows (${perImage} per image: imageRepeat)`, value);
      }
      return t;
    };
    const inputIds = rows('inputIds', i.inputIds, true)!;
    const attentionMask = rows('attentionMask', i.attentionMask, false);
    if (attentionMask && attentionMask.shape[1] !== inputIds.shape[1]) {
      throw invalidParameterError('attentionMask', `rows of length ${inputIds.shape[1]} like inputIds`, i.attentionMask);
    }
    const labels = rows('labels', i.labels, false, repeat);
    const decoderInputIds = rows('decoderInputIds', i.decoderInputIds, false, repeat);
    if (repeat > 1 && !labels && !decoderInputIds) {
      throw invalidParameterError('inputs.imageRepeat', '1 unless labels or decoderInputIds are given (it repeats rows for the decoder)', repeat);
    }
    if (labelsFor !== undefined && !labels) {
      throw invalidParameterError('inputs.labels', `label rows when asking for ${labelsFor}`, undefined);
    }
    this.checkIds('inputIds', inputIds, false);
    if (labels) this.checkIds('labels', labels, true);
    if (decoderInputIds) this.checkIds('decoderInputIds', decoderInputIds, false);
    const out: NativeForwardInputs = { pixelValues, inputIds };
    if (attentionMask) out.attentionMask = attentionMask;
    if (labels) out.labels = labels;
    if (decoderInputIds) out.decoderInputIds = decoderInputIds;
    if (repeat > 1) out.imageRepeat = repeat;
    return out;
  }

  // ---- LoRA adapters -------------------------------------------------------------------------------

  /**
   * Attaches fresh LoRA adapters (PEFT initialisation) to the Linear layers selected by `targetModules`
   * (default: the model family's, the paper's for Flan-T5); everything else stays frozen. Replaces adapters attached
   * before.
   * Returns the trainable-vs-total parameter report.
   */
  async addLora(options?: LoraOptions): Promise<LoraSummary> {
    const config = withTargetModules(resolveLoraOptions(options), familyOf(this.config).defaultLoraTargetModules);
    const summary = await withCallerStack(this.live().addLora(nativeLoraConfig(config)), 'Blip2Model.addLora');
    this.lora = config;
    if (this.isTraining) await withCallerStack(this.live().setTraining(true), 'Blip2Model.addLora');
    return summary;
  }

  /** The attached adapters' configuration, or undefined. */
  get loraConfig(): TargetedLoraConfig | undefined {
    return this.lora;
  }

  /** Trainable (adapter) vs total parameters, module names, merge state. */
  loraInfo(): LoraSummary {
    return this.live().loraInfo();
  }

  /** Removes every adapter (unmerging first). */
  async removeLora(): Promise<void> {
    await withCallerStack(this.live().removeLora(), 'Blip2Model.removeLora');
    this.lora = undefined;
  }

  /**
   * Loads a PEFT adapter directory (adapter_config.json + adapter_model.safetensors, as PEFT's
   * save_pretrained writes it, or {@link saveAdapter}), or a finished training run's folder, meaning its final
   * stage's best adapter ({@link resolveAdapterDirectory}). Strict: every adapter tensor must match.
   * `seed` reseeds libtorch's global generator first, as {@link addLora}'s does, so that the adapter dropout of
   * training that continues from a saved adapter draws the same masks in every process.
   */
  async loadAdapter(dir: string, options?: { seed?: number }): Promise<LoraSummary> {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidParameterError('dir', 'adapter directory path', dir);
    const o = knownKeys('options', options, ['seed']);
    const seed = optional(o.seed, undefined, (v) => integerInRange('seed', v, 0, Number.MAX_SAFE_INTEGER));
    const adapterDir = await resolveAdapterDirectory(dir);
    const config = withTargetModules(await readPeftAdapterConfig(adapterDir), familyOf(this.config).defaultLoraTargetModules);
    const weights = join(adapterDir, 'adapter_model.safetensors');
    try {
      await access(weights);
    } catch {
      throw new Error(`No adapter_model.safetensors in ${JSON.stringify(adapterDir)}`);
    }
    const summary = await withCallerStack(this.live().addLora(nativeLoraConfig(seed === undefined ? config : { ...config, seed })), 'Blip2Model.loadAdapter');
    this.lora = config;
    if (this.isTraining) await withCallerStack(this.live().setTraining(true), 'Blip2Model.loadAdapter');
    try {
      await withCallerStack(this.live().loadAdapterWeights(weights), 'Blip2Model.loadAdapter');
    } catch (err) {
      await this.removeLora();
      throw err;
    }
    return summary;
  }

  /** Writes the adapters in PEFT's layout into `dir` (created if needed); each file is written atomically. */
  async saveAdapter(dir: string, options?: { baseModel?: string }): Promise<void> {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidParameterError('dir', 'adapter directory path', dir);
    const o = knownKeys('options', options, ['baseModel']);
    if (!this.lora) throw new Error('No LoRA adapters on this model; call addLora() or loadAdapter() first');
    await mkdir(dir, { recursive: true });
    await withCallerStack(this.live().saveAdapterWeights(join(dir, 'adapter_model.safetensors')), 'Blip2Model.saveAdapter');
    await writeFileAtomic(join(dir, 'adapter_config.json'), `${JSON.stringify(peftAdapterConfig(this.lora, (o.baseModel as string) ?? null), null, 2)}\n`);
  }

  /**
   * Folds the adapters into the base weights (faster inference); {@link unmergeLora} restores them. Refused on an
   * int8 model, which runs its adapters unmerged.
   */
  async mergeLora(): Promise<void> {
    this.requireFloatWeights('Blip2Model.mergeLora');
    await withCallerStack(this.live().mergeLora(), 'Blip2Model.mergeLora');
  }

  async unmergeLora(): Promise<void> {
    this.requireFloatWeights('Blip2Model.unmergeLora');
    await withCallerStack(this.live().unmergeLora(), 'Blip2Model.unmergeLora');
  }

  /**
   * Training mode turns adapter dropout on. The base model always runs without dropout. `true` is refused on an int8
   * model (inference only).
   */
  async setTraining(training: boolean): Promise<void> {
    if (typeof training !== 'boolean') throw invalidParameterError('training', 'boolean', training);
    if (training) this.requireFloatWeights('Blip2Model.setTraining(true)');
    await withCallerStack(this.live().setTraining(training), 'Blip2Model.setTraining');
    this.isTraining = training;
  }

  /** Whether adapter dropout is on ({@link setTraining}). */
  get training(): boolean {
    return this.isTraining;
  }

  // ---- training --------------------------------------------------------------------------------------

  /**
   * Teacher-forced cross-entropy over `labels` (mean over non-ignored tokens); backpropagates
   * loss × scale into the adapters' gradients (they accumulate until {@link optimizerStep}).
   * Returns the unscaled loss.
   */
  async backwardCrossEntropy(inputs: ForwardInputs, options?: { labelSmoothing?: number; scale?: number }): Promise<number> {
    this.requireFloatWeights('Blip2Model.backwardCrossEntropy');
    const o = knownKeys('options', options, ['labelSmoothing', 'scale']);
    const labelSmoothing = optional(o.labelSmoothing, 0, (v) => numberInRange('labelSmoothing', v, 0, 1));
    const scale = optional(o.scale, 1, (v) => numberInRange('scale', v, -1e6, 1e6));
    const native = this.nativeInputs(inputs, 'a training loss');
    return withCallerStack(this.live().backwardCrossEntropy(native, { labelSmoothing, scale }), 'Blip2Model.backwardCrossEntropy');
  }

  /**
   * Weighted log-likelihood −(1/B)·Σᵢ wᵢ·Σₜ log p(yᵢₜ) of the given sequences (`labels`, −100 padding; the
   * log-prob of each token is read where the model predicts it). SCST uses advantages as weights.
   * Backpropagates loss × scale; returns the loss and each sequence's Σₜ log p.
   */
  async backwardWeighted(
    inputs: ForwardInputs,
    weights: readonly number[] | Float32Array,
    options?: { scale?: number },
  ): Promise<{ loss: number; sequenceLogprobs: Float64Array }> {
    this.requireFloatWeights('Blip2Model.backwardWeighted');
    const o = knownKeys('options', options, ['scale']);
    const scale = optional(o.scale, 1, (v) => numberInRange('scale', v, -1e6, 1e6));
    const native = this.nativeInputs(inputs, 'a training loss');
    const rows = native.labels!.shape[0]!;
    if (!(weights instanceof Float32Array || Array.isArray(weights)) || weights.length !== rows ||
        !Array.from(weights).every((w) => Number.isFinite(w))) {
      throw invalidParameterError('weights', `${rows} finite numbers (one per sequence)`, weights);
    }
    return withCallerStack(this.live().backwardWeighted(native, { data: Float32Array.from(weights), shape: [rows] }, { scale }), 'Blip2Model.backwardWeighted');
  }

  /**
   * Clips the adapters' gradient to `maxGradNorm` (global L2 norm; 0 = no clipping), applies one AdamW step
   * (decoupled weight decay, as torch.optim.AdamW) at learning rate `lr`, and zeroes the gradients.
   * Returns the gradient norm before clipping and the optimizer step count.
   */
  async optimizerStep(options: AdamWOptions): Promise<{ gradNorm: number; step: number }> {
    this.requireFloatWeights('Blip2Model.optimizerStep');
    return withCallerStack(this.live().optimizerStep(resolveAdamW(options)), 'Blip2Model.optimizerStep');
  }

  /** Discards accumulated gradients. */
  async zeroGrad(): Promise<void> {
    await withCallerStack(this.live().zeroGrad(), 'Blip2Model.zeroGrad');
  }

  /** The adapters' weights or gradients by PEFT name. */
  async loraTensors(which: 'weights' | 'grads'): Promise<Record<string, OutputTensor>> {
    oneOf('which', which, ['weights', 'grads'] as const);
    return withCallerStack(this.live().loraTensors(which), 'Blip2Model.loraTensors');
  }

  /**
   * Makes every model parameter trainable (pretraining or full fine-tuning; adapters must be removed first), or
   * freezes them again. The optimizer then updates the trainable parameters. `only` limits training to the
   * parameters whose weight names start with one of its prefixes (e.g. `language_model.decoder.block.11.`);
   * the others stay frozen. A prefix list that selects nothing is an error.
   */
  async setFullTraining(on: boolean, options?: { only?: string[] }): Promise<void> {
    if (typeof on !== 'boolean') throw invalidParameterError('on', 'boolean', on);
    const o = knownKeys('options', options, ['only']);
    this.requireFloatWeights('Blip2Model.setFullTraining');
    if (o.only !== undefined && (!Array.isArray(o.only) || o.only.some((p) => typeof p !== 'string' || p.length === 0))) {
      throw invalidParameterError('only', 'array of non-empty parameter-name prefixes', o.only);
    }
    await withCallerStack(this.live().setFullTraining(on, o.only as string[] | undefined), 'Blip2Model.setFullTraining');
    this.full = on;
  }

  /** Whether every parameter is trainable ({@link setFullTraining}). */
  get fullTraining(): boolean {
    return this.full;
  }

  /**
   * Gradient checkpointing (activation recomputation) of the vision encoder layers and the T5 blocks: their
   * activations are not kept for backward but recomputed (with the same dropout masks), trading about one extra
   * forward for memory.
   */
  async setGradientCheckpointing(on: boolean): Promise<void> {
    if (typeof on !== 'boolean') throw invalidParameterError('on', 'boolean', on);
    await withCallerStack(this.live().setGradientCheckpointing(on), 'Blip2Model.setGradientCheckpointing');
  }

  /**
   * Sums (`op: 'sum'`, default 'mean') the trainable tensors' gradients over the ranks of `group`, in buckets of
   * `bucketBytes` (default 25 MiB, as PyTorch's DDP): call it after backward and before {@link optimizerStep},
   * whose clipping then sees the global gradient. With `sum`, scale each rank's backward by its share of the
   * global batch (its label tokens over all ranks' tokens for cross-entropy) to get the gradient one process
   * would compute on the whole batch.
   */
  async reduceGradients(group: ProcessGroup, options?: { op?: 'sum' | 'mean'; bucketBytes?: number }): Promise<void> {
    const o = knownKeys('options', options, ['op', 'bucketBytes']);
    if (!(group instanceof ProcessGroup)) throw invalidParameterError('group', 'ProcessGroup', group);
    const op = (o.op ?? 'mean') as 'sum' | 'mean';
    if (op !== 'sum' && op !== 'mean') throw invalidParameterError('op', 'one of sum, mean', op);
    const bucketBytes = optional(o.bucketBytes, 25 * 1024 * 1024, (v) => integerInRange('bucketBytes', v, 1, 2 ** 40));
    await group.collective(this.live().reduceGradients(group.nativeHandle, { op, bucketBytes }));
  }

  /**
   * Replaces every parameter with the tensors of a safetensors file (strict: same names and shapes), in place.
   * Refused on an int8 model (its Linear weights are packed; load the file as a model directory instead).
   */
  async loadWeights(path: string): Promise<void> {
    this.requireFloatWeights('Blip2Model.loadWeights');
    if (typeof path !== 'string' || path.length === 0) throw invalidParameterError('path', 'safetensors file path', path);
    await withCallerStack(this.live().loadWeights(path), 'Blip2Model.loadWeights');
  }

  /** Optimizer moments, step and the generator state, as safetensors (atomic). */
  async saveOptimizerState(path: string): Promise<void> {
    return withCallerStack(this.live().saveOptimizerState(path), 'Blip2Model.saveOptimizerState');
  }

  async loadOptimizerState(path: string): Promise<void> {
    return withCallerStack(this.live().loadOptimizerState(path), 'Blip2Model.loadOptimizerState');
  }

  /** True when the language model is decoder-only (OPT): prompts are left-padded and BOS leads generated sequences. */
  get decoderOnly(): boolean {
    return familyOf(this.config).isDecoderOnly;
  }

  /**
   * Encodes a batch once (vision -> Q-Former -> projection -> T5 encoder, or OPT's pass over the queries and the
   * left-padded prompt) and opens a KV-cached decoding session with each image's row repeated `expand` times
   * ([img0 x expand, img1 x expand, ...], like torch.repeat_interleave). Feed the start token first
   * (decoder_start_token_id; OPT ignores it and answers with the prompt's next-token logits).
   */
  async startDecoding(
    inputs: Pick<ForwardInputs, 'pixelValues' | 'inputIds' | 'attentionMask'>,
    options?: { expand?: number },
  ): Promise<DecoderSession> {
    const i = knownKeys('inputs', inputs, ['pixelValues', 'inputIds', 'attentionMask']);
    const o = knownKeys('options', options, ['expand']);
    const expand = optional(o.expand, 1, (v) => integerInRange('expand', v, 1, 4096));
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
    const decoder = await withCallerStack(this.live().startDecoding({ pixelValues, inputIds, attentionMask }, expand), 'Blip2Model.startDecoding');
    return new NativeDecoderSession(decoder, batch * expand, this.config.text_config.vocab_size);
  }

  /** Writes every parameter to one safetensors file (atomically). Refused on an int8 model (no fp32 Linear weights). */
  async save(path: string): Promise<void> {
    this.requireFloatWeights('Blip2Model.save');
    if (typeof path !== 'string' || path.length === 0) throw invalidParameterError('path', 'file path', path);
    return withCallerStack(this.live().save(path), 'Blip2Model.save');
  }

  /** Frees the weights. Calls in flight finish first; later calls throw. */
  dispose(): void {
    this.handle.dispose();
  }

  /** Throws {@link int8RefusalMessage} for `operation` when the model was loaded with dtype 'int8'. */
  private requireFloatWeights(operation: string): void {
    if (this.live().info().dtype === 'int8') throw new Error(int8RefusalMessage(operation));
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
