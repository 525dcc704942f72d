// Blip2QFormerModel: BERT-style post-LN layers over the learned query tokens; cross-attention to the image
// features in layers where layer_idx % cross_attention_frequency == 0; query-specific feed-forward.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "config.h"
#include "layers.h"

namespace blip2 {

struct QFormerMultiHeadAttention {
  Linear query, key, value;
  int64_t num_heads, head_dim;
  QFormerMultiHeadAttention(const Scope& scope, const QFormerConfig& c, bool is_cross);
  // hidden (B, Tq, D); context (B, Tk, Dk) = hidden for self-attention or the image features.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& context) const;
};

// Blip2QFormerAttention: attention, then output.dense -> dropout -> LayerNorm(x + input).
struct QFormerAttention {
  QFormerMultiHeadAttention attention;
  Linear output_dense;
  LayerNorm output_layer_norm;
  QFormerAttention(const Scope& scope, const QFormerConfig& c, bool is_cross);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& context) const;
};

struct QFormerLayer {
  QFormerAttention attention;
  std::optional<QFormerAttention> crossattention;
  Linear intermediate_query;  // intermediate_query.dense
  Linear output_query;        // output_query.dense
  LayerNorm output_query_layer_norm;
  std::string act;
  QFormerLayer(const Scope& scope, const QFormerConfig& c, int64_t layer_idx);
  torch::Tensor forward(const torch::Tensor& queries, const torch::Tensor& image_embeds) const;
};

struct QFormerOutput {
  torch::Tensor last_hidden_state;  // (B, Q, D)
  torch::Tensor pooler_output;      // (B, D) = last_hidden_state[:, 0]
};

struct QFormerModel {
  LayerNorm layernorm;
  std::vector<std::unique_ptr<QFormerLayer>> layers;
  QFormerModel(const Scope& scope, const QFormerConfig& c);
  // query_embeds (B, Q, D), image_embeds (B, N, Dv); every image token is attended (mask of ones).
  QFormerOutput forward(const torch::Tensor& query_embeds, const torch::Tensor& image_embeds) const;
};

}  // namespace blip2
