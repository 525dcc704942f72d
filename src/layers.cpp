#include "layers.h"

#include "quantize.h"

#include <limits>
#include <stdexcept>

namespace blip2 {

Linear::Linear(const Scope& scope, int64_t in, int64_t out, bool with_bias) : in_features(in), out_features(out) {
  scope.add("weight", {out_features, in_features}, &weight);
  if (with_bias) scope.add("bias", {out_features}, &bias);
  scope.params().add_linear(scope.prefix(), this);
}

torch::Tensor linear_any(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (x.scalar_type() == weight.scalar_type()) return torch::linear(x, weight, bias);
  return torch::linear(x.to(weight.scalar_type()), weight, bias).to(x.scalar_type());
}

void Linear::quantize() {
  if (quantized()) return;
  if (merged) throw std::runtime_error("cannot quantize a Linear whose LoRA adapter is merged into its weight");
  packed = pack_int8_linear(weight, bias);
  weight = torch::Tensor();
  bias = torch::Tensor();
}

torch::Tensor Linear::forward(const torch::Tensor& x) const {
  auto y = quantized() ? int8_linear(x, packed, out_features).to(x.scalar_type()) : linear_any(x, weight, bias);
  if (!lora || merged) return y;
  // PEFT: result = result + lora_B(lora_A(dropout(x))) * scaling
  auto h = x.to(lora->A.scalar_type());
  if (lora->training && lora->dropout > 0) h = torch::dropout(h, lora->dropout, true);
  auto update = torch::linear(torch::linear(h, lora->A), lora->B) * lora->scaling;
  return (y + update).to(y.scalar_type());
}

LayerNorm::LayerNorm(const Scope& scope, int64_t dim_, double eps_) : dim(dim_), eps(eps_) {
  scope.add("weight", {dim}, &weight);
  scope.add("bias", {dim}, &bias);
}

double finfo_min(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat16: return -65504.0;
    case torch::kBFloat16: return -3.3895313892515355e38;
    case torch::kFloat64: return std::numeric_limits<double>::lowest();
    default: return static_cast<double>(std::numeric_limits<float>::lowest());
  }
}

torch::Tensor activation(const std::string& name, const torch::Tensor& x) {
  if (name == "gelu") return torch::gelu(x);
  // gelu_new: 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return torch::gelu(x, "tanh");
  if (name == "quick_gelu") return x * torch::sigmoid(1.702 * x);
  if (name == "relu") return torch::relu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  throw std::runtime_error("unsupported activation \"" + name + "\"");
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = {
      "gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "quick_gelu", "relu", "silu", "swish"};
  return names;
}

void check_activation(const std::string& name, const std::string& where) {
  for (const auto& known : activation_names())
    if (name == known) return;
  throw std::runtime_error("unsupported activation \"" + name + "\" in " + where);
}

}  // namespace blip2
