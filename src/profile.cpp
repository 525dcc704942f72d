#include "profile.h"

#include <mutex>

namespace blip2::profile {

namespace {
std::atomic<bool> g_enabled{false};
std::mutex g_mutex;
Totals g_totals;
}  // namespace

const char* name(Phase phase) {
  switch (phase) {
    case Phase::Vision: return "vision";
    case Phase::QFormer: return "qformer";
    case Phase::Projection: return "projection";
    case Phase::TextEncoder: return "textEncoder";
    case Phase::CrossKV: return "crossKV";
    case Phase::DecoderStep: return "decoderStep";
    case Phase::LmHead: return "lmHead";
    case Phase::Reorder: return "reorder";
    case Phase::Scores: return "scores";
    default: return "?";
  }
}

void enable(bool on) { g_enabled.store(on, std::memory_order_relaxed); }
bool enabled() { return g_enabled.load(std::memory_order_relaxed); }

Totals take() {
  std::lock_guard<std::mutex> lock(g_mutex);
  Totals out = g_totals;
  g_totals = Totals{};
  return out;
}

void add(Phase phase, double seconds) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_totals.seconds[static_cast<int>(phase)] += seconds;
  g_totals.calls[static_cast<int>(phase)] += 1;
}

}  // namespace blip2::profile
