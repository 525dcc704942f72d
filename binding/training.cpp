// The model handle's training methods: LoRA adapters, objectives with backward, AdamW, optimizer state.
// Arguments are read on the main thread; the work runs on libuv's pool under the model's mutex.
#include <ATen/Parallel.h>

#include "convert.h"
#include "threads.h"
#include "group_handle.h"
#include "model_handle.h"
#include "safetensors.h"
#include "workers.h"

namespace binding {

namespace {

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string("Expected ") + what);
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Object options_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), "Expected object for options");
  return info[i].As<Napi::Object>();
}

void require_lora(Napi::Env env, const ModelState& state) {
  if (state.lora.empty()) throw Napi::Error::New(env, "No LoRA adapters on this model; call addLora() first");
}

void require_trainer(Napi::Env env, const ModelState& state) {
  if (!state.trainer)
    throw Napi::Error::New(env, "Nothing to train on this model; call addLora() (or setFullTraining(true)) first");
}

blip2::Trainables lora_trainables(ModelState& s) {
  return [&s] { return s.lora.tensors(); };
}

blip2::Trainables all_parameters(ModelState& s) {
  return [&s] {
    std::vector<std::pair<std::string, torch::Tensor*>> out;
    for (const auto& slot : s.model->params.slots()) out.emplace_back(slot.name, slot.tensor);
    return out;
  };
}

Napi::Object lora_summary(Napi::Env env, const ModelState& state) {
  auto obj = Napi::Object::New(env);
  obj.Set("modules", Napi::Number::New(env, static_cast<double>(state.lora.modules().size())));
  obj.Set("trainableParameters", Napi::Number::New(env, static_cast<double>(state.lora.numel())));
  obj.Set("totalParameters",
          Napi::Number::New(env, static_cast<double>(state.lora.numel() + state.model->params.numel())));
  obj.Set("merged", Napi::Boolean::New(env, state.lora.merged()));
  auto names = Napi::Array::New(env, state.lora.modules().size());
  for (size_t i = 0; i < state.lora.modules().size(); ++i)
    names.Set(static_cast<uint32_t>(i), state.lora.modules()[i].first);
  obj.Set("moduleNames", names);
  return obj;
}

}  // namespace

Napi::Value ModelHandle::AddLora(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  auto o = options_arg(info, 0);
  blip2::LoraConfig config;
  config.r = read_int(o, "r", "lora");
  config.alpha = read_double(o, "alpha", "lora");
  config.dropout = read_double(o, "dropout", "lora");
  config.use_rslora = read_bool(o, "useRslora", "lora");
  if (o.Has("targetRegex") && o.Get("targetRegex").IsString()) {
    config.target_regex = read_string(o, "targetRegex", "lora");
  } else {
    auto targets = o.Get("targets");
    if (!targets.IsArray()) throw Napi::TypeError::New(env, "Expected array of strings for lora.targets");
    auto arr = targets.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value t = arr.Get(i);
      if (!t.IsString()) throw Napi::TypeError::New(env, "Expected array of strings for lora.targets");
      config.targets.push_back(t.As<Napi::String>().Utf8Value());
    }
  }
  const int64_t seed = o.Has("seed") && o.Get("seed").IsNumber() ? read_int(o, "seed", "lora") : -1;
  return run_locked(
      env, state,
      [config, seed](ModelState& s) {
        if (s.full_training)
          throw std::runtime_error("full training is on; call setFullTraining(false) before adding adapters");
        s.trainer.reset();
        s.lora.attach(s.model->params, config, s.model->device(), seed);
        s.trainer = std::make_unique<blip2::Trainer>(*s.model, lora_trainables(s));
      },
      [state](Napi::Env e) { return lora_summary(e, *state); });
}

