#include "grad_checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>

namespace blip2 {

namespace {

struct FnHolder : torch::CustomClassHolder {
  BlockFn fn;
  std::vector<bool> defined;
  torch::Tensor rng_state;  // CPU generator state before the forward, replayed in backward
};

at::Generator cpu_generator() { return at::detail::getDefaultCPUGenerator(); }

class RecomputeFunction : public torch::autograd::Function<RecomputeFunction> {
 public:
  // Four tensor slots (Function::apply tracks tensor arguments, not tensors inside containers).
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, torch::Tensor a, torch::Tensor b,
                                                torch::Tensor c, torch::Tensor d, c10::intrusive_ptr<FnHolder> holder) {
    torch::autograd::variable_list inputs{a, b, c, d};
    {
      auto gen = cpu_generator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      holder->rng_state = gen.get_state();
    }
    torch::autograd::variable_list saved;
    for (const auto& t : inputs) saved.push_back(t.defined() ? t : torch::Tensor());
    ctx->save_for_backward(saved);
    ctx->saved_data["fn"] = c10::IValue::make_capsule(holder);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> args;
    for (size_t i = 0; i < inputs.size(); ++i) args.push_back(holder->defined[i] ? inputs[i] : torch::Tensor());
    return {holder->fn(args)};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    auto holder = c10::static_intrusive_pointer_cast<FnHolder>(ctx->saved_data["fn"].toCapsule());
    auto saved = ctx->get_saved_variables();
    std::vector<torch::Tensor> args;
    std::vector<torch::Tensor> leaves;
    for (size_t i = 0; i < saved.size(); ++i) {
      if (!holder->defined[i]) {
        args.emplace_back();
        continue;
      }
      auto leaf = saved[i].detach().requires_grad_(saved[i].requires_grad());
      args.push_back(leaf);
      leaves.push_back(leaf);
    }
    auto gen = cpu_generator();
    torch::Tensor current;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      current = gen.get_state();
      gen.set_state(holder->rng_state);
    }
    torch::Tensor out;
    {
      torch::AutoGradMode enable(true);
      out = holder->fn(args);
    }
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(current);
    }
    torch::autograd::backward({out}, {grad_out[0]});
    torch::autograd::variable_list grads;
    for (size_t i = 0, k = 0; i < saved.size(); ++i) {
      if (!holder->defined[i]) {
        grads.emplace_back();
        continue;
      }
      const auto& leaf = leaves[k++];
      grads.push_back(leaf.requires_grad() ? leaf.grad() : torch::Tensor());
    }
    grads.emplace_back();  // the holder
    return grads;
  }
};

}  // namespace

torch::Tensor checkpointed(const BlockFn& fn, const std::vector<torch::Tensor>& inputs) {
  if (!torch::GradMode::is_enabled()) return fn(inputs);
  TORCH_CHECK(inputs.size() <= 4, "checkpointed blocks take at most 4 tensors");
  auto holder = c10::make_intrusive<FnHolder>();
  holder->fn = fn;
  std::vector<torch::Tensor> slots(4);
  bool any_requires_grad = false;
  for (size_t i = 0; i < 4; ++i) {
    const bool defined = i < inputs.size() && inputs[i].defined();
    holder->defined.push_back(defined);
    // undefined inputs travel as empty placeholders
    slots[i] = defined ? inputs[i] : torch::empty({0});
    any_requires_grad = any_requires_grad || (defined && slots[i].requires_grad());
  }
  // The block's own parameters (adapters) are not inputs of the autograd Function: when no input requires grad
  // (the first T5 block under T5-only LoRA, its input coming from frozen layers) the output would have no grad_fn
  // and the adapters no gradient. As Hugging Face's enable_input_require_grads, the first input becomes a leaf
  // that requires grad (it has no history to lose); its own gradient is computed and dropped.
  if (!any_requires_grad && holder->defined[0]) slots[0] = slots[0].detach().requires_grad_(true);
  return RecomputeFunction::apply(slots[0], slots[1], slots[2], slots[3], holder)[0];
}

}  // namespace blip2
