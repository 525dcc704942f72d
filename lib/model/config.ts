/**
 * BLIP-2 `config.json`: parsed, validated and completed with Hugging Face's defaults (transformers 4.44's
 * Blip2Config / Blip2VisionConfig / Blip2QFormerConfig / T5Config / OPTConfig), then handed to the native side as a
 * plain object. The language model is T5 (Flan-T5) or OPT, told apart by `text_config.model_type`. Keys this library
 * does not use are kept out of the resolved config but are not errors: real
 * models' config.json files carry many (architectures, torch_dtype, dropout rates, ...).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, isPlainObject } from '../is.js';
import { ConfigError, FileError } from '../errors.js';
import { readJsonFile } from '../io/json.js';

/** Vision tower settings (EVA ViT). */
export interface VisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Always 3: transformers hard-codes an RGB patch embedding. */
  num_channels: number;
  image_size: number;
  patch_size: number;
  layer_norm_eps: number;
  qkv_bias: boolean;
  hidden_act: string;
}

/** Q-Former settings. */
export interface QFormerConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  layer_norm_eps: number;
  cross_attention_frequency: number;
  /** Width of the image features; Blip2Config forces it to vision_config.hidden_size. */
  encoder_hidden_size: number;
  hidden_act: string;
}

/** The language-model families a config may name in `text_config.model_type`. */
export const TEXT_MODEL_TYPES = ['t5', 'opt'] as const;

/** One of {@link TEXT_MODEL_TYPES}. */
export type TextModelType = (typeof TEXT_MODEL_TYPES)[number];

/** T5 language-model settings (T5Config). */
export interface T5TextConfig {
  model_type: 't5';
  vocab_size: number;
  d_model: number;
  d_kv: number;
  d_ff: number;
  num_layers: number;
  num_decoder_layers: number;
  num_heads: number;
  relative_attention_num_buckets: number;
  relative_attention_max_distance: number;
  layer_norm_epsilon: number;
  feed_forward_proj: string;
  is_gated_act: boolean;
  dense_act_fn: string;
  tie_word_embeddings: boolean;
  decoder_start_token_id: number;
  pad_token_id: number;
  eos_token_id: number;
}

/** OPT language-model settings (OPTConfig), with HF's defaults (those of facebook/opt-125m). */
export interface OptTextConfig {
  model_type: 'opt';
  /** Rows of embed_tokens (default 50272). */
  vocab_size: number;
  /** Width of the decoder layers (default 768). */
  hidden_size: number;
  /** Decoder layers (default 12). */
  num_hidden_layers: number;
  /** Width of fc1's output (default 3072). */
  ffn_dim: number;
  /** Default 12; divides hidden_size. */
  num_attention_heads: number;
  /** Learned positions; embed_positions has 2 rows more (OPT's offset). Default 2048. */
  max_position_embeddings: number;
  /** Layer norm before attention and FFN (pre-LN, true for all OPT but 350m) or after. Default true. */
  do_layer_norm_before: boolean;
  /**
   * Width of the token embeddings; project_in / project_out exist when it differs from hidden_size. Default
   * hidden_size.
   */
  word_embed_proj_dim: number;
  /** FFN activation. Default "relu". */
  activation_function: string;
  /** Biases on q/k/v/out_proj, fc1, fc2. Default true. */
  enable_bias: boolean;
  /** Layer norms with weight and bias. Default true. */
  layer_norm_elementwise_affine: boolean;
  /** `_remove_final_layer_norm`: no final_layer_norm even with do_layer_norm_before. Default false. */
  remove_final_layer_norm: boolean;
  /** lm_head shares embed_tokens' weight. Default true. */
  tie_word_embeddings: boolean;
  /** Default 1. */
  pad_token_id: number;
  /** Default 2. */
  bos_token_id: number;
  /** Default 2 (blip2-opt-2.7b: 50118, a newline). */
  eos_token_id: number;
}

/** The language model's settings: a union told apart by `model_type`. */
export type TextConfig = T5TextConfig | OptTextConfig;

/** A fully resolved BLIP-2 config. */
export interface Blip2Config {
  model_type: 'blip-2';
  num_query_tokens: number;
  vision_config: VisionConfig;
  qformer_config: QFormerConfig;
  text_config: TextConfig;
}

