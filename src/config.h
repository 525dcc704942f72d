// Plain configuration structs for BLIP-2 (vision tower, Q-Former, and a T5 or OPT language model). TypeScript parses
// and validates config.json (applying Hugging Face's defaults) and hands these over fully filled in; the structs keep
// no defaults of their own, so a field the reader does not set cannot silently take a value (binding/convert.cpp
// read_config requires every one).
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace blip2 {

struct VisionConfig {
  int64_t hidden_size;        // EVA ViT-g width
  int64_t intermediate_size;  // MLP width
  int64_t num_hidden_layers;
  int64_t num_attention_heads;
  int64_t num_channels;
  int64_t image_size;
  int64_t patch_size;
  double layer_norm_eps;
  bool qkv_bias;           // fused qkv Linear carries a bias (q and v parts trained, k part zero at init)
  std::string hidden_act;  // "gelu" (erf), "gelu_new"/"gelu_pytorch_tanh", "quick_gelu", "relu"
};

struct QFormerConfig {
  int64_t hidden_size;
  int64_t num_hidden_layers;
  int64_t num_attention_heads;
  int64_t intermediate_size;
  double layer_norm_eps;
  int64_t cross_attention_frequency;  // layer i has cross-attention iff i % frequency == 0
  int64_t encoder_hidden_size;        // width of the image features it attends to
  std::string hidden_act;
};

struct T5Config {
  int64_t vocab_size;
  int64_t d_model;
  int64_t d_kv;  // per-head width; inner_dim = num_heads * d_kv need not equal d_model
  int64_t d_ff;
  int64_t num_layers;  // encoder blocks
  int64_t num_decoder_layers;
  int64_t num_heads;
  int64_t relative_attention_num_buckets;
  int64_t relative_attention_max_distance;
  double layer_norm_epsilon;
  bool is_gated_act;  // "gated-gelu": wo(act(wi_0 x) * wi_1 x); otherwise wo(act(wi x))
  std::string dense_act_fn;
  bool tie_word_embeddings;  // false in Flan-T5: untied lm_head, no d_model^-0.5 rescale
  int64_t decoder_start_token_id;
  int64_t pad_token_id;
  int64_t eos_token_id;

  int64_t inner_dim() const { return num_heads * d_kv; }
};

// OPT (decoder-only), as transformers' OPTConfig.
struct OptConfig {
  int64_t vocab_size;
  int64_t hidden_size;
  int64_t num_hidden_layers;
  int64_t ffn_dim;
  int64_t num_attention_heads;
  int64_t max_position_embeddings;  // embed_positions has max_position_embeddings + 2 rows (OPT's offset)
  bool do_layer_norm_before;        // pre-layer-norm (most sizes) or post (opt-350m)
  int64_t word_embed_proj_dim;      // token embedding width; project_in/out when it differs from hidden_size
  std::string activation_function;
  bool enable_bias;
  bool layer_norm_elementwise_affine;
  bool remove_final_layer_norm;  // transformers' _remove_final_layer_norm
  bool tie_word_embeddings;      // lm_head shares embed_tokens
  int64_t pad_token_id;
  int64_t bos_token_id;
  int64_t eos_token_id;
};

struct Blip2Config {
  VisionConfig vision;
  QFormerConfig qformer;
  std::variant<T5Config, OptConfig> text;  // text_config.model_type "t5" or "opt"
  int64_t num_query_tokens;
};

}  // namespace blip2
