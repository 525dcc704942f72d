#include "layers.h"

#include <stdexcept>

namespace blip2 {

Linear::Linear(const Scope& scope, int64_t in_features, int64_t out_features, bool with_bias) {
  scope.add("weight", {out_features, in_features}, &weight);
  if (with_bias) scope.add("bias", {out_features}, &bias);
}

LayerNorm::LayerNorm(const Scope& scope, int64_t dim_, double eps_) : dim(dim_), eps(eps_) {
  scope.add("weight", {dim}, &weight);
  scope.add("bias", {dim}, &bias);
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

void check_activation(const std::string& name, const std::string& where) {
  static const char* known[] = {"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "quick_gelu",
                                "relu", "silu",     "swish"};
  for (const char* k : known)
    if (name == k) return;
  throw std::runtime_error("unsupported activation \"" + name + "\" in " + where);
}

}  // namespace blip2
