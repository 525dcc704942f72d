// Building blocks shared by the three model parts. Fields carry Hugging Face's names, so the registry
// names equal the checkpoint keys.
#pragma once

#include <torch/torch.h>

#include <string>

#include "params.h"

namespace blip2 {

// nn.Linear: y = x W^T + b. weight (out, in), bias (out) when present.
struct Linear {
  torch::Tensor weight, bias;
  Linear(const Scope& scope, int64_t in_features, int64_t out_features, bool with_bias);
  torch::Tensor forward(const torch::Tensor& x) const { return torch::linear(x, weight, bias); }
};

// nn.LayerNorm over the last dimension, with weight and bias.
struct LayerNorm {
  torch::Tensor weight, bias;
  int64_t dim;
  double eps;
  LayerNorm(const Scope& scope, int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x) const {
    return torch::layer_norm(x, {dim}, weight, bias, eps);
  }
};

// Hugging Face ACT2FN by name: "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" (tanh approximation),
// "quick_gelu", "relu", "silu".
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

// Throws if `name` is not an activation the model code implements.
void check_activation(const std::string& name, const std::string& where);

}  // namespace blip2
