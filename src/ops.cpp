#include "ops.h"

#include "layers.h"

namespace blip2::ops {

namespace {

torch::Tensor scaled(const torch::Tensor& scores, const AttentionSpec& spec) {
  switch (spec.scale_kind) {
    case ScoreScale::Multiply: return scores * spec.scale;
    case ScoreScale::Divide: return scores / spec.scale;
    case ScoreScale::None: return scores;
  }
  return scores;
}

torch::Tensor softmax(const torch::Tensor& scores, SoftmaxPrecision precision) {
  const auto dtype = scores.scalar_type();
  switch (precision) {
    case SoftmaxPrecision::Float32: return torch::softmax(scores.to(torch::kFloat32), -1).to(dtype);
    case SoftmaxPrecision::Float32ForHalf:
      return dtype == torch::kFloat16 ? torch::softmax(scores, -1, torch::kFloat32).to(dtype)
                                      : torch::softmax(scores, -1);
    case SoftmaxPrecision::ScoresDtype: return torch::softmax(scores, -1);
  }
  return torch::softmax(scores, -1);
}

torch::Tensor masked(torch::Tensor scores, const torch::Tensor& bias, const AttentionSpec& spec) {
  if (bias.defined()) scores = scores + bias;
  if (spec.clamp_to_finfo_min) scores = torch::clamp_min(scores, finfo_min(scores.scalar_type()));
  return scores;
}

}  // namespace

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& bias, const AttentionSpec& spec) {
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), D = q.size(3);
  if (spec.single_query_products && Tq == 1 && q.scalar_type() == torch::kFloat32) {
    auto scores = masked(scaled((q * k).sum(-1).unsqueeze(2), spec), bias, spec);  // (B, h, 1, Tk)
    auto weights = softmax(scores, spec.softmax);
    return (weights.transpose(2, 3) * v).sum(2).reshape({B, 1, H * D});
  }
  auto scores = masked(scaled(torch::matmul(q, k.transpose(-1, -2)), spec), bias, spec);
  auto weights = softmax(scores, spec.softmax);
  return torch::matmul(weights, v).transpose(1, 2).reshape({B, Tq, H * D});
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  // variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
  auto variance = x.to(torch::kFloat32).pow(2).mean(-1, true);
  auto h = x * torch::rsqrt(variance + eps);
  if (weight.scalar_type() == torch::kFloat16 || weight.scalar_type() == torch::kBFloat16)
    h = h.to(weight.scalar_type());
  return weight * h;
}

}  // namespace blip2::ops
