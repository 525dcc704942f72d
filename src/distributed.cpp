#include "distributed.h"

#include <cstdlib>
#include <stdexcept>
#include <algorithm>
#include <atomic>
#include <thread>

#ifdef BLIP2_WITH_C10D
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

namespace blip2 {

#ifdef BLIP2_WITH_C10D

namespace {

c10d::ReduceOp to_c10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::Min: return c10d::ReduceOp::MIN;
    case ReduceOp::Max: return c10d::ReduceOp::MAX;
    default: return c10d::ReduceOp::SUM;  // Mean = Sum, then divided by the world size
  }
}

}  // namespace

// Both group kinds are held by their concrete type: in libtorch 1.13 they derive from ProcessGroup, in 2.x from
// Backend, and the collectives have the same signatures in both.
struct ProcessGroup::Impl {
  const ProcessGroupOptions* options = nullptr;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#ifdef USE_C10D_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  std::chrono::milliseconds timeout;

  void wait(const c10::intrusive_ptr<c10d::Work>& work) { work->wait(timeout); }

  template <typename F>
  void run(F&& collective) {
    try {
#ifdef USE_C10D_NCCL
      if (nccl) return wait(collective(*nccl));
#endif
      wait(collective(*gloo));
    } catch (const std::exception& e) {
      std::string cause = e.what();
      cause = cause.substr(0, cause.find('\n'));
      throw std::runtime_error(who_failed() + " (" + cause + ")");
    }
  }

  // Liveness: every rank's heartbeat thread bumps its counter in the store twice a second, over a connection of its
  // own. After a failed collective, the ranks whose counters do not move for a few seconds are named as gone; a
  // store that cannot be reached means rank 0, which serves it, is gone.
  c10::intrusive_ptr<c10d::TCPStore> heartbeat_store;
  std::thread heartbeat;
  std::atomic<bool> stopping{false};
  static constexpr auto kBeat = std::chrono::milliseconds(500);

  static std::string beat_key(int rank) { return "blip2-progressive/alive/" + std::to_string(rank); }

  void start_heartbeat() {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(options->master_port);
    o.isServer = false;
    o.waitWorkers = false;
    o.timeout = timeout;
    heartbeat_store = c10::make_intrusive<c10d::TCPStore>(options->master_addr, o);
    heartbeat = std::thread([this] {
      try {
        while (!stopping) {
          heartbeat_store->add(beat_key(options->rank), 1);
          for (auto slept = std::chrono::milliseconds(0); slept < kBeat && !stopping;
               slept += std::chrono::milliseconds(50)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }
      } catch (const std::exception&) {
        // the store is gone (rank 0 died or the group is being torn down): nothing left to report to
      }
    });
  }

  ~Impl() {
    stopping = true;
    if (heartbeat.joinable()) heartbeat.join();
  }

  std::string who_failed() {
    const int me = options->rank;
    const int world = options->world_size;
    const std::string host = options->master_addr + ":" + std::to_string(options->master_port);
    auto key = [](const char* what, int r) {
      return std::string("blip2-progressive/") + what + "/" + std::to_string(r);
    };
    auto marked = [&](const char* what, int r) { return store->check({key(what, r)}); };
    const auto window = kBeat * 6;
    std::vector<int> gone;
    try {
      // a survivor says so first: it may exit (and its heartbeat stop) before the others have looked
      store->set(key("survived", me), std::vector<uint8_t>{1});
      std::vector<int64_t> before;
      for (int r = 0; r < world; ++r) before.push_back(store->add(beat_key(r), 0));
      std::this_thread::sleep_for(window);
      for (int r = 0; r < world; ++r) {
        if (r != me && store->add(beat_key(r), 0) == before[r] && !marked("survived", r)) gone.push_back(r);
      }
      store->set(key("named", me), std::vector<uint8_t>{1});
      if (me == 0) {
        // rank 0 serves the store: keep it up (boundedly) until the other survivors have looked too
        const auto deadline = std::chrono::steady_clock::now() + window;
        for (int r = 1; r < world; ++r) {
          while (std::find(gone.begin(), gone.end(), r) == gone.end() && !marked("named", r) &&
                 std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }
      }
    } catch (const std::exception&) {
      return "rank 0 is gone (the rendezvous store it serves at " + host + " does not answer)";
    }
    if (gone.empty()) return "every rank is alive, so a collective timed out or the ranks issued different collectives";
    std::string names;
    for (size_t i = 0; i < gone.size(); ++i) names += (i ? ", " : "") + std::to_string(gone[i]);
    return (gone.size() == 1 ? "rank " + names + " is" : "ranks " + names + " are") + " gone (no heartbeat for " +
           std::to_string(window.count() / 1000) + " s)";
  }
};

ProcessGroup::ProcessGroup(const ProcessGroupOptions& options) : options_(options), impl_(std::make_unique<Impl>()) {
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    throw std::invalid_argument("rank " + std::to_string(options.rank) + " is outside a world of " +
                                std::to_string(options.world_size));
  }
  if (!has_backend(options.backend))
    throw std::invalid_argument("this libtorch has no " + options.backend + " backend");
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(options.master_port);
  store_options.isServer = options.rank == 0;
  store_options.numWorkers = static_cast<std::size_t>(options.world_size);
  store_options.waitWorkers = true;
  store_options.timeout = options.timeout;
  impl_->timeout = options.timeout;
  impl_->options = &options_;
  impl_->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options);
  check_agreement();
  impl_->start_heartbeat();
#ifdef USE_C10D_NCCL
  if (options.backend == "nccl") {
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = options.timeout;
    impl_->nccl =
        c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, options.rank, options.world_size, nccl_options);
    return;
  }
