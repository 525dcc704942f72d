/**
 * Loads the compiled addon (build/Release/blip2_progressive.node, or a prebuilt binary under prebuilds/) and
 * describes its surface. When it cannot be loaded, the error says which file was looked for, the platform,
 * the loader's own message and the command that fixes it.
 */
import { createRequire } from 'node:module';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Blip2Config } from './model/config.js';
import { NativeError } from './errors.js';
import { explainLoadFailure, locateAddon, type AddonLocation } from '../scripts/addon-status.mjs';

export type { AddonLocation };

/** A tensor crossing the native boundary: row-major data and its shape. */
export interface NativeTensor<T extends ArrayLike<number | bigint> = Float32Array | Int32Array | BigInt64Array | Uint8Array> {
  data: T;
  shape: number[];
}

/** A tensor returned by the addon. Floating tensors arrive as float32, integer ones as int64. */
export type OutputTensor =
  | { dtype: 'float32'; data: Float32Array; shape: number[] }
  | { dtype: 'int64'; data: BigInt64Array; shape: number[] };

/** The tensors a forward pass can return, by name (the addon's list: `native().names().forwardOutputs`). */
export const FORWARD_OUTPUTS = [
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
] as const;

export type ForwardOutputName = (typeof FORWARD_OUTPUTS)[number];

/**
 * The dtypes a model loads in (the addon's list: `native().names().dtypes`); 'auto' is resolved before loading.
 * What each one means: {@link Dtype} (lib/model/blip2-model.ts).
 */
export const LOAD_DTYPES = ['float32', 'bfloat16', 'float16', 'bfloat16-mixed', 'int8'] as const;

export interface NativeForwardInputs {
  pixelValues: NativeTensor<Float32Array>;
  inputIds: NativeTensor<Int32Array | BigInt64Array>;
  attentionMask?: NativeTensor<Int32Array | BigInt64Array>;
  labels?: NativeTensor<Int32Array | BigInt64Array>;
  decoderInputIds?: NativeTensor<Int32Array | BigInt64Array>;
  imageRepeat?: number;
}

export interface NativeModelInfo {
  numParameters: number;
  numTensors: number;
  dtype: string;
  device: string;
  threads: number;
}

export interface NativeModel {
  startDecoding(
    inputs: Pick<NativeForwardInputs, 'pixelValues' | 'inputIds' | 'attentionMask'>,
    expand: number,
  ): Promise<NativeDecoder>;
  forward(inputs: NativeForwardInputs, outputs: ForwardOutputName[]): Promise<Partial<Record<ForwardOutputName, OutputTensor>>>;
  save(path: string): Promise<void>;
  info(): NativeModelInfo;
  addLora(config: NativeLoraConfig): Promise<LoraSummary>;
  removeLora(): Promise<void>;
  loraInfo(): LoraSummary;
  loadAdapterWeights(path: string): Promise<void>;
  saveAdapterWeights(path: string): Promise<void>;
  mergeLora(): Promise<void>;
  unmergeLora(): Promise<void>;
  setTraining(training: boolean): Promise<void>;
  backwardCrossEntropy(inputs: NativeForwardInputs, options: { labelSmoothing: number; scale: number }): Promise<number>;
  backwardWeighted(
    inputs: NativeForwardInputs,
    weights: NativeTensor<Float32Array>,
    options: { scale: number },
  ): Promise<{ loss: number; sequenceLogprobs: Float64Array }>;
  optimizerStep(options: NativeAdamWOptions): Promise<{ gradNorm: number; step: number }>;
  zeroGrad(): Promise<void>;
  loraTensors(which: 'weights' | 'grads'): Promise<Record<string, OutputTensor>>;
  saveOptimizerState(path: string): Promise<void>;
  loadOptimizerState(path: string): Promise<void>;
  setFullTraining(on: boolean, prefixes?: string[]): Promise<void>;
  loadWeights(path: string): Promise<void>;
  setGradientCheckpointing(on: boolean): Promise<void>;
  reduceGradients(group: object, options: { op: string; bucketBytes: number }): Promise<void>;
  dispose(): void;
  readonly disposed: boolean;
}

/** The addon's decoder object: one KV-cached decoding session (see model/decoder.ts). */
export interface NativeDecoder {
  step(tokens: Int32Array, reorder: Int32Array | undefined, logprobs: boolean): Promise<Float32Array>;
  dispose(): void;
}

export interface NativeLoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  targets?: string[];
  targetRegex?: string;
  seed?: number;
}

/** What the model reports about its LoRA adapters. */
export interface LoraSummary {
  modules: number;
  trainableParameters: number;
  totalParameters: number;
  merged: boolean;
  moduleNames: string[];
}

