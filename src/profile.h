// Wall time per phase of the model (vision, Q-Former, T5 encoder, decoder steps, …), for benchmarks/profile.ts:
// off by default, then one relaxed atomic load per scope. Process-wide: the totals cover every model.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace blip2::profile {

enum class Phase : int {
  Vision,       // vision tower (patch embedding, encoder layers, post layer norm)
  QFormer,      // Q-Former over the image features
  Projection,   // language projection + prompt embeddings
  TextEncoder,  // T5 encoder over [queries; prompt]
  CrossKV,      // the decoder's cross-attention keys and values, once per decode
  DecoderStep,  // one token through the decoder layers (self/cross attention, feed-forward)
  LmHead,       // final layer norm output -> vocabulary logits
  Reorder,      // beam reordering of the decoder cache
  Scores,       // log-softmax of the logits
  Count
};

const char* name(Phase phase);

struct Totals {
  std::array<double, static_cast<int>(Phase::Count)> seconds{};
  std::array<int64_t, static_cast<int>(Phase::Count)> calls{};
};

void enable(bool on);
bool enabled();
// The totals since the last take (and resets them).
Totals take();
void add(Phase phase, double seconds);

// Times its lifetime into `phase` when profiling is on.
class Scope {
 public:
  explicit Scope(Phase phase) : phase_(phase), on_(enabled()) {
    if (on_) start_ = std::chrono::steady_clock::now();
  }
  ~Scope() {
    if (on_) add(phase_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Phase phase_;
  bool on_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace blip2::profile
