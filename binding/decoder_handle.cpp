#include "decoder_handle.h"

#include <ATen/Parallel.h>

#include <cstring>

#include "convert.h"
#include "profile.h"
#include "threads.h"
#include "workers.h"

namespace binding {

namespace {

Napi::FunctionReference& decoder_constructor() {
  static Napi::FunctionReference ctor;  // one per process: the addon is loaded once per isolate here
  return ctor;
}

}  // namespace

Napi::Function DecoderHandle::Define(Napi::Env env) {
  Napi::Function ctor =
      DefineClass(env, "Decoder",
                  {InstanceMethod<&DecoderHandle::Step>("step"), InstanceMethod<&DecoderHandle::Dispose>("dispose")});
  decoder_constructor() = Napi::Persistent(ctor);
  return ctor;
}

Napi::Object DecoderHandle::Wrap(Napi::Env env, std::shared_ptr<DecoderState> state) {
  auto* holder = new std::shared_ptr<DecoderState>(std::move(state));
  auto external = Napi::External<std::shared_ptr<DecoderState>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<DecoderState>* p) { delete p; });
  return decoder_constructor().New({external});
}

DecoderHandle::DecoderHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DecoderHandle>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), "Decoder cannot be constructed directly; use model.startDecoding()");
  state_ = *info[0].As<Napi::External<std::shared_ptr<DecoderState>>>().Data();
}

Napi::Value DecoderHandle::Step(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!state_) throw Napi::Error::New(env, "Decoder has been disposed");
  if (state_->busy) throw Napi::Error::New(env, "Decoder step already in flight; await it before the next step");
  if (info.Length() < 1 || !info[0].IsTypedArray())
    throw Napi::TypeError::New(env, "step(tokens, reorder?, logprobs?) expects tokens as an Int32Array");
  auto tokens_arr = info[0].As<Napi::TypedArray>();
  if (tokens_arr.TypedArrayType() != napi_int32_array) throw Napi::TypeError::New(env, "tokens must be an Int32Array");
  auto read_i32 = [&](Napi::TypedArray arr) {
    auto t = torch::empty({static_cast<int64_t>(arr.ElementLength())}, torch::kInt32);
    if (arr.ElementLength())
      std::memcpy(t.data_ptr(), static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), arr.ByteLength());
    return t;
  };
  torch::Tensor tokens = read_i32(tokens_arr);
  torch::Tensor reorder;
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw Napi::TypeError::New(env, "reorder must be an Int32Array");
    reorder = read_i32(info[1].As<Napi::TypedArray>());
  }
  bool logprobs = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  state_->busy = true;
  auto state = state_;
  auto scores = std::make_shared<torch::Tensor>();
  return run_locked(
      env, state->model,
      [state, tokens, reorder, logprobs, scores](ModelState& m) {
        c10::InferenceMode guard;
        if (reorder.defined()) {
          blip2::profile::Scope timed(blip2::profile::Phase::Reorder);
          state->cache->select_rows(reorder);
        }
        *scores = m.model->decode_step(*state->cache, tokens, logprobs).to(torch::kCPU).contiguous();
      },
      [scores](Napi::Env e) {
        const size_t n = static_cast<size_t>(scores->numel());
        auto out = Napi::Float32Array::New(e, n);
        if (n) std::memcpy(out.Data(), scores->data_ptr<float>(), n * sizeof(float));
        return out;
      },
      [state] { state->busy = false; });
}

Napi::Value DecoderHandle::Dispose(const Napi::CallbackInfo& info) {
  state_.reset();
  return info.Env().Undefined();
}

Napi::Value StartDecoding(const Napi::CallbackInfo& info, std::shared_ptr<ModelState> model) {
  auto env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "startDecoding(inputs, expand) expects an object and a number");
  auto in = info[0].As<Napi::Object>();
  auto pixels = read_tensor(in.Get("pixelValues"), "inputs.pixelValues");
  auto ids = read_tensor(in.Get("inputIds"), "inputs.inputIds");
  torch::Tensor mask;
  if (in.Has("attentionMask") && !in.Get("attentionMask").IsUndefined())
    mask = read_tensor(in.Get("attentionMask"), "inputs.attentionMask");
  int64_t expand = info[1].As<Napi::Number>().Int64Value();
  if (expand < 1) throw Napi::RangeError::New(env, "expand must be at least 1");
  auto decoder = std::make_shared<std::shared_ptr<DecoderState>>();
  return run_locked(
      env, model,
      [model, pixels, ids, mask, expand, decoder](ModelState& s) {
        c10::InferenceMode guard;
        auto encoded = s.model->encode(pixels, ids, mask);
        auto state = std::make_shared<DecoderState>();
        state->model = model;
        state->cache = s.model->start_decoding(encoded, expand);
        *decoder = std::move(state);
      },
      [decoder](Napi::Env e) { return DecoderHandle::Wrap(e, *decoder); });
}

}  // namespace binding
