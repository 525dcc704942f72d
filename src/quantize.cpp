#include "quantize.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <mutex>
#include <stdexcept>
#include <vector>

namespace blip2 {

std::string quantized_engine_name(c10::QEngine engine) { return c10::toString(engine); }

c10::QEngine select_quantized_engine() {
  // X86 first: PyTorch's x86 default since 1.13, which picks FBGEMM's or oneDNN's kernel per shape; then FBGEMM
  // (x86 server kernels); then oneDNN (x86, and the only x86 one in builds without FBGEMM, such as Debian's); then
  // QNNPACK (ARM). The packed weight is tied to the engine that packed it, so one engine serves the whole model.
  static std::once_flag once;
  static c10::QEngine chosen = c10::QEngine::NoQEngine;
  std::call_once(once, [] {
    const auto& supported = at::globalContext().supportedQEngines();
    for (auto wanted : {c10::QEngine::X86, c10::QEngine::FBGEMM, c10::QEngine::ONEDNN, c10::QEngine::QNNPACK}) {
      for (auto engine : supported) {
        if (engine == wanted) {
          chosen = engine;
          return;
        }
      }
    }
  });
  if (chosen == c10::QEngine::NoQEngine) {
    std::string names;
    for (auto engine : at::globalContext().supportedQEngines())
      names += (names.empty() ? "" : ", ") + quantized_engine_name(engine);
    throw std::runtime_error(
        "dtype 'int8' needs a quantized engine (X86, FBGEMM, ONEDNN or QNNPACK); this libtorch has " +
        (names.empty() ? std::string("none") : names) + "; load with dtype 'float32' instead");
  }
  at::globalContext().setQEngine(chosen);
  return chosen;
}

namespace {

c10::OperatorHandle quantized_op(const char* name) { return c10::Dispatcher::singleton().findSchemaOrThrow(name, ""); }

}  // namespace

c10::IValue pack_int8_linear(const torch::Tensor& weight, const torch::Tensor& bias) {
  select_quantized_engine();
  auto w = weight.to(torch::kFloat32).contiguous();
  // symmetric per output channel: scale = max|w_row| / 127; an all-zero row quantizes to zeros under any scale
  auto scales = (w.abs().amax(1) / 127.0).to(torch::kDouble);
  scales = torch::where(scales > 0, scales, torch::ones_like(scales));
  auto zero_points = torch::zeros({w.size(0)}, torch::kLong);
  auto qweight = torch::quantize_per_channel(w, scales, zero_points, 0, torch::kQInt8);
  static const auto prepack = quantized_op("quantized::linear_prepack");
  torch::jit::Stack stack{qweight, bias.defined() ? c10::IValue(bias.to(torch::kFloat32).contiguous()) : c10::IValue()};
  prepack.callBoxed(&stack);
  return stack.at(0);
}

int64_t int8_activation_levels() {
  static const int64_t levels = [] {
    const auto engine = select_quantized_engine();
    return engine == c10::QEngine::X86 || engine == c10::QEngine::FBGEMM ? 127 : 255;
  }();
  return levels;
}

torch::Tensor int8_linear(const torch::Tensor& x, const c10::IValue& packed, int64_t out_features) {
  static const auto linear_dynamic = quantized_op("quantized::linear_dynamic");
  auto sizes = x.sizes().vec();
  // (..., in) -> (N, in): the kernels take a matrix
  auto flat = x.to(torch::kFloat32).reshape({-1, x.size(-1)}).contiguous();
  const bool reduce_range = int8_activation_levels() == 127;
  torch::jit::Stack stack{flat, packed, reduce_range};
  linear_dynamic.callBoxed(&stack);
  sizes.back() = out_features;
  return stack.at(0).toTensor().view(sizes);
}

}  // namespace blip2
