// One place that sets the intra-op thread count for libtorch and for the BLAS it calls. Debian's libtorch-dev
// pulls in OpenBLAS's pthread build (its alternative has the higher priority), whose own thread pool ignores
// at::set_num_threads: "1 thread" then still ran GEMMs on every core, and 2 threads fought OpenMP's spinning
// team (the base-size forward was slower on 2 threads than on 1). openblas_set_num_threads is looked up at run time
// so other BLAS builds (MKL, Accelerate, CUDA-only libtorch) need nothing.
#pragma once

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace binding {

inline void set_threads(int threads) {
  at::set_num_threads(threads);
  using SetThreads = void (*)(int);
  static SetThreads openblas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (openblas) openblas(threads);
}

}  // namespace binding
