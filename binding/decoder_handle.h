// A decoding session: the language model's key/value caches of one batch (and T5's encoder output), kept natively
// between steps. Each step is one AsyncWorker: optional row re-selection, one token per row in, next-token
// scores out.
#pragma once

#include <napi.h>

#include <memory>

#include "language_model.h"
#include "model_handle.h"

namespace binding {

struct DecoderState {
  std::shared_ptr<ModelState> model;
  std::unique_ptr<blip2::DecodingState> cache;
  bool busy = false;  // a step is in flight (checked on the main thread)
};

class DecoderHandle : public Napi::ObjectWrap<DecoderHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<DecoderState> state);
  explicit DecoderHandle(const Napi::CallbackInfo& info);

 private:
  std::shared_ptr<DecoderState> state_;
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
};

// model.startDecoding(inputs, expand) -> Promise<Decoder>
Napi::Value StartDecoding(const Napi::CallbackInfo& info, std::shared_ptr<ModelState> model);

}  // namespace binding
