// Blip2VisionModel: EVA-style ViT. Pre-LN transformer blocks with a fused qkv projection.
#pragma once

#include <memory>
#include <vector>

#include "config.h"
#include "layers.h"

namespace blip2 {

struct VisionEmbeddings {
  torch::Tensor class_embedding;           // (1, 1, D)
  torch::Tensor patch_weight, patch_bias;  // patch_embedding: Conv2d(C, D, kernel=stride=patch)
  torch::Tensor position_embedding;        // (1, 1 + num_patches, D)
  int64_t patch_size;
  VisionEmbeddings(const Scope& scope, const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& pixel_values) const;  // (B, C, H, W) -> (B, 1+N, D)
};

struct VisionAttention {
  Linear qkv;         // fused (3D, D); its bias is cat(q_bias, k part, v_bias) as stored in the weights
  Linear projection;  // (D, D)
  int64_t num_heads, head_dim;
  double scale;
  VisionAttention(const Scope& scope, const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& x) const;
};

struct VisionMlp {
  Linear fc1, fc2;
  std::string act;
  VisionMlp(const Scope& scope, const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& x) const { return fc2.forward(activation(act, fc1.forward(x))); }
};

struct VisionEncoderLayer {
  VisionAttention self_attn;
  LayerNorm layer_norm1;
  VisionMlp mlp;
  LayerNorm layer_norm2;
  VisionEncoderLayer(const Scope& scope, const VisionConfig& c);
  torch::Tensor forward(torch::Tensor x) const;
};

struct VisionOutput {
  torch::Tensor last_hidden_state;  // (B, 1+N, D), post_layernorm applied
  torch::Tensor pooler_output;      // (B, D) = post_layernorm(last_hidden_state[:, 0])
};

struct VisionModel {
  VisionEmbeddings embeddings;
  std::vector<std::unique_ptr<VisionEncoderLayer>> layers;
  LayerNorm post_layernorm;
  bool gradient_checkpointing = false;  // recompute each layer in backward (only matters when it is trained)
  VisionModel(const Scope& scope, const VisionConfig& c);
  VisionOutput forward(const torch::Tensor& pixel_values) const;
};

}  // namespace blip2
