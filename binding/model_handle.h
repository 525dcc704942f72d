// The JS-visible model handle. It owns a shared ModelState; every worker holds its own reference, so
// dispose() while a call is in flight frees the model only after that call finishes.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>

#include "blip2.h"
#include "lora.h"
#include "trainer.h"

namespace binding {

struct ModelState {
  std::unique_ptr<blip2::Blip2Model> model;
  std::mutex mutex;  // one native call at a time per model
  int threads = 1;
  blip2::LoraSet lora;                      // adapters attached to the model's Linear layers
  std::unique_ptr<blip2::Trainer> trainer;  // optimizer state: over the adapters, or every parameter
  bool full_training = false;               // every model parameter trainable (no adapters)
};

// Every call that works on a model: `work` runs on the executor (workers.h queue_task) with the model locked and its
// thread count applied; `result` builds the resolved value on the main thread; `settled` (optional) runs there once
// the call has succeeded or failed.
Napi::Promise run_locked(Napi::Env env, std::shared_ptr<ModelState> state, std::function<void(ModelState&)> work,
                         std::function<Napi::Value(Napi::Env)> result, std::function<void()> settled = {});

class ModelHandle : public Napi::ObjectWrap<ModelHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<ModelState> state);
  explicit ModelHandle(const Napi::CallbackInfo& info);

 private:
  std::shared_ptr<ModelState> state_;
  std::shared_ptr<ModelState> live(Napi::Env env) const;

  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value StartDecoding(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // Training (binding/training.cpp)
  Napi::Value AddLora(const Napi::CallbackInfo& info);
  Napi::Value RemoveLora(const Napi::CallbackInfo& info);
  Napi::Value LoraInfo(const Napi::CallbackInfo& info);
  Napi::Value LoadAdapterWeights(const Napi::CallbackInfo& info);
  Napi::Value SaveAdapterWeights(const Napi::CallbackInfo& info);
  Napi::Value MergeLora(const Napi::CallbackInfo& info);
  Napi::Value UnmergeLora(const Napi::CallbackInfo& info);
  Napi::Value SetTraining(const Napi::CallbackInfo& info);
  Napi::Value BackwardCrossEntropy(const Napi::CallbackInfo& info);
  Napi::Value BackwardWeighted(const Napi::CallbackInfo& info);
  Napi::Value OptimizerStep(const Napi::CallbackInfo& info);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value LoraTensors(const Napi::CallbackInfo& info);
  Napi::Value SaveOptimizerState(const Napi::CallbackInfo& info);
  Napi::Value LoadOptimizerState(const Napi::CallbackInfo& info);
  Napi::Value SetFullTraining(const Napi::CallbackInfo& info);
  Napi::Value LoadWeights(const Napi::CallbackInfo& info);
  Napi::Value SetGradientCheckpointing(const Napi::CallbackInfo& info);
  Napi::Value ReduceGradients(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
};

}  // namespace binding
