#include "trainer.h"

#include "autocast.h"

#include <cmath>
#include <stdexcept>

namespace blip2 {

torch::Tensor Trainer::logits(const ForwardInputs& inputs, torch::Tensor* labels) const {
  if (!inputs.labels.defined()) throw std::runtime_error("training needs labels");
  *labels = inputs.labels.to(model_.device(), torch::kLong);
  auto out = model_.forward(inputs, {"logits"});
  return out.at("logits").to(torch::kFloat32);
}

double Trainer::cross_entropy(const ForwardInputs& inputs, double label_smoothing, double scale) {
  CudaAutocastBf16 autocast(model_.device());
  torch::Tensor labels;
  auto lg = logits(inputs, &labels);
  auto loss = torch::nn::functional::cross_entropy(
      lg.reshape({-1, lg.size(-1)}), labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).label_smoothing(label_smoothing));
  (loss * scale).backward();
  return loss.item<double>();
}

double Trainer::weighted_log_likelihood(const ForwardInputs& inputs, const torch::Tensor& weights, double scale,
                                        std::vector<double>* sequence_logprobs) {
  CudaAutocastBf16 autocast(model_.device());
  torch::Tensor labels;
  auto lg = logits(inputs, &labels);
  const int64_t B = labels.size(0);
  if (weights.numel() != B) {
    throw std::runtime_error("weights needs one value per sequence: " + std::to_string(B) + " sequences but " +
                             std::to_string(weights.numel()) + " weights");
  }
  auto seq_logp = token_log_probs(lg, labels).sum(1);  // (B)
  auto w = weights.to(seq_logp.device(), torch::kFloat32);
  auto loss = -(w * seq_logp).sum() / static_cast<double>(B);
  (loss * scale).backward();
  if (sequence_logprobs) {
    auto cpu = seq_logp.detach().to(torch::kCPU, torch::kFloat64).contiguous();
    sequence_logprobs->assign(cpu.data_ptr<double>(), cpu.data_ptr<double>() + B);
  }
  return loss.item<double>();
}

double Trainer::clip_grad_norm(double max_norm) {
  torch::NoGradGuard no_grad;
  double total_sq = 0;
  std::vector<torch::Tensor*> grads;
  for (auto& [name, t] : trainables_()) {
    if (!t->grad().defined()) continue;
    grads.push_back(t);
    total_sq += t->grad().to(torch::kFloat64).pow(2).sum().item<double>();
  }
  const double total = std::sqrt(total_sq);
  if (max_norm > 0) {
    // torch.nn.utils.clip_grad_norm_: clip_coef = max_norm / (total_norm + 1e-6), applied when < 1
    const double coef = max_norm / (total + 1e-6);
    if (coef < 1)
      for (auto* t : grads) t->mutable_grad().mul_(coef);
  }
  return total;
}

void Trainer::adamw_step(double lr, const AdamWConfig& c) {
  torch::NoGradGuard no_grad;
  step_ += 1;
  const double bias_correction1 = 1 - std::pow(c.beta1, static_cast<double>(step_));
  const double bias_correction2 = 1 - std::pow(c.beta2, static_cast<double>(step_));
  const double step_size = lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  for (auto& [name, p] : trainables_()) {
    if (!p->grad().defined()) continue;
    const auto& grad = p->grad();
    auto& m = exp_avg_[name];
    auto& v = exp_avg_sq_[name];
    if (!m.defined()) {
      m = torch::zeros_like(*p);
      v = torch::zeros_like(*p);
    }
    // torch.optim.AdamW (single tensor): decay first, then the Adam update with bias corrections
    p->mul_(1 - lr * c.weight_decay);
    m.mul_(c.beta1).add_(grad, 1 - c.beta1);
    v.mul_(c.beta2).addcmul_(grad, grad, 1 - c.beta2);
    auto denom = (v.sqrt() / bias_correction2_sqrt).add_(c.eps);
    p->addcdiv_(m, denom, -step_size);
  }
}

void Trainer::zero_grad() {
  for (auto& [name, t] : trainables_())
    if (t->grad().defined()) t->mutable_grad() = torch::Tensor();
}

std::vector<std::pair<std::string, torch::Tensor>> Trainer::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [name, m] : exp_avg_) out.emplace_back("exp_avg." + name, m);
  for (const auto& [name, v] : exp_avg_sq_) out.emplace_back("exp_avg_sq." + name, v);
  out.emplace_back("step", torch::tensor({step_}, torch::kInt64));
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  out.emplace_back("rng.cpu", generator.get_state());
  return out;
}

void Trainer::load_state(const WeightFiles& state_file) {
  std::map<std::string, torch::Tensor> m, v;
  for (const auto& [name, t] : trainables_()) {
    for (const char* which : {"exp_avg.", "exp_avg_sq."}) {
      const std::string key = which + name;
      if (!state_file.contains(key)) continue;
      if (state_file.info(key).shape != t->sizes().vec())
        throw std::runtime_error("optimizer state " + key + " does not match the shape of " + name);
      (std::string(which) == "exp_avg." ? m : v)[name] = state_file.read(key, torch::kFloat32, t->device());
    }
  }
  if (!state_file.contains("step")) throw std::runtime_error("optimizer state has no \"step\"");
  for (const auto& name : state_file.names()) {
    if (name == "step" || name == "rng.cpu") continue;
    const auto dot = name.find('.');
    const std::string param = dot == std::string::npos ? name : name.substr(dot + 1);
    if ((m.count(param) == 0 && v.count(param) == 0))
      throw std::runtime_error("optimizer state has " + name + ", which matches no trainable tensor");
  }
  exp_avg_ = std::move(m);
  exp_avg_sq_ = std::move(v);
  step_ = state_file.read("step", torch::kInt64, torch::kCPU).item<int64_t>();
  if (state_file.contains("rng.cpu")) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state_file.read("rng.cpu", torch::kUInt8, torch::kCPU));
  }
}

}  // namespace blip2
