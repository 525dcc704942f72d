// LoRA adapters on a model's Linear layers, PEFT-compatible: targets chosen by PEFT's rules, PEFT's
// initialisation (A Kaiming-uniform, B zeros), tensors named as PEFT saves them
// (base_model.model.<module>.lora_A.weight / lora_B.weight), merge and unmerge.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "layers.h"
#include "params.h"
#include "safetensors.h"

namespace blip2 {

struct LoraConfig {
  int64_t r = 16;
  double alpha = 32;
  double dropout = 0.05;
  bool use_rslora = false;           // scaling alpha / sqrt(r) instead of alpha / r
  std::vector<std::string> targets;  // PEFT list semantics: a module matches "t" if its name == t or ends with ".t"
  std::string target_regex;          // PEFT string semantics: re.fullmatch on the module name (used when set)
  double scaling() const;
};

// The modules a config selects, in model order; throws if a list entry matches no Linear layer.
std::vector<std::pair<std::string, Linear*>> select_lora_targets(const Params& params, const LoraConfig& config);

class LoraSet {
 public:
  // Attaches fresh adapters (PEFT init; `seed` >= 0 reseeds the generator first) in fp32 on `device`.
  void attach(const Params& params, const LoraConfig& config, const torch::Device& device, int64_t seed);
  bool empty() const { return modules_.empty(); }
  const LoraConfig& config() const { return config_; }
  const std::vector<std::pair<std::string, Linear*>>& modules() const { return modules_; }

  // (PEFT saved name, tensor) for every adapter tensor, A then B per module.
  std::vector<std::pair<std::string, torch::Tensor*>> tensors() const;
  int64_t numel() const;

  // Copies every adapter tensor from a file; strict: names and shapes must match the attached adapters.
  void load(const WeightFiles& weights);
  void save(const std::string& path) const;

  void set_training(bool training);
  void merge();    // W += scaling * B A on every module
  void unmerge();  // W -= scaling * B A
  bool merged() const { return merged_; }
  void detach();  // removes every adapter (unmerging first)

 private:
  LoraConfig config_;
  std::vector<std::pair<std::string, Linear*>> modules_;
  bool merged_ = false;
};

// PEFT's saved-adapter key for a module's tensor: base_model.model.<module>.lora_A.weight
std::string peft_key(const std::string& module, const char* which);

}  // namespace blip2
