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

class StartWorker : public PromiseWorker {
 public:
  StartWorker(Napi::Env env, std::shared_ptr<ModelState> model, torch::Tensor pixels, torch::Tensor ids,
              torch::Tensor mask, int64_t expand)
      : PromiseWorker(env), model_(std::move(model)), pixels_(std::move(pixels)), ids_(std::move(ids)),
        mask_(std::move(mask)), expand_(expand) {}

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(model_->mutex);
    set_threads(model_->threads);
    c10::InferenceMode guard;
    auto encoded = model_->model->encode(pixels_, ids_, mask_);
    state_ = std::make_shared<DecoderState>();
    state_->model = model_;
    state_->cache = model_->model->start_decoding(encoded, expand_);
  }
  Napi::Value Result(Napi::Env env) override { return DecoderHandle::Wrap(env, state_); }

 private:
  std::shared_ptr<ModelState> model_;
  torch::Tensor pixels_, ids_, mask_;
  int64_t expand_;
  std::shared_ptr<DecoderState> state_;
};

class StepWorker : public PromiseWorker {
 public:
  StepWorker(Napi::Env env, std::shared_ptr<DecoderState> state, torch::Tensor tokens, torch::Tensor reorder,
             bool logprobs)
      : PromiseWorker(env), state_(std::move(state)), tokens_(std::move(tokens)), reorder_(std::move(reorder)),
        logprobs_(logprobs) {}

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(state_->model->mutex);
    set_threads(state_->model->threads);
    c10::InferenceMode guard;
    if (reorder_.defined()) {
      blip2::profile::Scope timed(blip2::profile::Phase::Reorder);
      const int64_t rows = state_->cache.rows();
      auto idx = reorder_.to(torch::kLong);
      if (idx.numel() > 0 && (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= rows))
        throw std::runtime_error("reorder indices must be between 0 and " + std::to_string(rows - 1));
      state_->cache.select_rows(idx);
    }
    auto scores = state_->model->model->decode_step(state_->cache, tokens_);
    blip2::profile::Scope timed(blip2::profile::Phase::Scores);
    if (logprobs_) scores = torch::log_softmax(scores, -1);
    scores_ = scores.to(torch::kCPU).contiguous();
  }
  Napi::Value Result(Napi::Env env) override {
    state_->busy = false;
    const size_t n = static_cast<size_t>(scores_.numel());
    auto out = Napi::Float32Array::New(env, n);
    if (n) std::memcpy(out.Data(), scores_.data_ptr<float>(), n * sizeof(float));
    return out;
  }

 private:
  std::shared_ptr<DecoderState> state_;
  torch::Tensor tokens_, reorder_;
  bool logprobs_;
  torch::Tensor scores_;
};

}  // namespace

Napi::Function DecoderHandle::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Decoder",
                                    {InstanceMethod<&DecoderHandle::Step>("step"),
                                     InstanceMethod<&DecoderHandle::Dispose>("dispose")});
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
  auto* worker = new StepWorker(env, state_, tokens, reorder, logprobs);
  auto promise = worker->Promise();
  worker->Queue();
  return promise;
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
  auto* worker = new StartWorker(env, std::move(model), pixels, ids, mask, expand);
  auto promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace binding
