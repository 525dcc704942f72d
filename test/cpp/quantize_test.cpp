// src/quantize and Linear::quantize: one int8 Linear against its float32 product, within the error its two
// quantization steps allow.
#include <torch/torch.h>

#include <cstdio>

#include "check.h"
#include "layers.h"
#include "params.h"
#include "quantize.h"

namespace {

// A Linear (in 16, out 8, with bias) holding normal(0, 0.02) weights and bias, as the model's random weights.
struct Case {
  blip2::Params params;
  blip2::Linear linear{blip2::Scope(params, "proj"), 16, 8, true};
  torch::Tensor w, b;
  Case() {
    torch::manual_seed(7);
    w = torch::randn({8, 16}) * 0.02;
    b = torch::randn({8}) * 0.02;
    linear.weight = w.clone();
    linear.bias = b.clone();
  }
};

}  // namespace

TEST_CASE(int8_linear_within_quantization_bound) {
  blip2_test::says("an int8 Linear is x W^T + b within the bound its weight and activation roundings allow");
  Case c;
  torch::manual_seed(11);
  auto x = torch::randn({2, 3, 16});  // (B, T, in): the Linear flattens the leading dimensions
  auto reference = (x.to(torch::kDouble).matmul(c.w.to(torch::kDouble).t()) + c.b.to(torch::kDouble));
  c.linear.quantize();
  EXPECT(c.linear.quantized());
  EXPECT(!c.linear.weight.defined());  // the fp32 weight and bias are released
  EXPECT(!c.linear.bias.defined());
  auto y = c.linear.forward(x);
  EXPECT_EQ(y.sizes().vec(), std::vector<int64_t>({2, 3, 8}));
  EXPECT(y.scalar_type() == torch::kFloat32);

  // The int8 product is ŷ = x̂ Ŵ^T + b with Ŵ = s_w,o q (q = round(w / s_w,o), s_w,o = max_i |w_oi| / 127: no
  // clamping, so |w_oi - ŵ_oi| <= s_w,o / 2) and x̂ the activations rounded to the step s_x = (max(x, 0) - min(x, 0))
  // / L over L levels (int8_activation_levels), zero point integral: |x_i - x̂_i| <= s_x / 2. The integer sums are
  // exact, so y - ŷ = x (W - Ŵ)^T + (x - x̂) Ŵ^T and, per output o,
  //   |y_o - ŷ_o| <= s_w,o / 2 · Σ_i |x_i| + s_x / 2 · Σ_i |ŵ_oi|,   Σ_i |ŵ_oi| <= Σ_i |w_oi| + 16 · s_w,o / 2.
  // The float32 scaling of the int32 sums and of the bias adds ~1e-7 relative; 1e-6 of Σ|x||w| covers it.
  auto xd = x.to(torch::kDouble).reshape({-1, 16});
  auto wd = c.w.to(torch::kDouble);
  auto s_w = wd.abs().amax(1) / 127.0;  // (out)
  const double s_x = (xd.max().clamp_min(0) - xd.min().clamp_max(0)).item<double>() / blip2::int8_activation_levels();
  auto abs_x_sum = xd.abs().sum(1, true);                                                 // (N, 1)
  auto w_hat_abs_sum = wd.abs().sum(1) + 16 * s_w / 2;                                    // (out)
  auto bound = abs_x_sum * (s_w / 2).unsqueeze(0) + s_x / 2 * w_hat_abs_sum.unsqueeze(0)  // (N, out)
               + 1e-6 * xd.abs().matmul(wd.abs().t());
  auto error = (y.to(torch::kDouble).reshape({-1, 8}) - reference.reshape({-1, 8})).abs();
  const double ratio = (error / bound).max().item<double>();
  std::printf("  engine %s, %lld activation levels: max |int8 - fp32| %.3e, max error/bound %.3f\n",
              blip2::quantized_engine_name(blip2::select_quantized_engine()).c_str(),
              static_cast<long long>(blip2::int8_activation_levels()), error.max().item<double>(), ratio);
  EXPECT(ratio <= 1.0);
  // a bound orders of magnitude above the error would not test anything: random roundings partly cancel over the 16
  // terms, so the worst element sits within a few times the bound, not 100 times
  EXPECT(ratio >= 0.05);
}

TEST_CASE(int8_linear_adds_lora_update_in_float32) {
  blip2_test::says("a quantized Linear's LoRA adapter adds scaling · B A x in float32 on top of the int8 product");
  Case c;
  c.linear.quantize();
  torch::manual_seed(3);
  auto x = torch::randn({4, 16});
  auto base = c.linear.forward(x);
  auto adapter = std::make_unique<blip2::LoraAdapter>();
  adapter->A = torch::randn({2, 16});
  adapter->B = torch::randn({8, 2});
  adapter->scaling = 0.5;
  auto update = x.matmul(adapter->A.t()).matmul(adapter->B.t()) * 0.5;
  c.linear.lora = std::move(adapter);
  auto with_adapter = c.linear.forward(x);
  EXPECT((with_adapter - (base + update)).abs().max().item<double>() <= 1e-5);
}

TEST_CASE(int8_linear_refuses_merged_adapter) {
  blip2_test::says("quantize() refuses a Linear whose adapter is merged into its weight, and keeps the weight");
  Case c;
  c.linear.merged = true;
  EXPECT_THROWS_WITH(c.linear.quantize(), "LoRA adapter is merged");
  EXPECT(!c.linear.quantized());
  EXPECT(c.linear.weight.defined());
}