/**
 * The activation functions a config may name (hidden_act, dense_act_fn): the addon's `native().names().activations`.
 */
export const ACTIVATIONS: readonly string[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'quick_gelu', 'relu', 'silu', 'swish'];

export { ConfigError };

type Raw = Record<string, unknown>;

/**
 * Upper bounds on every size in a config, far above any released BLIP-2 (EVA ViT-g: width 1408, 39 layers;
 * Flan-T5-XXL: d_model 4096, d_ff 10240, 24 layers, vocab 32128) but small enough that no single bound can ask for
 * unbounded memory; {@link MAX_PARAMETERS} bounds their product.
 */
export const CONFIG_LIMITS = Object.freeze({
  /** hidden_size, d_model, d_kv. */
  width: 65536,
  /** intermediate_size, d_ff. */
  feedForward: 262144,
  /** num_hidden_layers, num_layers, num_decoder_layers. */
  layers: 1024,
  /** num_attention_heads, num_heads. */
  heads: 1024,
  /** image_size and patch_size, in pixels. */
  imageSize: 8192,
  /** vocab_size (and so every token id). */
  vocab: 1 << 20,
  /** num_query_tokens. */
  queryTokens: 4096,
  /** relative_attention_num_buckets and relative_attention_max_distance. */
  relativeAttention: 1 << 16,
  /** max_position_embeddings (OPT's learned positions). */
  positions: 1 << 20,
});

/** The largest parameter count a config may describe (100 billion: 400 GB in float32). */
export const MAX_PARAMETERS = 1e11;

function section(source: string, raw: Raw, key: string): Raw {
  const value = raw[key];
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ConfigError(`Expected object for ${key} in ${source} but received ${describe(value)}`);
  return value;
}

function reader(source: string, path: string, raw: Raw) {
  const where = (key: string) => `${path ? `${path}.` : ''}${key} in ${source}`;
  return {
    int(key: string, fallback: number, min: number, max: number): number {
      const v = raw[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        throw new ConfigError(`Expected integer between ${min} and ${max} for ${where(key)} but received ${describe(v)}`);
      }
      return v;
    },
    positive(key: string, fallback: number): number {
      const v = raw[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
        throw new ConfigError(`Expected positive number for ${where(key)} but received ${describe(v)}`);
      }
      return v;
    },
    bool(key: string, fallback: boolean): boolean {
      const v = raw[key] ?? fallback;
      if (typeof v !== 'boolean') throw new ConfigError(`Expected boolean for ${where(key)} but received ${describe(v)}`);
      return v;
    },
    act(key: string, fallback: string): string {
      const v = raw[key] ?? fallback;
      if (typeof v !== 'string' || !ACTIVATIONS.includes(v)) {
        throw new ConfigError(`Expected one of ${ACTIVATIONS.join(', ')} for ${where(key)} but received ${describe(v)}`);
      }
      return v;
    },
    string(key: string, fallback: string): string {
      const v = raw[key] ?? fallback;
      if (typeof v !== 'string') throw new ConfigError(`Expected string for ${where(key)} but received ${describe(v)}`);
      return v;
    },
  };
}

function divisible(source: string, what: string, a: number, b: number, bName: string): void {
  if (a % b !== 0) throw new ConfigError(`${what} (${a}) must be divisible by ${bName} (${b}) in ${source}`);
}

const L = CONFIG_LIMITS;

function parseVision(source: string, raw: Raw): VisionConfig {
  const r = reader(source, 'vision_config', raw);
  const c: VisionConfig = {
    hidden_size: r.int('hidden_size', 1408, 1, L.width),
    intermediate_size: r.int('intermediate_size', 6144, 1, L.feedForward),
    num_hidden_layers: r.int('num_hidden_layers', 39, 0, L.layers),
    num_attention_heads: r.int('num_attention_heads', 16, 1, L.heads),
    num_channels: 3,
    image_size: r.int('image_size', 224, 1, L.imageSize),
    patch_size: r.int('patch_size', 14, 1, L.imageSize),
    layer_norm_eps: r.positive('layer_norm_eps', 1e-6),
    qkv_bias: r.bool('qkv_bias', true),
    hidden_act: r.act('hidden_act', 'gelu'),
  };
  divisible(source, 'vision_config.hidden_size', c.hidden_size, c.num_attention_heads, 'num_attention_heads');
  divisible(source, 'vision_config.image_size', c.image_size, c.patch_size, 'patch_size');
  return c;
}

