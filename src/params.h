// The parameter registry. Every module registers each tensor it owns (Hugging Face name, shape, and the
// address of the field that will hold it) when it is constructed, before any weight is read. The registry
// then *is* the weight files' key list: it can be listed without allocating (the full-size manifest test), and
// loading checks every name and shape before copying a byte.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "safetensors.h"

namespace blip2 {

struct Linear;

// Fills `dest` (any dtype and device, contiguous) with normal(0, std) values from the default generator, drawn in
// float32 on the CPU `chunk` elements at a time (a multiple of 16; the last chunk takes the rest, 16 or more) and
// converted into place. The values equal those of one whole draw, torch::randn(dest's shape) * std, converted, by
// construction of libtorch's CPU normal kernel (ATen/native/cpu/DistributionTemplates.h, normal_fill): a contiguous
// float32 draw of n >= 16 values takes n uniforms from the generator in order and turns each block of 16 into normals
// on its own (Box-Muller), then, when n % 16 != 0, draws 16 more uniforms for the last 16 values. Chunks that are
// multiples of 16 take the same uniforms in the same order and form the same blocks, and only the last chunk, which
// holds the whole tensor's tail, recomputes it.
void fill_normal_chunked(torch::Tensor& dest, double std, int64_t chunk);

struct ParamSlot {
  std::string name;
  std::vector<int64_t> shape;
  torch::Tensor* tensor;  // the module field this parameter lives in
};

class Params {
 public:
  void add(const std::string& name, std::vector<int64_t> shape, torch::Tensor* slot);
  // A weight-file key that may be present and is then ignored because it is tied to `target`
  // (T5's encoder/decoder embed_tokens share language_model.shared).
  void tie(const std::string& name, const std::string& target);

  const std::vector<ParamSlot>& slots() const { return slots_; }
  const std::map<std::string, std::string>& tied() const { return tied_; }
  int64_t numel() const;
  const ParamSlot* find(const std::string& name) const;

  // Checks every expected tensor against the weight files (missing, unexpected, mis-shaped, all reported
  // together by name with the shape found and expected), then copies each one in, converted to dtype/device.
  // `narrow`: names stored in `narrow_dtype` instead (the bfloat16-mixed mode's Linear weights), converted tensor by
  // tensor as they are read, so the model never exists whole in the wider dtype.
  void load(const WeightFiles& weights, torch::ScalarType dtype, const torch::Device& device,
            const std::set<std::string>& narrow = {}, torch::ScalarType narrow_dtype = torch::kBFloat16);
  // The name/shape/dtype checks of load() alone.
  void check(const WeightFiles& weights) const;
  // load() into the tensors already there: the same checks, then each copied in place (keeping its dtype and device).
  void reload(const WeightFiles& weights);
  // Random weights (benchmarks, synthetic models): normal(0, 0.02) matrices, ones for norm weights, zeros for other
  // vectors, drawn in float32 from `seed` and then converted to dtype/device (large matrices a chunk at a time:
  // fill_normal_chunked).
  void randomize(uint64_t seed, torch::ScalarType dtype, const torch::Device& device,
                 const std::set<std::string>& narrow = {}, torch::ScalarType narrow_dtype = torch::kBFloat16);
  // Full training: every parameter whose name starts with one of `prefixes` (all of them when empty) requires grad
  // and is returned, the others neither require nor keep a gradient. With on = false none trains.
  std::vector<std::pair<std::string, torch::Tensor*>> set_trainable(bool on, const std::vector<std::string>& prefixes);

  // Every Linear layer by module name (where LoRA adapters can attach), in construction order.
  void add_linear(const std::string& module_name, Linear* linear) { linears_.emplace_back(module_name, linear); }
  const std::vector<std::pair<std::string, Linear*>>& linears() const { return linears_; }

 private:
  std::vector<ParamSlot> slots_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> tied_;
  std::vector<std::pair<std::string, Linear*>> linears_;
};

// A name prefix inside the registry: Scope("vision_model").sub("encoder") registers "vision_model.encoder.*".
class Scope {
 public:
  Scope(Params& params, std::string prefix) : params_(params), prefix_(std::move(prefix)) {}
  Scope sub(const std::string& name) const { return Scope(params_, join(name)); }
  Scope sub(int64_t index) const { return sub(std::to_string(index)); }
  void add(const std::string& name, std::vector<int64_t> shape, torch::Tensor* slot) const {
    params_.add(join(name), std::move(shape), slot);
  }
  std::string join(const std::string& name) const { return prefix_.empty() ? name : prefix_ + "." + name; }
  Params& params() const { return params_; }
  const std::string& prefix() const { return prefix_; }

 private:
  Params& params_;
  std::string prefix_;
};

}  // namespace blip2
