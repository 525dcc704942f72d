// src/safetensors and src/params: writing and reading back, the dtype names of the format, headers the reader
// refuses, and the registry's all-at-once report of a weight file that does not fit the model.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "check.h"
#include "json.h"
#include "params.h"
#include "safetensors.h"
#include "temp_dir.h"

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE(safetensors_round_trip) {
  blip2_test::says("save_safetensors then SafetensorsFile: names, dtypes, shapes, byte ranges, values and metadata");
  blip2_test::TempDir dir;
  const std::string path = dir.file("round-trip.safetensors");
  auto f32 = torch::tensor({1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f}).view({2, 3});
  auto bf16 = torch::tensor({1.0f, 0.5f, -4.0f, 8.0f}).to(torch::kBFloat16);
  auto i64 = torch::tensor({int64_t{-3}, int64_t{1} << 40});
  auto u8 = torch::tensor({0, 255, 7}, torch::kUInt8);
  auto flags = torch::tensor({true, false});
  auto non_contiguous = torch::arange(6, torch::kFloat64).view({2, 3}).t();  // written as its (3, 2) values
  blip2::save_safetensors(
      path,
      {{"z.f32", f32}, {"a.bf16", bf16}, {"m.i64", i64}, {"u8", u8}, {"flags", flags}, {"transposed", non_contiguous}},
      {{"format", "pt"}});

  blip2::SafetensorsFile file(path);
  EXPECT_EQ(file.path(), path);
  EXPECT_EQ(file.tensors().size(), size_t{6});
  EXPECT_EQ(file.metadata().size(), size_t{1});
  EXPECT_EQ(file.metadata().at("format"), std::string("pt"));

  // Expected dtype string, shape and byte size per tensor, worked out from the format's definition.
  const std::map<std::string, std::tuple<std::string, std::vector<int64_t>, uint64_t>> expected = {
      {"z.f32", {"F32", {2, 3}, 24}}, {"a.bf16", {"BF16", {4}, 8}}, {"m.i64", {"I64", {2}, 16}},
      {"u8", {"U8", {3}, 3}},         {"flags", {"BOOL", {2}, 2}},  {"transposed", {"F64", {3, 2}, 48}}};
  uint64_t total = 0;
  for (const auto& [name, want] : expected) {
    auto it = file.tensors().find(name);
    EXPECT(it != file.tensors().end());
    if (it == file.tensors().end()) continue;
    EXPECT_EQ(it->second.dtype, std::get<0>(want));
    EXPECT(it->second.shape == std::get<1>(want));
    EXPECT_EQ(it->second.end - it->second.begin, std::get<2>(want));
    total += std::get<2>(want);
  }
  // The data section holds exactly the tensors' bytes: file size = 8 + header length + data.
  const std::string bytes = read_bytes(path);
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(static_cast<uint64_t>(bytes.size()), 8 + header_length + total);
  const auto header = blip2::json::parse(bytes.substr(8, header_length));
  EXPECT(header.find("__metadata__") != nullptr && header.find("__metadata__")->find("format") != nullptr);

  const torch::Device cpu(torch::kCPU);
  EXPECT(torch::equal(file.read("z.f32", torch::kFloat32, cpu), f32));
  EXPECT(torch::equal(file.read("a.bf16", torch::kBFloat16, cpu), bf16));
  EXPECT(torch::equal(file.read("m.i64", torch::kInt64, cpu), i64));
  EXPECT(torch::equal(file.read("u8", torch::kUInt8, cpu), u8));
  EXPECT(torch::equal(file.read("flags", torch::kBool, cpu), flags));
  EXPECT(torch::equal(file.read("transposed", torch::kFloat64, cpu), non_contiguous.contiguous()));
  // Read converted: these bf16 values are exact in fp32.
  auto widened = file.read("a.bf16", torch::kFloat32, cpu);
  EXPECT(widened.scalar_type() == torch::kFloat32);
  EXPECT(torch::equal(widened, torch::tensor({1.0f, 0.5f, -4.0f, 8.0f})));
  EXPECT_THROWS_WITH(file.read("absent", torch::kFloat32, cpu), "\"absent\" is not in");
  // Written atomically: the temporary file is gone once the call returns.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, size_t{1});
}

