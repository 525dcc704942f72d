// Plain configuration structs for BLIP-2 (vision tower, Q-Former, T5). TypeScript parses and validates
// config.json (applying Hugging Face's defaults) and hands these over fully filled in.
#pragma once

#include <cstdint>
#include <string>

namespace blip2 {

struct VisionConfig {
  int64_t hidden_size = 1408;        // EVA ViT-g width
  int64_t intermediate_size = 6144;  // MLP width
  int64_t num_hidden_layers = 39;
  int64_t num_attention_heads = 16;
  int64_t num_channels = 3;
  int64_t image_size = 224;
  int64_t patch_size = 14;
  double layer_norm_eps = 1e-6;
  bool qkv_bias = true;              // fused qkv Linear carries a bias (q and v parts trained, k part zero at init)
  std::string hidden_act = "gelu";   // "gelu" (erf), "gelu_new"/"gelu_pytorch_tanh", "quick_gelu", "relu"
};

struct QFormerConfig {
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  double layer_norm_eps = 1e-12;
  int64_t cross_attention_frequency = 2;  // layer i has cross-attention iff i % frequency == 0
  int64_t encoder_hidden_size = 1408;     // width of the image features it attends to
  std::string hidden_act = "gelu";
};

struct T5Config {
  int64_t vocab_size = 32128;
  int64_t d_model = 2048;
  int64_t d_kv = 64;                   // per-head width; inner_dim = num_heads * d_kv need not equal d_model
  int64_t d_ff = 5120;
  int64_t num_layers = 24;             // encoder blocks
  int64_t num_decoder_layers = 24;
  int64_t num_heads = 32;
  int64_t relative_attention_num_buckets = 32;
  int64_t relative_attention_max_distance = 128;
  double layer_norm_epsilon = 1e-6;
  bool is_gated_act = true;            // "gated-gelu": wo(act(wi_0 x) * wi_1 x); otherwise wo(act(wi x))
  std::string dense_act_fn = "gelu_new";
  bool tie_word_embeddings = false;    // Flan-T5: untied lm_head, no d_model^-0.5 rescale
  int64_t decoder_start_token_id = 0;
  int64_t pad_token_id = 0;
  int64_t eos_token_id = 1;

  int64_t inner_dim() const { return num_heads * d_kv; }
};

struct Blip2Config {
  VisionConfig vision;
  QFormerConfig qformer;
  T5Config text;
  int64_t num_query_tokens = 32;
};

}  // namespace blip2
