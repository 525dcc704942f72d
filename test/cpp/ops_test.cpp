// src/ops: attention and RMS normalisation on hand-worked numbers.
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "check.h"
#include "layers.h"
#include "ops.h"

namespace {

using blip2::ops::AttentionSpec;
using blip2::ops::ScoreScale;
using blip2::ops::SoftmaxPrecision;

// (1, 1, T, 1) from values
torch::Tensor column(std::vector<float> values) { return torch::tensor(values, torch::kFloat32).view({1, 1, -1, 1}); }

double value(const torch::Tensor& t, int64_t i = 0) { return t.flatten()[i].item<double>(); }

}  // namespace

TEST_CASE(ops_attention_hand_worked) {
  blip2_test::says("scores [0, ln 3] weigh v = [4, 8] by [1/4, 3/4] = 7, on the GEMM and the single-query path alike");
  const auto q = column({1.0f});
  const auto k = column({0.0f, static_cast<float>(std::log(3.0))});
  const auto v = column({4.0f, 8.0f});
  for (bool products : {false, true}) {
    AttentionSpec spec;
    spec.single_query_products = products;
    const auto out = blip2::ops::attention(q, k, v, {}, spec);
    EXPECT(out.sizes() == torch::IntArrayRef({1, 1, 1}));
    EXPECT(std::abs(value(out) - 7.0) < 1e-6);
  }
  blip2_test::says(
      "q = 2 doubles the scores to [0, 2 ln 3]; x 0.5 and / 2 bring them back to [0, ln 3] (softmax in fp32 alike)");
  const auto q2 = column({2.0f});
  const auto k2 = column({0.0f, static_cast<float>(std::log(3.0))});
  const auto multiplied = blip2::ops::attention(q2, k2, v, {}, {ScoreScale::Multiply, 0.5});
  const auto divided =
      blip2::ops::attention(q2, k2, v, {}, {ScoreScale::Divide, 2.0, false, SoftmaxPrecision::Float32});
  EXPECT(std::abs(value(multiplied) - 7.0) < 1e-6);
  EXPECT(std::abs(value(divided) - 7.0) < 1e-6);
}

TEST_CASE(ops_attention_masks_and_heads) {
  blip2_test::says("a finfo.min bias drops a key; a fully masked row, clamped, weighs every key alike");
  const auto q = column({1.0f});
  const auto k = column({0.0f, 1.0f});
  const auto v = column({4.0f, 8.0f});
  const double min = blip2::finfo_min(torch::kFloat32);
  const auto drop_second = torch::tensor({0.0, min}, torch::kFloat32).view({1, 1, 1, 2});
  EXPECT(std::abs(value(blip2::ops::attention(q, k, v, drop_second, {})) - 4.0) < 1e-6);
  AttentionSpec clamped;
  clamped.clamp_to_finfo_min = true;
  const auto all = torch::full({1, 1, 1, 2}, min, torch::kFloat32);
  const auto uniform = blip2::ops::attention(q, k, v, all, clamped);
  EXPECT(std::isfinite(value(uniform)) && std::abs(value(uniform) - 6.0) < 1e-6);

  blip2_test::says("heads are independent and merged head-major: (B, h, 1, d) -> (B, 1, h*d)");
  const auto q2 = torch::tensor({1.0f, 1.0f}).view({1, 2, 1, 1});
  const auto k2 = torch::tensor({0.0f, 0.0f, 0.0f, 100.0f}).view({1, 2, 2, 1});
  const auto v2 = torch::tensor({1.0f, 3.0f, 5.0f, 7.0f}).view({1, 2, 2, 1});
  const auto out = blip2::ops::attention(q2, k2, v2, {}, {});
  EXPECT(out.sizes() == torch::IntArrayRef({1, 1, 2}));
  EXPECT(std::abs(value(out, 0) - 2.0) < 1e-6);  // head 0: equal weights over [1, 3]
  EXPECT(std::abs(value(out, 1) - 7.0) < 1e-6);  // head 1: all weight on the second key
}

TEST_CASE(ops_rms_norm_hand_worked) {
  blip2_test::says(
      "x = [3, 4]: mean of squares 12.5, so weight [1, 2] gives [3, 8] / sqrt(12.5); bf16 weights cast back");
  const auto x = torch::tensor({3.0f, 4.0f});
  const auto out = blip2::ops::rms_norm(x, torch::tensor({1.0f, 2.0f}), 0.0);
  EXPECT(std::abs(value(out, 0) - 3.0 / std::sqrt(12.5)) < 1e-6);
  EXPECT(std::abs(value(out, 1) - 8.0 / std::sqrt(12.5)) < 1e-6);
  const auto bf16 = blip2::ops::rms_norm(x.to(torch::kBFloat16), torch::tensor({1.0f, 2.0f}).to(torch::kBFloat16), 0.0);
  EXPECT(bf16.scalar_type() == torch::kBFloat16);
  EXPECT(std::abs(value(bf16.to(torch::kFloat32), 1) - 8.0 / std::sqrt(12.5)) < 2e-2);
}
