// The model's compute kernels, shared by the vision tower, the Q-Former, T5 and OPT: scaled dot-product attention and
// RMS normalisation (the linear layer with its LoRA adapter is Linear in layers.h). Each module states how Hugging
// Face rounds its version — how the scores are scaled, whether the mask is clamped, in which precision the softmax
// runs — and gets exactly that arithmetic; a faster kernel goes here, once, for all of them.
#pragma once

#include <torch/torch.h>

namespace blip2::ops {

// How the scores q·kᵀ are scaled: not at all (T5; OPT scales its queries first), multiplied (the vision tower's
// `* self.scale`) or divided (the Q-Former's `/ math.sqrt(head_size)`); the two round differently.
enum class ScoreScale { None, Multiply, Divide };

// Where the softmax runs: in the scores' dtype (vision, Q-Former, OPT outside fp16), in fp32 and cast back (T5),
// or in fp32 for fp16 only (OPT).
enum class SoftmaxPrecision { ScoresDtype, Float32, Float32ForHalf };

struct AttentionSpec {
  ScoreScale scale_kind = ScoreScale::None;
  double scale = 1.0;
  // torch.max(scores + mask, finfo.min), as OPT does, so a fully masked row stays finite
  bool clamp_to_finfo_min = false;
  SoftmaxPrecision softmax = SoftmaxPrecision::ScoresDtype;
  // A single fp32 query per row (a decoder step) as one broadcast product and sum instead of batched GEMMs of one row
  // each: ~4x faster on CPU, the same dot products summed in another order (fp32 rounding only). Never used in bf16
  // or fp16, where each product would be rounded to 16 bits before the sum.
  bool single_query_products = false;
};

// softmax(scale(q kᵀ) + bias) v with heads merged: q (B, h, Tq, d), k and v (B, h, Tk, d), bias broadcastable to
// (B, h, Tq, Tk) or undefined. Returns (B, Tq, h·d).
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& bias, const AttentionSpec& spec);

// T5LayerNorm: weight * x / sqrt(mean(x²) + eps), no mean subtraction, no bias, the variance in fp32; the result is
// cast to the weight's dtype when that is fp16 or bf16.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

}  // namespace blip2::ops
