#include "model_handle.h"

#include <ATen/Parallel.h>

#include "convert.h"
#include "threads.h"
#include "decoder_handle.h"
#include "safetensors.h"
#include "workers.h"

namespace binding {

namespace {

struct AddonData {
  Napi::FunctionReference model_constructor;
};

}  // namespace

Napi::Promise run_locked(Napi::Env env, std::shared_ptr<ModelState> state, std::function<void(ModelState&)> work,
                         std::function<Napi::Value(Napi::Env)> result, std::function<void()> settled) {
  return queue_task(
      env,
      [state, work = std::move(work)] {
        std::lock_guard<std::mutex> lock(state->mutex);
        set_threads(state->threads);
        work(*state);
      },
      std::move(result), std::move(settled));
}

Napi::Function ModelHandle::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Model",
                                    {InstanceMethod<&ModelHandle::Forward>("forward"),
                                     InstanceMethod<&ModelHandle::StartDecoding>("startDecoding"),
                                     InstanceMethod<&ModelHandle::Save>("save"),
                                     InstanceMethod<&ModelHandle::Info>("info"),
                                     InstanceMethod<&ModelHandle::Dispose>("dispose"),
                                     InstanceMethod<&ModelHandle::AddLora>("addLora"),
                                     InstanceMethod<&ModelHandle::RemoveLora>("removeLora"),
                                     InstanceMethod<&ModelHandle::LoraInfo>("loraInfo"),
                                     InstanceMethod<&ModelHandle::LoadAdapterWeights>("loadAdapterWeights"),
                                     InstanceMethod<&ModelHandle::SaveAdapterWeights>("saveAdapterWeights"),
                                     InstanceMethod<&ModelHandle::MergeLora>("mergeLora"),
                                     InstanceMethod<&ModelHandle::UnmergeLora>("unmergeLora"),
                                     InstanceMethod<&ModelHandle::SetTraining>("setTraining"),
                                     InstanceMethod<&ModelHandle::BackwardCrossEntropy>("backwardCrossEntropy"),
                                     InstanceMethod<&ModelHandle::BackwardWeighted>("backwardWeighted"),
                                     InstanceMethod<&ModelHandle::OptimizerStep>("optimizerStep"),
                                     InstanceMethod<&ModelHandle::ZeroGrad>("zeroGrad"),
                                     InstanceMethod<&ModelHandle::LoraTensors>("loraTensors"),
                                     InstanceMethod<&ModelHandle::SaveOptimizerState>("saveOptimizerState"),
                                     InstanceMethod<&ModelHandle::LoadOptimizerState>("loadOptimizerState"),
                                     InstanceMethod<&ModelHandle::SetFullTraining>("setFullTraining"),
                                     InstanceMethod<&ModelHandle::LoadWeights>("loadWeights"),
                                     InstanceMethod<&ModelHandle::SetGradientCheckpointing>("setGradientCheckpointing"),
                                     InstanceMethod<&ModelHandle::ReduceGradients>("reduceGradients"),
                                     InstanceAccessor<&ModelHandle::IsDisposed>("disposed")});
  auto* data = new AddonData();
  data->model_constructor = Napi::Persistent(ctor);
  env.SetInstanceData<AddonData>(data);
  return ctor;
}

Napi::Object ModelHandle::Wrap(Napi::Env env, std::shared_ptr<ModelState> state) {
  auto* holder = new std::shared_ptr<ModelState>(std::move(state));
  auto external = Napi::External<std::shared_ptr<ModelState>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<ModelState>* p) { delete p; });
  return env.GetInstanceData<AddonData>()->model_constructor.New({external});
}

ModelHandle::ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), "Model cannot be constructed directly; use loadModel()");
  state_ = *info[0].As<Napi::External<std::shared_ptr<ModelState>>>().Data();
}

std::shared_ptr<ModelState> ModelHandle::live(Napi::Env env) const {
  if (!state_) throw Napi::Error::New(env, "Model has been disposed; load it again to use it");
  return state_;
}

Napi::Value ModelHandle::Forward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsArray())
    throw Napi::TypeError::New(env, "forward(inputs, outputs) expects an object and an array of names");
  auto inputs = read_forward_inputs(info[0]);
  std::set<std::string> want;
  auto names = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    Napi::Value n = names.Get(i);
    if (!n.IsString()) throw Napi::TypeError::New(env, "forward outputs must be strings");
    std::string name = n.As<Napi::String>().Utf8Value();
    if (!blip2::kForwardOutputs.count(name)) throw Napi::TypeError::New(env, "Unknown forward output \"" + name + "\"");
    want.insert(name);
  }
  auto outputs = std::make_shared<std::map<std::string, torch::Tensor>>();
  return run_locked(
      env, state,
      [inputs, want, outputs](ModelState& s) {
        c10::InferenceMode guard;
        *outputs = s.model->forward(inputs, want);
        for (auto& [name, t] : *outputs) t = t.to(torch::kCPU).contiguous();
      },
      [outputs](Napi::Env e) {
        auto obj = Napi::Object::New(e);
        for (const auto& [name, t] : *outputs) obj.Set(name, tensor_to_js(e, t));
        return obj;
      });
}

Napi::Value ModelHandle::StartDecoding(const Napi::CallbackInfo& info) {
  return binding::StartDecoding(info, live(info.Env()));
}

Napi::Value ModelHandle::Save(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "save(path) expects a file path");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  return run_locked(
      env, state,
      [path](ModelState& s) {
        s.model->require_float_weights("save");
        std::vector<std::pair<std::string, torch::Tensor>> tensors;
        for (const auto& slot : s.model->params.slots()) tensors.emplace_back(slot.name, *slot.tensor);
        blip2::save_safetensors(path, tensors, {{"format", "pt"}});
      },
      [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  auto obj = Napi::Object::New(env);
  const auto& model = *state->model;
  obj.Set("numParameters", Napi::Number::New(env, static_cast<double>(model.params.numel())));
  obj.Set("numTensors", Napi::Number::New(env, static_cast<double>(model.params.slots().size())));
  obj.Set("dtype", model.quantized()                       ? std::string("int8")
                   : model.matmul_dtype() == model.dtype() ? dtype_name(model.dtype())
                                                           : dtype_name(model.matmul_dtype()) + "-mixed");
  obj.Set("device", model.device().str());
  obj.Set("threads", Napi::Number::New(env, state->threads));
  return obj;
}

Napi::Value ModelHandle::Dispose(const Napi::CallbackInfo& info) {
  state_.reset();
  return info.Env().Undefined();
}

Napi::Value ModelHandle::IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !state_); }

}  // namespace binding
