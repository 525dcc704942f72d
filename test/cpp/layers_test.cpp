// src/layers, src/t5 and src/lora: a Linear across dtypes, T5's relative position buckets, LoRA merge and unmerge.
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "check.h"
#include "layers.h"
#include "lora.h"
#include "params.h"
#include "t5.h"

namespace {

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

blip2::T5Config tiny_t5_config() {
  blip2::T5Config c{};
  c.vocab_size = 8;
  c.d_model = 4;
  c.d_kv = 2;
  c.d_ff = 8;
  c.num_layers = 1;
  c.num_decoder_layers = 1;
  c.num_heads = 2;
  c.relative_attention_num_buckets = 32;
  c.relative_attention_max_distance = 128;
  c.layer_norm_epsilon = 1e-6;
  c.is_gated_act = true;
  c.dense_act_fn = "gelu_new";
  c.tie_word_embeddings = false;
  c.decoder_start_token_id = 0;
  c.pad_token_id = 0;
  c.eos_token_id = 1;
  return c;
}

// The bucket of each key position for one query: a bias table whose head 0 holds the bucket's own index (and head 1
// the index + 100) turns compute_bias into the bucket lookup itself.
std::vector<int64_t> buckets_for(const blip2::T5Attention& attention, int64_t k_len, int64_t q_offset, int64_t head) {
  auto bias = attention.compute_bias(1, k_len, q_offset);  // (1, h, 1, k)
  auto row = bias.select(0, 0).select(0, head).select(0, 0).to(torch::kLong);
  return std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + k_len);
}

}  // namespace

TEST_CASE(linear_any_mixed_dtypes) {
  blip2_test::says("linear_any computes x W^T + b in the weight's dtype and returns x's dtype");
  // x (1, 3), W (2, 3), b (2): y = [1 - 3 + 0.5, 2 + 2 + 1.5 - 1] = [-1.5, 4.5], exact in bf16.
  auto x = torch::tensor({1.0f, 2.0f, 3.0f}).view({1, 3});
  auto w = torch::tensor({1.0f, 0.0f, -1.0f, 2.0f, 1.0f, 0.5f}).view({2, 3});
  auto b = torch::tensor({0.5f, -1.0f});
  auto expected = torch::tensor({-1.5f, 4.5f}).view({1, 2});

  auto same = blip2::linear_any(x, w, b);
  EXPECT(same.scalar_type() == torch::kFloat32);
  EXPECT(torch::equal(same, expected));

  auto fp32_x_bf16_w = blip2::linear_any(x, w.to(torch::kBFloat16), b.to(torch::kBFloat16));
  EXPECT(fp32_x_bf16_w.scalar_type() == torch::kFloat32);
  EXPECT(torch::equal(fp32_x_bf16_w, expected));

  auto bf16_x_fp32_w = blip2::linear_any(x.to(torch::kBFloat16), w, b);
  EXPECT(bf16_x_fp32_w.scalar_type() == torch::kBFloat16);
  EXPECT(torch::equal(bf16_x_fp32_w.to(torch::kFloat32), expected));

  auto no_bias = blip2::linear_any(x, w.to(torch::kBFloat16));
  EXPECT(torch::equal(no_bias, torch::tensor({-2.0f, 5.5f}).view({1, 2})));

  // Random values: within bf16's rounding of the fp32 product (8 bits of mantissa, 64-term sums).
  torch::manual_seed(7);
  auto xs = torch::randn({5, 64});
  auto ws = torch::randn({16, 64});
  auto reference = torch::matmul(xs, ws.t());
  auto mixed = blip2::linear_any(xs, ws.to(torch::kBFloat16));
  EXPECT(mixed.scalar_type() == torch::kFloat32);
  EXPECT_EQ(mixed.sizes().vec(), std::vector<int64_t>({5, 16}));
  const double scale = reference.abs().max().item<double>();
  EXPECT(max_abs_diff(mixed, reference) < 0.05 * scale);
  EXPECT(max_abs_diff(mixed, reference) > 0);  // the product really ran in bf16
}

