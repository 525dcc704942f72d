#include "lora.h"

#include <cmath>
#include <regex>
#include <set>
#include <stdexcept>

namespace blip2 {

double LoraConfig::scaling() const {
  return use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r);
}

std::string peft_key(const std::string& module, const char* which) {
  return "base_model.model." + module + "." + which + ".weight";
}

std::vector<std::pair<std::string, Linear*>> select_lora_targets(const Params& params, const LoraConfig& config) {
  std::vector<std::pair<std::string, Linear*>> out;
  if (!config.target_regex.empty()) {
    std::regex re(config.target_regex);
    for (const auto& [name, linear] : params.linears())
      if (std::regex_match(name, re)) out.emplace_back(name, linear);
    if (out.empty())
      throw std::runtime_error("target_modules pattern \"" + config.target_regex +
                               "\" matches no Linear layer of the model");
    return out;
  }
  auto matches = [](const std::string& name, const std::string& target) {
    return name == target ||
           (name.size() > target.size() && name.compare(name.size() - target.size(), target.size(), target) == 0 &&
            name[name.size() - target.size() - 1] == '.');
  };
  std::vector<std::string> unused;
  for (const auto& target : config.targets) {
    bool any = false;
    for (const auto& [name, linear] : params.linears()) any = any || matches(name, target);
    if (!any) unused.push_back(target);
  }
  if (!unused.empty()) {
    std::string list;
    for (const auto& t : unused) list += (list.empty() ? "\"" : ", \"") + t + "\"";
    throw std::runtime_error("target_modules " + list + " match no Linear layer of the model");
  }
  for (const auto& [name, linear] : params.linears()) {
    for (const auto& target : config.targets) {
      if (matches(name, target)) {
        out.emplace_back(name, linear);
        break;
      }
    }
  }
  return out;
}

void LoraSet::attach(const Params& params, const LoraConfig& config, const torch::Device& device, int64_t seed) {
  if (config.r < 1) throw std::runtime_error("LoRA rank r must be at least 1");
  auto selected = select_lora_targets(params, config);
  detach();
  if (seed >= 0) torch::manual_seed(static_cast<uint64_t>(seed));
  torch::NoGradGuard no_grad;
  for (auto& [name, linear] : selected) {
    auto adapter = std::make_unique<LoraAdapter>();
    auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    adapter->A = torch::empty({config.r, linear->in_features}, opts);
    // PEFT: nn.init.kaiming_uniform_(self.lora_A[adapter_name].weight, a=math.sqrt(5)); lora_B zeros
    torch::nn::init::kaiming_uniform_(adapter->A, std::sqrt(5.0));
    adapter->B = torch::zeros({linear->out_features, config.r}, opts);
    adapter->A.set_requires_grad(true);
    adapter->B.set_requires_grad(true);
    adapter->scaling = config.scaling();
    adapter->dropout = config.dropout;
    linear->lora = std::move(adapter);
  }
  config_ = config;
  modules_ = std::move(selected);
}

std::vector<std::pair<std::string, torch::Tensor*>> LoraSet::tensors() const {
  std::vector<std::pair<std::string, torch::Tensor*>> out;
  for (const auto& [name, linear] : modules_) {
    out.emplace_back(peft_key(name, "lora_A"), &linear->lora->A);
    out.emplace_back(peft_key(name, "lora_B"), &linear->lora->B);
  }
  return out;
}

int64_t LoraSet::numel() const {
  int64_t n = 0;
  for (const auto& [name, t] : tensors()) n += t->numel();
  return n;
}

void LoraSet::load(const WeightFiles& weights) {
  auto expected = tensors();
  std::vector<std::string> problems;
  std::set<std::string> names;
  for (const auto& [name, t] : expected) {
    names.insert(name);
    if (!weights.contains(name)) {
      problems.push_back("missing " + name);
      continue;
    }
    const auto& shape = weights.info(name).shape;
    if (shape != t->sizes().vec()) {
      std::string got = "[", want = "[";
      for (size_t i = 0; i < shape.size(); ++i) got += (i ? ", " : "") + std::to_string(shape[i]);
      for (int64_t i = 0; i < t->dim(); ++i) want += (i ? ", " : "") + std::to_string(t->size(i));
      problems.push_back(name + " has shape " + got + "] but the model expects " + want + "]");
    }
  }
  for (const auto& name : weights.names())
    if (!names.count(name)) problems.push_back("unexpected " + name);
  if (!problems.empty()) {
    std::string msg = "Adapter does not match the model (" + std::to_string(problems.size()) + " problems):";
    for (size_t i = 0; i < problems.size() && i < 8; ++i) msg += "\n  " + problems[i];
    if (problems.size() > 8) msg += "\n  ... and " + std::to_string(problems.size() - 8) + " more";
    throw std::runtime_error(msg);
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : expected) t->copy_(weights.read(name, t->scalar_type(), t->device()));
}

void LoraSet::save(const std::string& path) const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [name, t] : tensors()) out.emplace_back(name, *t);
  save_safetensors(path, out, {{"format", "pt"}});
}

void LoraSet::set_training(bool training) {
  for (auto& [name, linear] : modules_) linear->lora->training = training;
}

void LoraSet::merge() {
  if (merged_) return;
  torch::NoGradGuard no_grad;
  for (auto& [name, linear] : modules_) {
    auto& l = *linear->lora;
    linear->weight.add_((torch::matmul(l.B, l.A) * l.scaling).to(linear->weight.scalar_type()));
    linear->merged = true;
  }
  merged_ = true;
}

void LoraSet::unmerge() {
  if (!merged_) return;
  torch::NoGradGuard no_grad;
  for (auto& [name, linear] : modules_) {
    auto& l = *linear->lora;
    linear->weight.sub_((torch::matmul(l.B, l.A) * l.scaling).to(linear->weight.scalar_type()));
    linear->merged = false;
  }
  merged_ = false;
}

void LoraSet::detach() {
  unmerge();
  for (auto& [name, linear] : modules_) linear->lora.reset();
  modules_.clear();
}

}  // namespace blip2
