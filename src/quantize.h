// Int8 weights for the Linear layers (the dtype option's 'int8'): each weight row quantized symmetrically to int8
// (scale = max|w_row| / 127, zero point 0), its products run as PyTorch's dynamic quantized linear, which quantizes
// the activations per call (one scale per input tensor) and returns float32. Inference only: the op has no backward.
//
// The quantized ops are called through the dispatcher, boxed, so no private ATen header (the packed-parameter
// class) is needed and the same code builds against libtorch 1.13 and 2.x.
#pragma once

#include <torch/torch.h>

#include <string>

namespace blip2 {

// The quantized engine the packing uses, set as libtorch's global engine (see quantize.cpp for the order); the
// first call chooses it. Throws, naming the engines this libtorch has, when none of them can run int8 products.
c10::QEngine select_quantized_engine();

// The name the engine goes by in libtorch's messages (c10::toString): "X86", "FBGEMM", "ONEDNN", "QNNPACK".
std::string quantized_engine_name(c10::QEngine engine);

// quantized::linear_prepack of `weight` (out, in), float, quantized per output channel (scale max|w_row| / 127,
// zero point 0), with `bias` (out) in float when defined. Returns the engine's packed-parameter object.
c10::IValue pack_int8_linear(const torch::Tensor& weight, const torch::Tensor& bias);

// The levels the activations are quantized to per call (asymmetric, over [min(x, 0), max(x, 0)]): 255, or 127 with
// FBGEMM's kernels (engines X86 and FBGEMM), whose non-VNNI path sums pairs of u8 x s8 products in saturating int16;
// the choice PyTorch's own dynamic quantization makes per engine (reduce_range).
int64_t int8_activation_levels();

// quantized::linear_dynamic: x (..., in) float32 times a packed int8 weight, plus its bias: (..., out) float32.
torch::Tensor int8_linear(const torch::Tensor& x, const c10::IValue& packed, int64_t out_features);

}  // namespace blip2