TEST_CASE(t5_relative_position_bucket) {
  blip2_test::says("T5 relative position buckets (32 buckets, max distance 128), worked from HF's formula by hand");
  blip2::Params params;
  const auto config = tiny_t5_config();
  blip2::T5Attention encoder(blip2::Scope(params, "encoder"), config, true, false);
  blip2::T5Attention decoder(blip2::Scope(params, "decoder"), config, true, true);
  auto table = torch::arange(32, torch::kFloat32).unsqueeze(1).repeat({1, 2});
  table.select(1, 1).add_(100);
  encoder.relative_attention_bias = table;
  decoder.relative_attention_bias = table;

  // Bidirectional: 16 buckets per sign, keys after the query add 16. max_exact 8; for n >= 8 the bucket is
  // 8 + floor(ln(n/8) / ln(16) * 8), at most 15: n=11 -> 8 + floor(0.919) = 8, 12 -> 9 (1.170), 23 -> 11 (3.047),
  // 45 -> 12 (4.984), 100 -> 15 (7.288), 200 -> 15 (capped from 17).
  const auto after = buckets_for(encoder, 201, 0, 0);  // relative position = key - 0
  const std::vector<std::pair<int64_t, int64_t>> after_expected = {{0, 0},   {1, 17},  {7, 23},  {8, 24},   {11, 24},
                                                                   {12, 25}, {23, 27}, {45, 28}, {100, 31}, {200, 31}};
  for (const auto& [n, bucket] : after_expected) EXPECT_EQ(after[n], bucket);
  const auto before = buckets_for(encoder, 201, 200, 0);  // relative position = key - 200
  const std::vector<std::pair<int64_t, int64_t>> before_expected = {{199, 1},  {188, 9}, {155, 12},
                                                                    {100, 15}, {0, 15},  {200, 0}};
  for (const auto& [key, bucket] : before_expected) EXPECT_EQ(before[key], bucket);
  EXPECT_EQ(buckets_for(encoder, 201, 0, 1)[12], int64_t{125});  // head 1 reads column 1 of the table

  // Causal: future keys share bucket 0; past distance n < 16 is its own bucket, else
  // 16 + floor(ln(n/16) / ln(8) * 16), at most 31: n=20 -> 17 (1.717), 40 -> 23 (7.050), 100 -> 30 (14.101),
  // 127 -> 31 (15.94), 500 -> 31 (capped).
  const auto causal = buckets_for(decoder, 501, 500, 0);  // relative position = key - 500
  const std::vector<std::pair<int64_t, int64_t>> causal_expected = {
      {500, 0}, {495, 5}, {485, 15}, {484, 16}, {480, 17}, {460, 23}, {400, 30}, {373, 31}, {0, 31}};
  for (const auto& [key, bucket] : causal_expected) EXPECT_EQ(causal[key], bucket);
  const auto future = buckets_for(decoder, 10, 3, 0);
  EXPECT_EQ(future[9], int64_t{0});
  EXPECT_EQ(future[0], int64_t{3});

  // Shape (1, heads, q_len, k_len).
  EXPECT_EQ(encoder.compute_bias(3, 5).sizes().vec(), std::vector<int64_t>({1, 2, 3, 5}));
}

TEST_CASE(lora_merge_unmerge) {
  blip2_test::says("LoRA targets follow PEFT's suffix rule; merge folds scaling * B A into W, unmerge restores W");
  blip2::Params params;
  blip2::Scope root(params, "");
  blip2::Linear q(root.sub("attn").sub("q"), 6, 4, true);
  blip2::Linear v(root.sub("attn").sub("v"), 6, 4, false);
  blip2::Linear seq(root.sub("attn").sub("seq"), 6, 4, false);  // ends with "q" but not ".q"
  torch::manual_seed(3);
  q.weight = torch::randn({4, 6});
  q.bias = torch::randn({4});
  v.weight = torch::randn({4, 6});
  seq.weight = torch::randn({4, 6});

  blip2::LoraConfig config;
  config.r = 4;
  config.alpha = 8;
  config.dropout = 0;
  config.targets = {"q", "v"};
  EXPECT_EQ(config.scaling(), 2.0);
  blip2::LoraConfig rs = config;
  rs.use_rslora = true;
  EXPECT_EQ(rs.scaling(), 4.0);  // 8 / sqrt(4)

  blip2::LoraSet lora;
  lora.attach(params, config, torch::Device(torch::kCPU), 0);
  EXPECT_EQ(lora.modules().size(), size_t{2});
  EXPECT_EQ(lora.modules()[0].first, std::string("attn.q"));
  EXPECT_EQ(lora.modules()[1].first, std::string("attn.v"));
  EXPECT(!seq.lora);
  EXPECT_EQ(blip2::peft_key("attn.q", "lora_A"), std::string("base_model.model.attn.q.lora_A.weight"));

  // PEFT's init leaves B at zero: the adapter changes nothing until trained.
  auto x = torch::randn({3, 6});
  const auto w0 = q.weight.clone();
  EXPECT(torch::equal(q.forward(x), torch::linear(x, w0, q.bias)));

  q.lora->B = torch::randn({4, 4});
  v.lora->B = torch::randn({4, 4});
  const auto a = q.lora->A.detach().clone(), b = q.lora->B.clone();
  // y = x W^T + bias + 2 (x A^T) B^T
  const auto expected = torch::matmul(x, w0.t()) + q.bias + 2.0 * torch::matmul(torch::matmul(x, a.t()), b.t());
  const auto with_adapter = q.forward(x);
  EXPECT(max_abs_diff(with_adapter, expected) < 1e-5);

  lora.merge();
  EXPECT(lora.merged() && q.merged && v.merged);
  EXPECT(max_abs_diff(q.weight, w0 + 2.0 * torch::matmul(b, a)) < 1e-5);
  EXPECT(max_abs_diff(q.forward(x), expected) < 1e-5);
  lora.merge();  // a second merge is a no-op
  EXPECT(max_abs_diff(q.weight, w0 + 2.0 * torch::matmul(b, a)) < 1e-5);

  lora.unmerge();
  EXPECT(!lora.merged() && !q.merged);
  EXPECT(max_abs_diff(q.weight, w0) < 1e-5);
  EXPECT(max_abs_diff(q.forward(x), expected) < 1e-5);

  lora.detach();
  EXPECT(!q.lora && !v.lora);
  EXPECT(max_abs_diff(q.weight, w0) < 1e-5);

  blip2::LoraConfig unmatched = config;
  unmatched.targets = {"q", "nowhere"};
  EXPECT_THROWS_WITH(blip2::select_lora_targets(params, unmatched), "\"nowhere\" match no Linear layer");
}