TEST_CASE(safetensors_dtype_names) {
  blip2_test::says("the format's dtype strings map to torch scalar types and back; others are refused");
  const std::vector<std::pair<std::string, torch::ScalarType>> names = {
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  for (const auto& [name, type] : names) {
    EXPECT(blip2::scalar_type_of(name) == type);
    EXPECT_EQ(blip2::dtype_string(type), name);
  }
  EXPECT_THROWS_WITH(blip2::scalar_type_of("f32"), "unknown safetensors dtype \"f32\"");
  EXPECT_THROWS_WITH(blip2::scalar_type_of("F8_E4M3"), "unknown safetensors dtype");
  EXPECT_THROWS_WITH(blip2::dtype_string(torch::kComplexFloat), "cannot store dtype");
  EXPECT_EQ(blip2::shape_string({1, 6, 32}), std::string("[1, 6, 32]"));
  EXPECT_EQ(blip2::shape_string({}), std::string("[]"));
}

TEST_CASE(safetensors_rejects_bad_headers) {
  blip2_test::says("overlapping ranges, truncated data, a header longer than the file, wrong sizes, unknown dtypes");
  blip2_test::TempDir dir;
  const std::string twelve(12, '\0');
  EXPECT_THROWS_WITH(blip2::SafetensorsFile(
                         blip2_test::write_raw_safetensors(dir.file("overlap.safetensors"),
                                                           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                                           twelve)),
                     "Invalid safetensors file", "\"a\" [0, 8] and \"b\" [4, 12] overlap");
  EXPECT_THROWS_WITH(
      blip2::SafetensorsFile(blip2_test::write_raw_safetensors(
          dir.file("truncated.safetensors"), R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", twelve)),
      "data_offsets [0, 16] run past the end of the data (12 bytes)", "truncated");
  EXPECT_THROWS_WITH(blip2::SafetensorsFile(
                         blip2_test::write_raw_safetensors(dir.file("long-header.safetensors"), "{}", twelve, 1000)),
                     "header length 1000 runs past the end of the file (22 bytes)");
  EXPECT_THROWS_WITH(
      blip2::SafetensorsFile(blip2_test::write_raw_safetensors(
          dir.file("size.safetensors"), R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", twelve)),
      "\"a\" has 8 bytes but shape [3] of F32 needs 12");
  EXPECT_THROWS_WITH(
      blip2::SafetensorsFile(blip2_test::write_raw_safetensors(
          dir.file("dtype.safetensors"), R"({"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})", twelve)),
      "\"a\" has unknown dtype \"F4\"");
  EXPECT_THROWS_WITH(
      blip2::SafetensorsFile(blip2_test::write_raw_safetensors(dir.file("not-json.safetensors"), "{\"a\":", twelve)),
      "header is not JSON");
  {
    std::ofstream(dir.file("short.safetensors"), std::ios::binary) << "abc";
  }
  EXPECT_THROWS_WITH(blip2::SafetensorsFile(dir.file("short.safetensors")), "file is 3 bytes");
}

TEST_CASE(params_load_reports_all) {
  blip2_test::says("Params::load names every missing, mis-shaped and unexpected tensor at once; a fitting file loads");
  blip2::Params params;
  blip2::Scope root(params, "");
  torch::Tensor weight, bias, other, shared;
  root.sub("layer").add("weight", {2, 3}, &weight);
  root.sub("layer").add("bias", {2}, &bias);
  root.sub("other").add("weight", {4}, &other);
  root.add("shared.weight", {5, 2}, &shared);
  params.tie("encoder.embed_tokens.weight", "shared.weight");
  EXPECT_EQ(params.numel(), int64_t{6 + 2 + 4 + 10});

  blip2_test::TempDir dir;
  const std::string bad = dir.file("bad.safetensors");
  blip2::save_safetensors(bad, {{"layer.weight", torch::zeros({3, 2})},
                                {"layer.bias", torch::zeros({2})},
                                {"shared.weight", torch::zeros({5, 2})},
                                {"encoder.embed_tokens.weight", torch::zeros({5, 2})},
                                {"stray.weight", torch::zeros({1})}});
  const torch::Device cpu(torch::kCPU);
  EXPECT_THROWS_WITH(params.load(blip2::WeightFiles::open_file(bad), torch::kFloat32, cpu),
                     "missing tensors (1):\n    other.weight",
                     "mis-shaped tensors (1):\n    layer.weight has shape [3, 2]", "expects [2, 3]",
                     "unexpected tensors (1):\n    stray.weight");
  EXPECT(!weight.defined());  // nothing copied before the checks pass

  const std::string good = dir.file("good.safetensors");
  auto w = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}).view({2, 3});
  blip2::save_safetensors(good, {{"layer.weight", w},
                                 {"layer.bias", torch::tensor({0.5f, -0.5f})},
                                 {"other.weight", torch::ones({4})},
                                 {"shared.weight", torch::full({5, 2}, 2.0f)}});
  params.load(blip2::WeightFiles::open_file(good), torch::kBFloat16, cpu);
  EXPECT(weight.scalar_type() == torch::kBFloat16);
  EXPECT(torch::equal(weight.to(torch::kFloat32), w));
  EXPECT(torch::equal(bias.to(torch::kFloat32), torch::tensor({0.5f, -0.5f})));
  EXPECT_EQ(shared.sum().item<float>(), 20.0f);
}
