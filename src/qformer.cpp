#include "qformer.h"

#include "ops.h"

#include <cmath>

namespace blip2 {

QFormerMultiHeadAttention::QFormerMultiHeadAttention(const Scope& scope, const QFormerConfig& c, bool is_cross)
    : query(scope.sub("query"), c.hidden_size, c.hidden_size, true),
      key(scope.sub("key"), is_cross ? c.encoder_hidden_size : c.hidden_size, c.hidden_size, true),
      value(scope.sub("value"), is_cross ? c.encoder_hidden_size : c.hidden_size, c.hidden_size, true),
      num_heads(c.num_attention_heads),
      head_dim(c.hidden_size / c.num_attention_heads) {}

torch::Tensor QFormerMultiHeadAttention::forward(const torch::Tensor& hidden, const torch::Tensor& context) const {
  const int64_t B = hidden.size(0), Tq = hidden.size(1), Tk = context.size(1);
  auto split = [&](const torch::Tensor& x, int64_t T) {  // (B, T, D) -> (B, h, T, hd)
    return x.view({B, T, num_heads, head_dim}).permute({0, 2, 1, 3});
  };
  auto q = split(query.forward(hidden), Tq);
  auto k = split(key.forward(context), Tk);
  auto v = split(value.forward(context), Tk);
  // attention_scores = attention_scores / math.sqrt(self.attention_head_size); masks are all zeros here
  const ops::AttentionSpec spec{ops::ScoreScale::Divide, std::sqrt(static_cast<double>(head_dim))};
  return ops::attention(q, k, v, {}, spec);
}

QFormerAttention::QFormerAttention(const Scope& scope, const QFormerConfig& c, bool is_cross)
    : attention(scope.sub("attention"), c, is_cross),
      output_dense(scope.sub("output.dense"), c.hidden_size, c.hidden_size, true),
      output_layer_norm(scope.sub("output.LayerNorm"), c.hidden_size, c.layer_norm_eps) {}

torch::Tensor QFormerAttention::forward(const torch::Tensor& hidden, const torch::Tensor& context) const {
  return output_layer_norm.forward(output_dense.forward(attention.forward(hidden, context)) + hidden);
}

QFormerLayer::QFormerLayer(const Scope& scope, const QFormerConfig& c, int64_t layer_idx)
    : attention(scope.sub("attention"), c, false),
      intermediate_query(scope.sub("intermediate_query.dense"), c.hidden_size, c.intermediate_size, true),
      output_query(scope.sub("output_query.dense"), c.intermediate_size, c.hidden_size, true),
      output_query_layer_norm(scope.sub("output_query.LayerNorm"), c.hidden_size, c.layer_norm_eps),
      act(c.hidden_act) {
  if (layer_idx % c.cross_attention_frequency == 0) crossattention.emplace(scope.sub("crossattention"), c, true);
}

torch::Tensor QFormerLayer::forward(const torch::Tensor& queries, const torch::Tensor& image_embeds) const {
  auto x = attention.forward(queries, queries);
  if (crossattention) x = crossattention->forward(x, image_embeds);
  auto h = output_query.forward(activation(act, intermediate_query.forward(x)));
  return output_query_layer_norm.forward(h + x);
}

QFormerModel::QFormerModel(const Scope& scope, const QFormerConfig& c)
    : layernorm(scope.sub("layernorm"), c.hidden_size, c.layer_norm_eps) {
  check_activation(c.hidden_act, "qformer_config.hidden_act");
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layers.push_back(std::make_unique<QFormerLayer>(scope.sub("encoder.layer").sub(i), c, i));
}

QFormerOutput QFormerModel::forward(const torch::Tensor& query_embeds, const torch::Tensor& image_embeds) const {
  auto x = layernorm.forward(query_embeds);
  auto context = image_embeds.to(x.scalar_type());
  for (const auto& layer : layers) x = layer->forward(x, context);
  return {x, x.select(1, 0)};
}

}  // namespace blip2