#endif
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
  // The address this host is reached at: the interface GLOO_SOCKET_IFNAME names (as torch.distributed), else
  // the loopback one when every rank is on this machine, else the one this host's name resolves to.
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  const bool local = options.master_addr == "127.0.0.1" || options.master_addr == "localhost";
  gloo_options->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                  : local           ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                                    : c10d::ProcessGroupGloo::createDefaultDevice());
  impl_->gloo =
      c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, options.rank, options.world_size, gloo_options);
}

ProcessGroup::~ProcessGroup() = default;

// Every rank publishes its world size and fingerprint, then reads everyone's: a rank started with another
// WORLD_SIZE or another configuration is named instead of leaving the others waiting. Rank 0 serves the store, so
// before it gives up it waits (boundedly) until every rank that joined has read what it needs: the others then
// report the mismatch rather than a vanished store.
void ProcessGroup::check_agreement() {
  auto key = [](const char* what, int r) { return std::string("blip2-progressive/") + what + "/" + std::to_string(r); };
  const std::string mine = std::to_string(options_.world_size) + "|" + options_.fingerprint;
  impl_->store->set(key("rank", options_.rank), std::vector<uint8_t>(mine.begin(), mine.end()));
  std::string problem;
  for (int r = 0; r < options_.world_size && problem.empty(); ++r) {
    try {
      impl_->store->wait({key("rank", r)}, options_.timeout);
    } catch (const std::exception&) {
      problem = "rank " + std::to_string(r) + " did not join within " + std::to_string(options_.timeout.count()) +
                " ms (is it running, with the same MASTER_ADDR/MASTER_PORT and WORLD_SIZE=" +
                std::to_string(options_.world_size) + "?)";
      break;
    }
    auto bytes = impl_->store->get(key("rank", r));
    const std::string theirs(bytes.begin(), bytes.end());
    if (theirs == mine) continue;
    const auto bar = theirs.find('|');
    const std::string world = theirs.substr(0, bar);
    if (world != std::to_string(options_.world_size)) {
      problem = "rank " + std::to_string(r) + " was started with WORLD_SIZE=" + world + " but rank " +
                std::to_string(options_.rank) + " with WORLD_SIZE=" + std::to_string(options_.world_size);
    } else {
      problem = "rank " + std::to_string(r) + " runs another configuration than rank " + std::to_string(options_.rank) +
                " (fingerprint " + theirs.substr(bar + 1) + " vs " + options_.fingerprint +
                "): start every rank with the same config";
    }
  }
  if (problem.empty()) return;
  try {
    impl_->store->set(key("checked", options_.rank), std::vector<uint8_t>{1});
    if (options_.rank == 0) {
      const auto deadline =
          std::chrono::steady_clock::now() + std::min(options_.timeout, std::chrono::milliseconds(10000));
      for (int r = 1; r < options_.world_size; ++r) {
        while (impl_->store->check({key("rank", r)}) && !impl_->store->check({key("checked", r)}) &&
               std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    }
  } catch (const std::exception&) {
    // the store is gone: nothing left to wait for
  }
  throw std::runtime_error(problem);
}

bool ProcessGroup::has_backend(const std::string& backend) {
  if (backend == "gloo") return true;
#ifdef USE_C10D_NCCL
  if (backend == "nccl") return true;
#endif
  return false;
}

void ProcessGroup::all_reduce(torch::Tensor& tensor, ReduceOp op) {
  std::vector<torch::Tensor> tensors{tensor};
  c10d::AllreduceOptions opts;
  opts.reduceOp = to_c10d(op);
  impl_->run([&](auto& group) { return group.allreduce(tensors, opts); });
  if (op == ReduceOp::Mean) tensor.div_(options_.world_size);
}

void ProcessGroup::reduce_gradients(const std::vector<torch::Tensor*>& params, ReduceOp op, int64_t bucket_bytes) {
  std::vector<torch::Tensor> grads;
  for (torch::Tensor* p : params) {
    if (!p->grad().defined()) p->mutable_grad() = torch::zeros_like(*p);
    grads.push_back(p->grad());
  }
  size_t begin = 0;
  while (begin < grads.size()) {
    // one bucket: consecutive gradients of one dtype and device, at most bucket_bytes (or a single larger one)
    size_t end = begin;
    int64_t bytes = 0;
    while (end < grads.size() && grads[end].scalar_type() == grads[begin].scalar_type() &&
           grads[end].device() == grads[begin].device() &&
           (end == begin || bytes + static_cast<int64_t>(grads[end].nbytes()) <= bucket_bytes)) {
      bytes += static_cast<int64_t>(grads[end].nbytes());
      ++end;
    }
    std::vector<torch::Tensor> bucket(grads.begin() + static_cast<std::ptrdiff_t>(begin),
                                      grads.begin() + static_cast<std::ptrdiff_t>(end));
    torch::Tensor flat = torch::cat([&] {
      std::vector<torch::Tensor> views;
      for (const auto& g : bucket) views.push_back(g.reshape({-1}));
      return views;
    }());
    all_reduce(flat, op);
    int64_t offset = 0;
    for (auto& g : bucket) {
      g.copy_(flat.narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
    begin = end;
  }
}

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  c10d::BroadcastOptions opts;
  opts.rootRank = root;
  for (auto& t : tensors) {
    std::vector<torch::Tensor> one{t};
    impl_->run([&](auto& group) { return group.broadcast(one, opts); });
  }
}

void ProcessGroup::barrier() {
  // an all-reduce of one element: Gloo's barrier does not honour the group timeout in every version
  torch::Tensor token = torch::zeros({1});
  all_reduce(token, ReduceOp::Sum);
}

#else  // no c10d headers at build time

struct ProcessGroup::Impl {};

ProcessGroup::ProcessGroup(const ProcessGroupOptions& options) : options_(options) {
  throw std::runtime_error(
      "this build of blip2-progressive has no c10d (it was compiled without gloo's headers: install libgloo-dev and "
      "rebuild with npm rebuild blip2-progressive)");
}
ProcessGroup::~ProcessGroup() = default;
bool ProcessGroup::has_backend(const std::string&) { return false; }
void ProcessGroup::all_reduce(torch::Tensor&, ReduceOp) {}
void ProcessGroup::reduce_gradients(const std::vector<torch::Tensor*>&, ReduceOp, int64_t) {}
void ProcessGroup::broadcast(std::vector<torch::Tensor>&, int) {}
void ProcessGroup::barrier() {}
void ProcessGroup::check_agreement() {}

#endif

}  // namespace blip2