export interface NativeAdamWOptions {
  lr: number;
  maxGradNorm: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface NativeLoadOptions {
  dtype: (typeof LOAD_DTYPES)[number];
  device: string;
  threads: number;
  seed?: number;
}

export interface NativeRuntimeInfo {
  libtorch: string;
  cuda: boolean;
  cudaDevices: number;
  threads: number;
  parallelInfo: string;
}

/** The names the addon accepts, for TypeScript's lists to be checked against. */
export interface NativeNames {
  forwardOutputs: string[];
  activations: string[];
  dtypes: string[];
}

export interface NativeAddon {
  loadModel(dir: string, config: Blip2Config, options: NativeLoadOptions): Promise<NativeModel>;
  randomModel(config: Blip2Config, options: NativeLoadOptions): Promise<NativeModel>;
  /**
   * The tensors a config expects, without allocating them; `matmul` marks those the bfloat16-mixed mode stores in
   * bf16 (Linear weights and biases, an untied LM head).
   */
  expectedTensors(config: Blip2Config): { name: string; shape: number[]; matmul: boolean }[];
  runtimeInfo(): NativeRuntimeInfo;
  names(): NativeNames;
  /**
   * Switches the process-wide per-phase timers on or off and returns (and resets) the totals so far, for the phases
   * that ran: vision, qformer, projection, textEncoder, crossKV, decoderStep, lmHead, reorder, scores.
   */
  phaseProfile(on: boolean): Record<string, { seconds: number; calls: number }>;
  initProcessGroup(options: {
    rank: number; worldSize: number; masterAddr: string; masterPort: number; timeoutMs: number; backend: string; fingerprint: string;
  }): Promise<object>;
  groupAllReduce(group: object, values: Float64Array, op: string): Promise<Float64Array>;
  groupBarrier(group: object): Promise<void>;
  groupDestroy(group: object): Promise<void>;
  readonly distributedBackends: readonly string[];
}

/** The package root: the nearest folder above this module that holds package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('blip2-progressive: cannot find the package root (no package.json above the module)');
    dir = parent;
  }
  return dir;
}

/**
 * The OMP_WAIT_POLICY to set before libtorch loads (GNU OpenMP reads it once, at load), or undefined to keep
 * OpenMP's default (idle threads spin briefly, then sleep). With OpenBLAS's pthread build as the system BLAS, BLAS
 * runs its own threads next to OpenMP's team, and OpenMP threads spinning after a parallel region steal the cores
 * the BLAS threads need, so they sleep at once (PASSIVE). With the OpenMP build of OpenBLAS (what
 * scripts/bootstrap.sh installs) or a libtorch that brings its own BLAS there is one team, and PASSIVE only adds a
 * wake-up to every parallel region: it made a bf16 greedy decode of the base-size model (20 steps of 8 rows, many
 * small GEMMs) about twice as slow (README, Benchmarks).
 */
export function openmpWaitPolicy(blasLibrary: string | undefined = systemBlas()): 'PASSIVE' | undefined {
  return blasLibrary !== undefined && /openblas-pthread/.test(blasLibrary) ? 'PASSIVE' : undefined;
}

/** Where the system's libblas.so.3 resolves to (Debian's alternatives), or undefined when there is none. */
function systemBlas(): string | undefined {
  const multiarch = process.arch === 'x64' ? 'x86_64-linux-gnu' : process.arch === 'arm64' ? 'aarch64-linux-gnu' : undefined;
  if (process.platform !== 'linux' || !multiarch) return undefined;
  for (const dir of [`/usr/lib/${multiarch}`, `/lib/${multiarch}`]) {
    try {
      return realpathSync(join(dir, 'libblas.so.3'));
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

let cached: NativeAddon | undefined;
let failure: NativeError | undefined;

/**
 * Loads the addon once (with node-gyp-build: build/Release from a source build first, then the prebuilt binary
 * under prebuilds/<platform>-<arch>/). It is loaded lazily, at the first native call, so package managers that
 * skip install scripts still get the prebuilt binary. When it cannot be loaded the error names the file, the
 * loader's reason and the command that fixes it (the same text the install script prints).
 */
export function native(): NativeAddon {
  if (cached) return cached;
  if (failure) throw failure;
  const root = packageRoot();
  const policy = openmpWaitPolicy();
  if (policy) process.env.OMP_WAIT_POLICY ??= policy;
  const location = locateAddon(root);
  if (!location) {
    failure = new NativeError(explainLoadFailure(root, { reason: 'no native build was found' }), { operation: 'loading the addon' });
    throw failure;
  }
  try {
    cached = createRequire(import.meta.url)(location.file) as NativeAddon;
  } catch (err) {
    failure = new NativeError(explainLoadFailure(root, { ...location, reason: (err as Error).message }), { operation: 'loading the addon', cause: err });
    throw failure;
  }
  return cached;
}

/** Which addon file {@link native} loads (or would load) and whether it is prebuilt; undefined when there is none. */
export function addonLocation(): AddonLocation | undefined {
  return locateAddon(packageRoot());
}

/**
 * Runs a native promise and rethrows its failure with the caller's stack (errors raised on libuv's pool have no JS
 * stack of their own) as a {@link NativeError} naming `operation` (`Blip2Model.forward`), the addon's message
 * unchanged and its error as the `cause`. A TypeError or RangeError from the addon's argument readers stays what it
 * is: a bad argument.
 */
export async function withCallerStack<T>(promise: Promise<T>, operation: string): Promise<T> {
  const site = new Error();
  try {
    return await promise;
  } catch (err) {
    const error = nativeFailure(err, operation);
    error.stack = `${error.name}: ${error.message}\n${(site.stack ?? '').split('\n').slice(2).join('\n')}`;
    throw error;
  }
}

/** What an addon call's failure is rethrown as (see {@link withCallerStack}). */
function nativeFailure(err: unknown, operation: string): Error {
  if (err instanceof TypeError || err instanceof RangeError || err instanceof NativeError) return err;
  return new NativeError(err instanceof Error ? err.message : String(err), { operation, cause: err });
}