function parseQFormer(source: string, raw: Raw, visionHidden: number): QFormerConfig {
  const r = reader(source, 'qformer_config', raw);
  const c: QFormerConfig = {
    hidden_size: r.int('hidden_size', 768, 1, L.width),
    num_hidden_layers: r.int('num_hidden_layers', 12, 0, L.layers),
    num_attention_heads: r.int('num_attention_heads', 12, 1, L.heads),
    intermediate_size: r.int('intermediate_size', 3072, 1, L.feedForward),
    layer_norm_eps: r.positive('layer_norm_eps', 1e-12),
    cross_attention_frequency: r.int('cross_attention_frequency', 2, 1, L.layers),
    // Blip2Config.__init__: self.qformer_config.encoder_hidden_size = self.vision_config.hidden_size
    encoder_hidden_size: visionHidden,
    hidden_act: r.act('hidden_act', 'gelu'),
  };
  divisible(source, 'qformer_config.hidden_size', c.hidden_size, c.num_attention_heads, 'num_attention_heads');
  return c;
}

function parseText(source: string, raw: Raw): TextConfig {
  // Blip2Config: text_config's model_type defaults to "opt"
  const modelType = raw.model_type ?? 'opt';
  if (modelType === 't5') return parseT5(source, raw);
  if (modelType === 'opt') return parseOpt(source, raw);
  throw new ConfigError(
    `Unsupported text_config.model_type ${describe(modelType)} in ${source}: supported are ${TEXT_MODEL_TYPES.map((t) => `"${t}"`).join(', ')} ` +
      '(Flan-T5 and OPT language models)',
  );
}

function parseOpt(source: string, raw: Raw): OptTextConfig {
  const r = reader(source, 'text_config', raw);
  const vocabSize = r.int('vocab_size', 50272, 1, L.vocab);
  const hiddenSize = r.int('hidden_size', 768, 1, L.width);
  const c: OptTextConfig = {
    model_type: 'opt',
    vocab_size: vocabSize,
    hidden_size: hiddenSize,
    num_hidden_layers: r.int('num_hidden_layers', 12, 1, L.layers),
    ffn_dim: r.int('ffn_dim', 3072, 1, L.feedForward),
    num_attention_heads: r.int('num_attention_heads', 12, 1, L.heads),
    max_position_embeddings: r.int('max_position_embeddings', 2048, 1, L.positions),
    do_layer_norm_before: r.bool('do_layer_norm_before', true),
    // OPTConfig: word_embed_proj_dim if word_embed_proj_dim is not None else hidden_size
    word_embed_proj_dim: r.int('word_embed_proj_dim', hiddenSize, 1, L.width),
    activation_function: r.act('activation_function', 'relu'),
    enable_bias: r.bool('enable_bias', true),
    layer_norm_elementwise_affine: r.bool('layer_norm_elementwise_affine', true),
    remove_final_layer_norm: r.bool('_remove_final_layer_norm', false),
    tie_word_embeddings: r.bool('tie_word_embeddings', true),
    pad_token_id: r.int('pad_token_id', 1, 0, vocabSize - 1),
    bos_token_id: r.int('bos_token_id', 2, 0, vocabSize - 1),
    eos_token_id: r.int('eos_token_id', 2, 0, vocabSize - 1),
  };
  divisible(source, 'text_config.hidden_size', c.hidden_size, c.num_attention_heads, 'num_attention_heads');
  return c;
}

