// Building blocks shared by the three model parts. Fields carry Hugging Face's names, so the registry
// names equal the keys of the model's weight files.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "params.h"

namespace blip2 {

// A LoRA adapter on a Linear: adds scaling * B(A(dropout(x))). A (r, in), B (out, r).
struct LoraAdapter {
  torch::Tensor A, B;
  double scaling = 1.0;
  double dropout = 0.0;
  bool training = false;  // dropout only while training
};

// torch::linear(x, weight, bias), also when the weight is stored in another dtype than x (the bfloat16-mixed
// mode, Blip2Model::set_matmul_dtype): the product then runs in the weight's dtype and comes back in x's.
torch::Tensor linear_any(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {});

// nn.Linear: y = x W^T + b. weight (out, in), bias (out) when present; optionally with a LoRA adapter,
// which keeps the base names (the adapter's tensors are named <module>.lora_A / lora_B).
struct Linear {
  torch::Tensor weight, bias;
  // The int8 packed weight and bias (quantize.h) once quantize() ran, None before; weight and bias are then released.
  c10::IValue packed;
  std::unique_ptr<LoraAdapter> lora;
  bool merged = false;  // the adapter's update is folded into weight
  int64_t in_features, out_features;
  Linear(const Scope& scope, int64_t in_features, int64_t out_features, bool with_bias);
  // The product in int8 from now on (quantize.h): packs weight and bias, then frees them (undefined tensors).
  // Refuses a merged adapter, whose update would be quantized into the weight for good.
  void quantize();
  bool quantized() const { return !packed.isNone(); }
  // x W^T + b, plus the adapter's update (in its own fp32, added after the int8 product when quantized).
  torch::Tensor forward(const torch::Tensor& x) const;
};

// nn.LayerNorm over the last dimension, with weight and bias.
struct LayerNorm {
  torch::Tensor weight, bias;
  int64_t dim;
  double eps;
  LayerNorm(const Scope& scope, int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x) const { return torch::layer_norm(x, {dim}, weight, bias, eps); }
};

// torch.finfo(dtype).min: the additive mask value of Hugging Face's attention masks.
double finfo_min(torch::ScalarType dtype);

// Hugging Face ACT2FN by name: "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" (tanh approximation),
// "quick_gelu", "relu", "silu".
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

// Every name activation() accepts (the addon reports them; lib/model/config.ts validates against the same list).
const std::vector<std::string>& activation_names();

// Throws if `name` is not an activation the model code implements.
void check_activation(const std::string& name, const std::string& where);

}  // namespace blip2
