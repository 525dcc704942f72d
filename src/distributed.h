// Data parallelism on PyTorch's own engine, c10d: a TCPStore rendezvous and a process group (Gloo on CPU; NCCL
// for CUDA tensors when this libtorch has it). Collectives run on the calling thread and block until every rank
// has joined them or the group's timeout passes; a rank that died makes the others fail with an error naming it
// (survivors report themselves in the store after a failure; the ranks that do not report are named).
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace blip2 {

struct ProcessGroupOptions {
  int rank;
  int world_size;
  std::string master_addr;
  int master_port;
  std::chrono::milliseconds timeout;
  std::string backend;      // "gloo" or "nccl"
  std::string fingerprint;  // every rank must pass the same (e.g. a hash of the run's configuration)
};

enum class ReduceOp { Sum, Mean, Min, Max };

class ProcessGroup {
 public:
  // Rendezvous: rank 0 serves the TCPStore on master_addr:master_port, the others connect to it.
  explicit ProcessGroup(const ProcessGroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }
  const std::string& backend() const { return options_.backend; }

  // Reduces `tensor` in place over all ranks.
  void all_reduce(torch::Tensor& tensor, ReduceOp op);
  // Sums or averages the gradients of `params` over all ranks in place, flattened into buckets of at most
  // `bucket_bytes` (one collective per bucket instead of one per tensor). Parameters without a gradient take
  // part with zeros, so every rank issues the same collectives.
  void reduce_gradients(const std::vector<torch::Tensor*>& params, ReduceOp op, int64_t bucket_bytes);
  // Copies root's tensors to every rank.
  void broadcast(std::vector<torch::Tensor>& tensors, int root);
  void barrier();

  // Whether this libtorch was compiled with the backend.
  static bool has_backend(const std::string& backend);

 private:
  struct Impl;
  void check_agreement();
  ProcessGroupOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace blip2