function parseT5(source: string, raw: Raw): T5TextConfig {
  const r = reader(source, 'text_config', raw);
  const feedForwardProj = r.string('feed_forward_proj', 'relu');
  // T5Config: act_info = feed_forward_proj.split("-"); gated iff the first part is "gated"
  const actInfo = feedForwardProj.split('-');
  const gated = actInfo[0] === 'gated';
  if ((actInfo.length > 1 && !gated) || actInfo.length > 2) {
    throw new ConfigError(
      `Expected "gated-{ACT_FN}" or "{ACT_FN}" for text_config.feed_forward_proj in ${source} but received ${describe(feedForwardProj)}`,
    );
  }
  // for backwards compatibility transformers maps "gated-gelu" to gelu_new; explicit keys in the file win
  const derivedAct = feedForwardProj === 'gated-gelu' ? 'gelu_new' : actInfo[actInfo.length - 1]!;
  const numLayers = r.int('num_layers', 6, 0, L.layers);
  const vocabSize = r.int('vocab_size', 32128, 1, L.vocab);
  const c: T5TextConfig = {
    model_type: 't5',
    vocab_size: vocabSize,
    d_model: r.int('d_model', 512, 1, L.width),
    d_kv: r.int('d_kv', 64, 1, L.width),
    d_ff: r.int('d_ff', 2048, 1, L.feedForward),
    num_layers: numLayers,
    num_decoder_layers: r.int('num_decoder_layers', numLayers, 0, L.layers),
    num_heads: r.int('num_heads', 8, 1, L.heads),
    relative_attention_num_buckets: r.int('relative_attention_num_buckets', 32, 2, L.relativeAttention),
    relative_attention_max_distance: r.int('relative_attention_max_distance', 128, 2, L.relativeAttention),
    layer_norm_epsilon: r.positive('layer_norm_epsilon', 1e-6),
    feed_forward_proj: feedForwardProj,
    is_gated_act: r.bool('is_gated_act', gated),
    dense_act_fn: r.act('dense_act_fn', derivedAct),
    tie_word_embeddings: r.bool('tie_word_embeddings', true),
    decoder_start_token_id: r.int('decoder_start_token_id', 0, 0, vocabSize - 1),
    pad_token_id: r.int('pad_token_id', 0, 0, vocabSize - 1),
    eos_token_id: r.int('eos_token_id', 1, 0, vocabSize - 1),
  };
  if (c.num_layers < 1 || c.num_decoder_layers < 1) {
    throw new ConfigError(`text_config needs at least one encoder and one decoder block in ${source}`);
  }
  return c;
}

/**
 * Resolves a raw BLIP-2 config object (the contents of config.json) into a complete, validated config.
 * `source` names the file in error messages.
 */
export function parseBlip2Config(raw: unknown, source = 'config'): Blip2Config {
  if (!isPlainObject(raw)) throw new ConfigError(`Expected a JSON object in ${source} but received ${describe(raw)}`);
  if (raw.model_type !== 'blip-2') {
    throw new ConfigError(
      `Unsupported model_type ${describe(raw.model_type)} in ${source}: expected "blip-2" (a Blip2ForConditionalGeneration checkpoint)`,
    );
  }
  const vision = parseVision(source, section(source, raw, 'vision_config'));
  const qformer = parseQFormer(source, section(source, raw, 'qformer_config'), vision.hidden_size);
  const text = parseText(source, section(source, raw, 'text_config'));
  const config: Blip2Config = {
    model_type: 'blip-2',
    num_query_tokens: reader(source, '', raw).int('num_query_tokens', 32, 1, L.queryTokens),
    vision_config: vision,
    qformer_config: qformer,
    text_config: text,
  };
  const parameters = estimateParameters(config);
  if (parameters > MAX_PARAMETERS) {
    throw new ConfigError(
      `${source} describes a model of ${parameters.toExponential(2)} parameters, more than the ${MAX_PARAMETERS.toExponential(0)} this library accepts`);
  }
  return config;
}

/**
 * The parameter count a config describes, computed from its sizes (nothing is allocated or listed); equal to the
 * sum over {@link Blip2Model.expectedTensors}.
 */
