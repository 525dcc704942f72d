#include "params.h"

#include <stdexcept>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace blip2 {

void Params::add(const std::string& name, std::vector<int64_t> shape, torch::Tensor* slot) {
  if (index_.count(name)) throw std::logic_error("parameter registered twice: " + name);
  index_[name] = slots_.size();
  slots_.push_back({name, std::move(shape), slot});
}

void Params::tie(const std::string& name, const std::string& target) { tied_[name] = target; }

int64_t Params::numel() const {
  int64_t n = 0;
  for (const auto& s : slots_) {
    int64_t k = 1;
    for (int64_t d : s.shape) k *= d;
    n += k;
  }
  return n;
}

const ParamSlot* Params::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &slots_[it->second];
}

void Params::load(const WeightFiles& weights, torch::ScalarType dtype, const torch::Device& device,
                  const std::set<std::string>& narrow, torch::ScalarType narrow_dtype) {
  check(weights);
  for (auto& slot : slots_)
    *slot.tensor = weights.read(slot.name, narrow.count(slot.name) ? narrow_dtype : dtype, device);
}

void Params::reload(const WeightFiles& weights) {
  check(weights);
  torch::NoGradGuard no_grad;
  for (auto& slot : slots_)
    slot.tensor->copy_(weights.read(slot.name, slot.tensor->scalar_type(), slot.tensor->device()));
}

void fill_normal_chunked(torch::Tensor& dest, double std, int64_t chunk) {
  if (chunk < 16 || chunk % 16 != 0) throw std::invalid_argument("fill_normal_chunked: chunk must be a multiple of 16");
  torch::NoGradGuard no_grad;
  auto flat = dest.view({-1});
  const int64_t n = flat.numel();
  const auto cpu_fp32 = torch::TensorOptions().dtype(torch::kFloat32);
  for (int64_t off = 0; off < n;) {
    // The last chunk takes the rest (between `chunk` and 2·`chunk` elements, so never under 16).
    const int64_t len = n - off < 2 * chunk ? n - off : chunk;
    flat.narrow(0, off, len).copy_(torch::randn({len}, cpu_fp32).mul_(std));
    off += len;
  }
}

void Params::randomize(uint64_t seed, torch::ScalarType dtype, const torch::Device& device,
                       const std::set<std::string>& narrow, torch::ScalarType narrow_dtype) {
  torch::manual_seed(seed);
  auto opts = torch::TensorOptions().dtype(torch::kFloat32);
  constexpr int64_t kChunk = int64_t{1} << 22;  // 4 Mi elements: 16 MiB of fp32 draws at a time
  for (auto& slot : slots_) {
    const bool is_vector = slot.shape.size() == 1;
    const bool is_norm =
        slot.name.find("norm") != std::string::npos || slot.name.find("LayerNorm") != std::string::npos;
    const torch::ScalarType stored = narrow.count(slot.name) ? narrow_dtype : dtype;
    if (is_vector && is_norm && slot.name.size() > 7 && slot.name.compare(slot.name.size() - 7, 7, ".weight") == 0) {
      *slot.tensor = torch::ones(slot.shape, opts).to(device, stored);
      continue;
    }
    if (is_vector) {
      *slot.tensor = torch::zeros(slot.shape, opts).to(device, stored);
      continue;
    }
    int64_t numel = 1;
    for (int64_t d : slot.shape) numel *= d;
    if (stored == torch::kFloat32 && device.is_cpu()) {
      *slot.tensor = torch::randn(slot.shape, opts).mul_(0.02);  // in place: the same product as `* 0.02`
      continue;
    }
    if (numel < 2 * kChunk) {
      *slot.tensor = torch::randn(slot.shape, opts).mul_(0.02).to(device, stored);
    } else {
      // A large matrix stored narrower (or elsewhere) is drawn in fp32 a chunk at a time into its final tensor, so
      // the whole fp32 draw never exists: Flan-T5-XL's 32128×2048 embedding and LM head are 251 MiB each in fp32,
      // and building the model in bf16 peaked that much above its end state. The values are those of one whole
      // draw (see fill_normal_chunked in params.h).
      *slot.tensor = torch::empty(slot.shape, torch::TensorOptions().dtype(stored).device(device));
      fill_normal_chunked(*slot.tensor, 0.02, kChunk);
    }
#ifdef __GLIBC__
    // The fp32 draws of a tensor stored in a narrower dtype are freed here, between the narrow tensors that stay;
    // glibc keeps such holes mapped, so a model built in bf16 grew ~2.6 GiB above its weights at Flan-T5-XL size.
    // malloc_trim hands their whole pages back to the system (the values are untouched).
    if (slot.tensor->nbytes() >= (1 << 20)) malloc_trim(0);
#endif
  }
}

std::vector<std::pair<std::string, torch::Tensor*>> Params::set_trainable(bool on,
                                                                          const std::vector<std::string>& prefixes) {
  auto selected = [&](const std::string& name) {
    if (prefixes.empty()) return true;
    for (const auto& p : prefixes)
      if (name.compare(0, p.size(), p) == 0) return true;
    return false;
  };
  std::vector<std::pair<std::string, torch::Tensor*>> trainables;
  for (auto& slot : slots_) {
    const bool train = on && selected(slot.name);
    slot.tensor->set_requires_grad(train);
    if (!train) slot.tensor->mutable_grad() = torch::Tensor();
    if (train) trainables.emplace_back(slot.name, slot.tensor);
  }
  return trainables;
}

void Params::check(const WeightFiles& weights) const {
  std::vector<std::string> missing, mis_shaped, unexpected;
  for (const auto& slot : slots_) {
    if (!weights.contains(slot.name)) {
      missing.push_back(slot.name);
      continue;
    }
    const auto& info = weights.info(slot.name);
    if (info.shape != slot.shape) {
      mis_shaped.push_back(slot.name + " has shape " + shape_string(info.shape) + " in " + weights.file_of(slot.name) +
                           " but the config expects " + shape_string(slot.shape));
    }
    if (info.dtype != "F32" && info.dtype != "F16" && info.dtype != "BF16" && info.dtype != "F64") {
      mis_shaped.push_back(slot.name + " has dtype " + info.dtype + "; expected a floating-point dtype");
    }
  }
  for (const auto& name : weights.names()) {
    if (index_.count(name)) continue;
    auto tie = tied_.find(name);
    if (tie != tied_.end()) {
      const ParamSlot* target = find(tie->second);
      if (target && weights.info(name).shape == target->shape) continue;
    }
    unexpected.push_back(name);
  }
  if (!missing.empty() || !mis_shaped.empty() || !unexpected.empty()) {
    std::string msg = "Checkpoint does not match the model config:";
    auto list = [&msg](const char* what, const std::vector<std::string>& items) {
      if (items.empty()) return;
      msg += std::string("\n  ") + what + " (" + std::to_string(items.size()) + "):";
      for (size_t i = 0; i < items.size() && i < 10; ++i) msg += "\n    " + items[i];
      if (items.size() > 10) msg += "\n    ... and " + std::to_string(items.size() - 10) + " more";
    };
    list("missing tensors", missing);
    list("mis-shaped tensors", mis_shaped);
    list("unexpected tensors", unexpected);
    throw std::runtime_error(msg);
  }
}

}  // namespace blip2