Napi::Value ModelHandle::RemoveLora(const Napi::CallbackInfo& info) {
  auto state = live(info.Env());
  return run_locked(
      info.Env(), state,
      [](ModelState& s) {
        s.trainer.reset();
        s.lora.detach();
      },
      [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::LoraInfo(const Napi::CallbackInfo& info) {
  auto state = live(info.Env());
  return lora_summary(info.Env(), *state);
}

Napi::Value ModelHandle::LoadAdapterWeights(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_lora(env, *state);
  auto path = string_arg(info, 0, "adapter file path");
  return run_locked(
      env, state,
      [path](ModelState& s) {
        if (s.lora.merged()) throw std::runtime_error("unmerge the adapters before loading new weights");
        s.lora.load(blip2::WeightFiles::open_file(path));
      },
      [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::SaveAdapterWeights(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_lora(env, *state);
  auto path = string_arg(info, 0, "adapter file path");
  return run_locked(
      env, state, [path](ModelState& s) { s.lora.save(path); }, [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::MergeLora(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_lora(env, *state);
  return run_locked(env, state, [](ModelState& s) { s.lora.merge(); }, [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::UnmergeLora(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_lora(env, *state);
  return run_locked(env, state, [](ModelState& s) { s.lora.unmerge(); }, [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::SetTraining(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(env, "setTraining(boolean)");
  const bool training = info[0].As<Napi::Boolean>().Value();
  return run_locked(
      env, state, [training](ModelState& s) { s.lora.set_training(training); },
      [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::BackwardCrossEntropy(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_trainer(env, *state);
  auto inputs = read_forward_inputs(info[0]);
  auto o = options_arg(info, 1);
  const double smoothing = read_double_or(o, "labelSmoothing", 0.0, "options");
  const double scale = read_double_or(o, "scale", 1.0, "options");
  auto loss = std::make_shared<double>(0);
  return run_locked(
      env, state,
      [inputs, smoothing, scale, loss](ModelState& s) {
        if (s.lora.merged()) throw std::runtime_error("unmerge the adapters before training");
        *loss = s.trainer->cross_entropy(inputs, smoothing, scale);
      },
      [loss](Napi::Env e) { return Napi::Number::New(e, *loss); });
}

Napi::Value ModelHandle::BackwardWeighted(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_trainer(env, *state);
  auto inputs = read_forward_inputs(info[0]);
  auto weights = read_tensor(info[1], "weights");
  auto o = options_arg(info, 2);
  const double scale = read_double_or(o, "scale", 1.0, "options");
  auto loss = std::make_shared<double>(0);
  auto seq = std::make_shared<std::vector<double>>();
  return run_locked(
      env, state,
      [inputs, weights, scale, loss, seq](ModelState& s) {
        if (s.lora.merged()) throw std::runtime_error("unmerge the adapters before training");
        *loss = s.trainer->weighted_log_likelihood(inputs, weights, scale, seq.get());
      },
      [loss, seq](Napi::Env e) {
        auto obj = Napi::Object::New(e);
        obj.Set("loss", Napi::Number::New(e, *loss));
        auto arr = Napi::Float64Array::New(e, seq->size());
        for (size_t i = 0; i < seq->size(); ++i) arr[i] = (*seq)[i];
        obj.Set("sequenceLogprobs", arr);
        return obj;
      });
}

Napi::Value ModelHandle::OptimizerStep(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_trainer(env, *state);
  auto o = options_arg(info, 0);
  const double lr = read_double(o, "lr", "options");
  const double max_norm = read_double(o, "maxGradNorm", "options");
  blip2::AdamWConfig adam;
  adam.beta1 = read_double(o, "beta1", "options");
  adam.beta2 = read_double(o, "beta2", "options");
  adam.eps = read_double(o, "eps", "options");
  adam.weight_decay = read_double(o, "weightDecay", "options");
  auto norm = std::make_shared<double>(0);
  auto step = std::make_shared<int64_t>(0);
  return run_locked(
      env, state,
      [lr, max_norm, adam, norm, step](ModelState& s) {
        *norm = s.trainer->clip_grad_norm(max_norm);
        s.trainer->adamw_step(lr, adam);
        s.trainer->zero_grad();
        *step = s.trainer->step();
      },
      [norm, step](Napi::Env e) {
        auto obj = Napi::Object::New(e);
        obj.Set("gradNorm", Napi::Number::New(e, *norm));
        obj.Set("step", Napi::Number::New(e, static_cast<double>(*step)));
        return obj;
      });
}

Napi::Value ModelHandle::ZeroGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_trainer(env, *state);
  return run_locked(
      env, state, [](ModelState& s) { s.trainer->zero_grad(); }, [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::SetFullTraining(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(env, "setFullTraining(boolean, prefixes?)");
  const bool on = info[0].As<Napi::Boolean>().Value();
  // optional parameter-name prefixes: only the parameters under them train (empty: every parameter)
  std::vector<std::string> prefixes;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsArray()) throw Napi::TypeError::New(env, "setFullTraining: prefixes must be an array of strings");
    auto list = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      if (!list.Get(i).IsString())
        throw Napi::TypeError::New(env, "setFullTraining: prefixes must be an array of strings");
      prefixes.push_back(list.Get(i).As<Napi::String>().Utf8Value());
    }
  }
  return run_locked(
      env, state,
      [on, prefixes](ModelState& s) {
        if (on && !s.lora.empty()) throw std::runtime_error("remove the LoRA adapters before training every parameter");
        auto trainables = s.model->params.set_trainable(on, prefixes);
        if (on && trainables.empty())
          throw std::runtime_error("no parameter name starts with any of the given prefixes");
        s.full_training = on;
        s.trainer = on ? std::make_unique<blip2::Trainer>(*s.model, [trainables] { return trainables; }) : nullptr;
      },
      [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::SetGradientCheckpointing(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(env, "setGradientCheckpointing(boolean)");
  const bool on = info[0].As<Napi::Boolean>().Value();
  return run_locked(
      env, state, [on](ModelState& s) { s.model->set_gradient_checkpointing(on); },
      [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::LoadWeights(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  auto path = string_arg(info, 0, "weights file path");
  return run_locked(
      env, state, [path](ModelState& s) { s.model->params.reload(blip2::WeightFiles::open_file(path)); },
      [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::LoraTensors(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_lora(env, *state);
  const std::string which = string_arg(info, 0, "'weights' or 'grads'");
  if (which != "weights" && which != "grads") throw Napi::TypeError::New(env, "Expected 'weights' or 'grads'");
  auto out = std::make_shared<std::vector<std::pair<std::string, torch::Tensor>>>();
  return run_locked(
      env, state,
      [which, out](ModelState& s) {
        for (const auto& [name, t] : s.lora.tensors()) {
          torch::Tensor v = which == "weights" ? *t : t->grad();
          if (v.defined()) out->emplace_back(name, v.detach().to(torch::kCPU).contiguous());
        }
      },
      [out](Napi::Env e) {
        auto obj = Napi::Object::New(e);
        for (const auto& [name, t] : *out) obj.Set(name, tensor_to_js(e, t));
        return obj;
      });
}

Napi::Value ModelHandle::SaveOptimizerState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_trainer(env, *state);
  auto path = string_arg(info, 0, "optimizer state file path");
  return run_locked(
      env, state, [path](ModelState& s) { blip2::save_safetensors(path, s.trainer->state()); },
      [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value ModelHandle::LoadOptimizerState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_trainer(env, *state);
  auto path = string_arg(info, 0, "optimizer state file path");
  return run_locked(
      env, state, [path](ModelState& s) { s.trainer->load_state(blip2::WeightFiles::open_file(path)); },
      [](Napi::Env e) { return e.Undefined(); });
}

// reduceGradients(group, { op: 'sum' | 'mean', bucketBytes }) -> Promise<void>: the trainable tensors' gradients
// (adapters, or every parameter in full training) summed or averaged over the group's ranks, in buckets.
Napi::Value ModelHandle::ReduceGradients(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = live(env);
  require_trainer(env, *state);
  auto group = read_group(info[0]);
  auto o = options_arg(info, 1);
  const auto op = read_reduce_op(o.Get("op"));
  const int64_t bucket_bytes = read_int(o, "bucketBytes", "options");
  return run_locked(
      env, state,
      [group, op, bucket_bytes](ModelState& s) {
        std::vector<torch::Tensor*> params;
        // the trainable tensors: every parameter (or the prefixes' subset) in full training, else the adapters
        for (auto& [name, tensor] : (s.full_training ? all_parameters(s) : lora_trainables(s))()) {
          if (tensor->requires_grad()) params.push_back(tensor);
        }
        group->group->reduce_gradients(params, op, bucket_bytes);
      },
      [](Napi::Env e) { return e.Undefined(); });
}

}  // namespace binding