export function estimateParameters(config: Blip2Config): number {
  const v = config.vision_config;
  const patches = (v.image_size / v.patch_size) ** 2;
  const visionLayer = 3 * v.hidden_size * v.hidden_size + (v.qkv_bias ? 3 * v.hidden_size : 0) + linear(v.hidden_size, v.hidden_size) +
    linear(v.hidden_size, v.intermediate_size) + linear(v.intermediate_size, v.hidden_size) + 4 * v.hidden_size;
  const vision = v.hidden_size * (1 + 3 * v.patch_size ** 2 + 1 + (patches + 1) + 2) + v.num_hidden_layers * visionLayer;
  const q = config.qformer_config;
  const H = q.hidden_size;
  const attention = (keyWidth: number) => linear(H, H) + 2 * linear(keyWidth, H) + linear(H, H) + 2 * H;
  const crossLayers = Math.ceil(q.num_hidden_layers / q.cross_attention_frequency);
  const qformer = 2 * H + q.num_hidden_layers * (attention(H) + linear(H, q.intermediate_size) + linear(q.intermediate_size, H) + 2 * H) +
    crossLayers * attention(q.encoder_hidden_size) + config.num_query_tokens * H;
  const t = config.text_config;
  const text = t.model_type === 't5' ? t5Parameters(t) : optParameters(t);
  return vision + qformer + linear(H, textWidth(t)) + text;
}

/** The width language_projection maps the Q-Former's output to: T5's d_model, OPT's hidden_size. */
export function textWidth(t: TextConfig): number {
  return t.model_type === 't5' ? t.d_model : t.hidden_size;
}

function t5Parameters(t: T5TextConfig): number {
  const d = t.d_model;
  const attention5 = 4 * d * t.num_heads * t.d_kv + d;
  const feedForward = (t.is_gated_act ? 3 : 2) * d * t.d_ff + d;
  const bias = t.relative_attention_num_buckets * t.num_heads;
  const encoder = d + t.num_layers * (attention5 + feedForward) + bias;
  const decoder = d + t.num_decoder_layers * (2 * attention5 + feedForward) + bias;
  return t.vocab_size * d * (t.tie_word_embeddings ? 1 : 2) + encoder + decoder;
}

/**
 * OPTForCausalLM: embed_tokens (vocab × word_embed_proj_dim), embed_positions ((positions + 2) × hidden),
 * project_in / project_out without bias when word_embed_proj_dim ≠ hidden, per layer q/k/v/out_proj, fc1, fc2 and two
 * layer norms, the final layer norm (pre-LN without `_remove_final_layer_norm`), lm_head (word_embed_proj_dim →
 * vocab, no bias) only when untied.
 */
function optParameters(t: OptTextConfig): number {
  const h = t.hidden_size;
  const proj = t.word_embed_proj_dim;
  const dense = (inFeatures: number, outFeatures: number) => inFeatures * outFeatures + (t.enable_bias ? outFeatures : 0);
  const layerNorm = t.layer_norm_elementwise_affine ? 2 * h : 0;
  const layer = 4 * dense(h, h) + dense(h, t.ffn_dim) + dense(t.ffn_dim, h) + 2 * layerNorm;
  const projections = proj === h ? 0 : 2 * proj * h;
  const finalNorm = t.do_layer_norm_before && !t.remove_final_layer_norm ? layerNorm : 0;
  const embeddings = t.vocab_size * proj + (t.max_position_embeddings + 2) * h;
  return embeddings + projections + t.num_hidden_layers * layer + finalNorm + (t.tie_word_embeddings ? 0 : t.vocab_size * proj);
}

/** Weights and bias of a Linear(in, out). */
function linear(inFeatures: number, outFeatures: number): number {
  return inFeatures * outFeatures + outFeatures;
}

/**
 * Reads and resolves `<dir>/config.json`, with errors that name the file and the fix.
 * @throws FileError for a directory that does not exist, a missing config.json or one that is not JSON;
 *   ConfigError for a config.json whose content is wrong (naming the key).
 */
export async function readBlip2Config(dir: string): Promise<Blip2Config> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) {
    throw new FileError(`Model directory ${JSON.stringify(dir)} does not exist; pass a local Hugging Face snapshot directory`, { path: dir });
  }
  if (!info.isDirectory()) {
    throw new FileError(`Model path ${JSON.stringify(dir)} is not a directory; pass the folder that holds config.json`, { path: dir });
  }
  const file = join(dir, 'config.json');
  const raw = await readJsonFile(file, 'model config', { missingHint: 'a BLIP-2 model directory needs config.json and model.safetensors' });
  try {
    return parseBlip2Config(raw, file);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.message, { file, cause: err });
    throw err;
  }
}
