/**
 * The tiny BLIP-2 of the built-in default (the feasibility study's model "B", about 2.52M parameters):
 * Hugging Face `config.json`, `preprocessor_config.json` and `generation_config.json` objects, ready to be
 * written next to a `model.safetensors` trained from scratch on the synthetic dataset. The language model
 * uses the project's 4000-piece T5 tokenizer (vocabulary rows padded to 4128).
 */
import { OPENAI_CLIP_MEAN, OPENAI_CLIP_STD } from '../image/processor.js';

/** Prompt the tiny model is trained and captioned with. */
export const SYNTH_PROMPT = 'caption:';

/** Longest generated caption in tokens (every grammar caption is shorter, EOS included). */
export const SYNTH_MAX_NEW_TOKENS = 24;

/** Vocabulary rows of the language model; ids from the tokenizer's size (4100) up are padding. */
export const SYNTH_VOCAB_SIZE = 4128;

/** Size of the fixture tokenizer (`len(tokenizer)`): ids at or above it cannot be decoded. */
export const SYNTH_TOKENIZER_SIZE = 4100;

/** Padding ids 4100–4127, always suppressed (sampling picks them and decoding them fails). */
export const SYNTH_SUPPRESSED_TOKENS: readonly number[] = Array.from(
  { length: SYNTH_VOCAB_SIZE - SYNTH_TOKENIZER_SIZE },
  (_, k) => SYNTH_TOKENIZER_SIZE + k,
);

/** `config.json` of the tiny BLIP-2 (transformers 4.44 layout; dropout 0, untied T5 head, normal(0.02) init). */
export function synthModelConfig(): Record<string, unknown> {
  return {
    architectures: ['Blip2ForConditionalGeneration'],
    model_type: 'blip-2',
    num_query_tokens: 8,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    is_encoder_decoder: true,
    tie_word_embeddings: false,
    use_decoder_only_language_model: false,
    torch_dtype: 'float32',
    vision_config: {
      model_type: 'blip_2_vision_model',
      image_size: 64,
      patch_size: 8,
      hidden_size: 96,
      intermediate_size: 384,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-6,
      attention_dropout: 0.0,
      qkv_bias: true,
      initializer_range: 0.02,
    },
    qformer_config: {
      model_type: 'blip_2_qformer',
      hidden_size: 96,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      intermediate_size: 384,
      cross_attention_frequency: 1,
      encoder_hidden_size: 96,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.0,
      attention_probs_dropout_prob: 0.0,
      layer_norm_eps: 1e-12,
      initializer_range: 0.02,
    },
    text_config: {
      model_type: 't5',
      architectures: ['T5ForConditionalGeneration'],
      vocab_size: SYNTH_VOCAB_SIZE,
      d_model: 128,
      d_kv: 32,
      d_ff: 256,
      num_layers: 2,
      num_decoder_layers: 2,
      num_heads: 4,
      relative_attention_num_buckets: 32,
      relative_attention_max_distance: 128,
      feed_forward_proj: 'gated-gelu',
      dense_act_fn: 'gelu_new',
      is_gated_act: true,
      dropout_rate: 0.0,
      classifier_dropout: 0.0,
      layer_norm_epsilon: 1e-6,
      initializer_factor: 1.0,
      tie_word_embeddings: false,
      is_encoder_decoder: true,
      decoder_start_token_id: 0,
      pad_token_id: 0,
      eos_token_id: 1,
    },
  };
}

/** `preprocessor_config.json`: 64×64, bicubic, ×1/255, OpenAI CLIP mean and std. */
export function synthPreprocessorConfig(): Record<string, unknown> {
  return {
    image_processor_type: 'BlipImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { height: 64, width: 64 },
    resample: 3,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [...OPENAI_CLIP_MEAN],
    image_std: [...OPENAI_CLIP_STD],
  };
}

/** `generation_config.json`: greedy, at most 24 new tokens, padding ids suppressed. */
export function synthGenerationConfig(): Record<string, unknown> {
  return {
    decoder_start_token_id: 0,
    eos_token_id: 1,
    pad_token_id: 0,
    max_new_tokens: SYNTH_MAX_NEW_TOKENS,
    num_beams: 1,
    do_sample: false,
    suppress_tokens: [...SYNTH_SUPPRESSED_TOKENS],
  };
}
