// Gradient checkpointing (activation recomputation): run a block without keeping its activations for backward, and
// recompute it (with the same random-generator state, so dropout masks repeat) when the gradient is needed —
// torch.utils.checkpoint's semantics. Trades about one extra forward per block for activation memory. Not to be
// confused with weight files (safetensors.h) or resumable training state (lib/train/checkpoint.ts).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

namespace blip2 {

using BlockFn = std::function<torch::Tensor(const std::vector<torch::Tensor>&)>;

// fn(inputs) with activations recomputed in backward. Undefined inputs are allowed (passed through as undefined).
// Outside grad mode, or when nothing requires a gradient, this is just fn(inputs).
torch::Tensor checkpointed(const BlockFn& fn, const std::vector<torch::Tensor>& inputs);

}  // namespace blip2
