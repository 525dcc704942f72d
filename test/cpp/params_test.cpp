// src/params: random weights drawn in chunks equal one whole draw.
#include <torch/torch.h>

#include <vector>

#include "check.h"
#include "params.h"

namespace {

// torch::randn(n) * std from `seed`, converted to `dtype`: what one whole draw gives.
torch::Tensor whole_draw(uint64_t seed, int64_t n, double std, torch::ScalarType dtype) {
  torch::manual_seed(seed);
  return torch::randn({n}).mul_(std).to(dtype);
}

torch::Tensor chunked_draw(uint64_t seed, std::vector<int64_t> shape, int64_t chunk, torch::ScalarType dtype) {
  torch::manual_seed(seed);
  auto dest = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  blip2::fill_normal_chunked(dest, 0.02, chunk);
  return dest;
}

}  // namespace

TEST_CASE(fill_normal_chunked_equals_one_draw) {
  blip2_test::says(
      "normal(0, 0.02) drawn 16 or 48 values at a time equals one draw, with and without a tail of "
      "n % 16 values, in float32 and converted to bfloat16");
  // 7 × 13 = 91: five blocks of 16 and a tail of 11 (recomputed from 16 more uniforms); 8 × 12 = 96: no tail;
  // 3 × 11 = 33: one chunk of 16, then the rest (17) in one, since a chunk under 16 would draw differently.
  for (const auto& shape : {std::vector<int64_t>{7, 13}, std::vector<int64_t>{8, 12}, std::vector<int64_t>{3, 11}}) {
    const int64_t n = shape[0] * shape[1];
    for (int64_t chunk : {16, 48}) {
      for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        auto got = chunked_draw(5, shape, chunk, dtype).view({-1});
        auto want = whole_draw(5, n, 0.02, dtype);
        EXPECT(torch::equal(got, want));
      }
    }
  }
  // The generator ends where one whole draw leaves it: the next draw is the same too.
  chunked_draw(9, {5, 19}, 16, torch::kFloat32);
  auto after_chunks = torch::randn({20});
  whole_draw(9, 95, 0.02, torch::kFloat32);
  EXPECT(torch::equal(after_chunks, torch::randn({20})));
}

TEST_CASE(fill_normal_chunked_refuses_bad_chunks) {
  blip2_test::says("a chunk under 16 or not a multiple of 16 is refused (it would draw other values)");
  auto dest = torch::empty({64});
  for (int64_t chunk : {0, 8, 24}) EXPECT_THROWS_WITH(blip2::fill_normal_chunked(dest, 0.02, chunk), "multiple of 16");
}
