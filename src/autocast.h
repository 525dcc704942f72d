// bf16 autocast for CUDA training, across the libtorch 1.13 and 2.x APIs. A no-op off CUDA.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace blip2 {

class CudaAutocastBf16 {
 public:
  explicit CudaAutocastBf16(const torch::Device& device) : active_(device.is_cuda()) {
    if (!active_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
#endif
  }
  ~CudaAutocastBf16() {
    if (!active_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
    at::autocast::set_enabled(false);
#endif
    at::autocast::clear_cache();
  }
  CudaAutocastBf16(const CudaAutocastBf16&) = delete;
  CudaAutocastBf16& operator=(const CudaAutocastBf16&) = delete;

 private:
  bool active_;
};

}  // namespace blip2
