// One place that sets the intra-op thread count for libtorch and for the BLAS it calls. Debian's libtorch-dev
// pulls in OpenBLAS's pthread build (its alternative has the higher priority), whose own thread pool ignores
// at::set_num_threads: "1 thread" then still ran GEMMs on every core, and 2 threads fought OpenMP's spinning
// team (the base-size forward was slower on 2 threads than on 1). openblas_set_num_threads is looked up at run time
// so other BLAS builds (MKL, Accelerate, CUDA-only libtorch) need nothing.
//
// It sets them only when the count changes: every computation runs on the one executor thread (executor.h), and
// at::set_num_threads called again with the same count still costs a cold start of the intra-op team on the next
// parallel region. Called before every decoder step it made a bf16 base-size greedy decode (20 steps, 8 rows)
// ~2x slower (benchmarks/profile.ts).
#pragma once

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace binding {

inline void set_threads(int threads) {
  thread_local int current = 0;
  if (threads == current) return;
  current = threads;
  at::set_num_threads(threads);
  using SetThreads = void (*)(int);
  static SetThreads openblas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (openblas) openblas(threads);
}

}  // namespace binding
