#include "vision.h"

#include "grad_checkpoint.h"
#include "ops.h"

#include <cmath>

namespace blip2 {

VisionEmbeddings::VisionEmbeddings(const Scope& scope, const VisionConfig& c) : patch_size(c.patch_size) {
  const int64_t num_patches = (c.image_size / c.patch_size) * (c.image_size / c.patch_size);
  scope.add("class_embedding", {1, 1, c.hidden_size}, &class_embedding);
  scope.add("patch_embedding.weight", {c.hidden_size, c.num_channels, c.patch_size, c.patch_size}, &patch_weight);
  scope.add("patch_embedding.bias", {c.hidden_size}, &patch_bias);
  scope.add("position_embedding", {1, num_patches + 1, c.hidden_size}, &position_embedding);
}

torch::Tensor VisionEmbeddings::forward(const torch::Tensor& pixel_values) const {
  const int64_t B = pixel_values.size(0);
  auto x = torch::conv2d(pixel_values.to(patch_weight.scalar_type()), patch_weight, patch_bias, patch_size);
  x = x.flatten(2).transpose(1, 2);  // (B, N, D)
  auto cls = class_embedding.expand({B, 1, -1}).to(x.scalar_type());
  x = torch::cat({cls, x}, 1);  // (B, 1+N, D)
  return x + position_embedding.narrow(1, 0, x.size(1)).to(x.scalar_type());
}

VisionAttention::VisionAttention(const Scope& scope, const VisionConfig& c)
    : qkv(scope.sub("qkv"), c.hidden_size, 3 * c.hidden_size, c.qkv_bias),
      projection(scope.sub("projection"), c.hidden_size, c.hidden_size, true),
      num_heads(c.num_attention_heads),
      head_dim(c.hidden_size / c.num_attention_heads),
      scale(1.0 / std::sqrt(static_cast<double>(c.hidden_size / c.num_attention_heads))) {}

torch::Tensor VisionAttention::forward(const torch::Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1);
  // mixed_qkv.reshape(bsz, tgt_len, 3, num_heads, embed_dim // num_heads).permute(2, 0, 3, 1, 4)
  auto mixed = qkv.forward(x).reshape({B, T, 3, num_heads, head_dim}).permute({2, 0, 3, 1, 4});
  auto q = mixed[0], k = mixed[1], v = mixed[2];  // (B, h, T, hd)
  // attention_scores * self.scale, softmax in the model's dtype
  return projection.forward(ops::attention(q, k, v, {}, {ops::ScoreScale::Multiply, scale}));
}

VisionMlp::VisionMlp(const Scope& scope, const VisionConfig& c)
    : fc1(scope.sub("fc1"), c.hidden_size, c.intermediate_size, true),
      fc2(scope.sub("fc2"), c.intermediate_size, c.hidden_size, true),
      act(c.hidden_act) {}

VisionEncoderLayer::VisionEncoderLayer(const Scope& scope, const VisionConfig& c)
    : self_attn(scope.sub("self_attn"), c),
      layer_norm1(scope.sub("layer_norm1"), c.hidden_size, c.layer_norm_eps),
      mlp(scope.sub("mlp"), c),
      layer_norm2(scope.sub("layer_norm2"), c.hidden_size, c.layer_norm_eps) {}

torch::Tensor VisionEncoderLayer::forward(torch::Tensor x) const {
  x = x + self_attn.forward(layer_norm1.forward(x));
  return x + mlp.forward(layer_norm2.forward(x));
}

VisionModel::VisionModel(const Scope& scope, const VisionConfig& c)
    : embeddings(scope.sub("embeddings"), c),
      post_layernorm(scope.sub("post_layernorm"), c.hidden_size, c.layer_norm_eps) {
  check_activation(c.hidden_act, "vision_config.hidden_act");
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layers.push_back(std::make_unique<VisionEncoderLayer>(scope.sub("encoder.layers").sub(i), c));
}

VisionOutput VisionModel::forward(const torch::Tensor& pixel_values) const {
  auto x = embeddings.forward(pixel_values);
  for (const auto& layer : layers) {
    if (gradient_checkpointing) {
      const VisionEncoderLayer* l = layer.get();
      x = checkpointed([l](const std::vector<torch::Tensor>& in) { return l->forward(in[0]); }, {x});
    } else {
      x = layer->forward(x);
    }
  }
  VisionOutput out;
  out.last_hidden_state = post_layernorm.forward(x);
  // pooled_output = last_hidden_state[:, 0, :]; pooled_output = self.post_layernorm(pooled_output)
  out.pooler_output = post_layernorm.forward(out.last_hidden_state.select(1, 0));
  return out;
}

}  // namespace blip2
