// LoRA training: objectives that accumulate gradients, global-norm clipping, AdamW (decoupled weight decay,
// as torch.optim.AdamW) with the learning rate set per step by the caller, and the optimizer state
// (moments, step, RNG) that a resumable training checkpoint saves.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "blip2.h"
#include "lora.h"

namespace blip2 {

// torch.optim.AdamW's hyper-parameters, all set by the caller (lib/model/adamw.ts resolveAdamW owns the defaults).
struct AdamWConfig {
  double beta1;
  double beta2;
  double eps;
  double weight_decay;  // decoupled: p *= 1 - lr * weight_decay before the Adam update
};

// The tensors an optimizer updates, by name (adapter tensors, or every model parameter for full training).
using Trainables = std::function<std::vector<std::pair<std::string, torch::Tensor*>>()>;

class Trainer {
 public:
  Trainer(const Blip2Model& model, Trainables trainables) : model_(model), trainables_(std::move(trainables)) {}

  // The objectives run under bf16 autocast on CUDA (CudaAutocastBf16), in the model's dtype elsewhere.
  // Teacher-forced cross-entropy (mean over non-ignored label tokens, optional label smoothing).
  // Backpropagates loss * scale (e.g. 1 / accumulation steps); returns the unscaled loss.
  double cross_entropy(const ForwardInputs& inputs, double label_smoothing, double scale);

  // -(1/B) sum_i w_i sum_t log p(y_it) over the given sequences (labels, -100 = padding). The decoder input
  // at t is the token before y_it (T5 shift-right), so log p is read at the position that predicts y_it.
  // Backpropagates loss * scale; returns the unscaled loss and fills per-sequence sum log p.
  double weighted_log_likelihood(const ForwardInputs& inputs, const torch::Tensor& weights, double scale,
                                 std::vector<double>* sequence_logprobs);

  // Global L2 norm of all adapter gradients; scales them down to max_norm when above it (max_norm > 0).
  double clip_grad_norm(double max_norm);
  void adamw_step(double lr, const AdamWConfig& config);
  void zero_grad();

  int64_t step() const { return step_; }
  // Optimizer moments and step, plus the CPU generator state (LoRA dropout), by name.
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  void load_state(const WeightFiles& state_file);

 private:
  const Blip2Model& model_;
  Trainables trainables_;
  int64_t step_ = 0;
  std::map<std::string, torch::Tensor> exp_avg_, exp_avg_sq_;
  torch::Tensor logits(const ForwardInputs& inputs, torch::Tensor* labels) const;
};

}  // namespace blip2
