// Node-API entry points. Glue only: option readers, workers and the model handle; no model math.
#include "group_handle.h"
#include <napi.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <ATen/Parallel.h>

#include "blip2.h"
#include "convert.h"
#include "profile.h"
#include "threads.h"
#include "decoder_handle.h"
#include "model_handle.h"
#include "safetensors.h"
#include "workers.h"

#include <set>

namespace binding {
namespace {

// The dtype option's mixed mode: bf16 Linear weights over fp32 (Blip2Model::set_matmul_dtype).
const char* const kBfloat16Mixed = "bfloat16-mixed";
// The dtype option's int8 mode: int8 Linear weights over fp32 (Blip2Model::quantize_linears).
const char* const kInt8 = "int8";

struct LoadOptions {
  torch::ScalarType dtype = torch::kFloat32;
  std::optional<torch::ScalarType> matmul_dtype;  // "bfloat16-mixed": bf16 Linear weights over fp32
  bool int8 = false;                              // "int8": loaded in fp32, then the Linear weights quantized
  torch::Device device = torch::kCPU;
  int threads = 1;
  int64_t seed = 0;  // random weights only
};

LoadOptions read_load_options(const Napi::Value& value) {
  LoadOptions o;
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "Expected object for options");
  auto obj = value.As<Napi::Object>();
  try {
    const auto dtype = read_string(obj, "dtype", "options");
    if (dtype == kBfloat16Mixed) {
      o.matmul_dtype = torch::kBFloat16;
    } else if (dtype == kInt8) {
      o.int8 = true;
    } else {
      o.dtype = parse_dtype(dtype);
    }
    o.device = parse_device(read_string(obj, "device", "options"));
  } catch (const c10::Error& e) {
    throw Napi::Error::New(value.Env(), e.what_without_backtrace());
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(value.Env(), e.what());
  }
  o.threads = static_cast<int>(read_int(obj, "threads", "options"));
  if (obj.Has("seed")) o.seed = read_int(obj, "seed", "options");
  return o;
}

// Loads a model directory's weights (or builds random weights when dir is empty) into a new model.
Napi::Promise load(Napi::Env env, std::string dir, blip2::Blip2Config config, LoadOptions options) {
  auto state = std::make_shared<ModelState>();
  return queue_task(
      env,
      [state, dir, config, options] {
        set_threads(options.threads);
        state->threads = options.threads;
        state->model = std::make_unique<blip2::Blip2Model>(config);
        // the mixed mode's Linear weights are stored narrow as they are read: the fp32 model never exists whole
        const auto narrow = options.matmul_dtype ? state->model->matmul_parameters() : std::set<std::string>();
        const auto narrow_dtype = options.matmul_dtype.value_or(options.dtype);
        if (dir.empty()) {
          state->model->params.randomize(static_cast<uint64_t>(options.seed), options.dtype, options.device, narrow,
                                         narrow_dtype);
        } else {
          auto weights = blip2::WeightFiles::open_dir(dir);
          state->model->params.load(weights, options.dtype, options.device, narrow, narrow_dtype);
        }
        if (options.matmul_dtype) state->model->set_matmul_dtype(*options.matmul_dtype);
        // int8: the whole fp32 model exists until each Linear is packed and its fp32 weight freed, so the load
        // peaks at the fp32 model's size plus one Linear's packing (lib/model/blip2-model.ts, loadPeakBytes)
        if (options.int8) state->model->quantize_linears();
      },
      [state](Napi::Env e) { return ModelHandle::Wrap(e, state); });
}

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() != 3 || !info[0].IsString())
    throw Napi::TypeError::New(env, "loadModel(dir, config, options) expects a directory path");
  auto config = read_config(info[1]);
  auto options = read_load_options(info[2]);
  return load(env, info[0].As<Napi::String>().Utf8Value(), config, options);
}

Napi::Value RandomModel(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() != 2) throw Napi::TypeError::New(env, "randomModel(config, options) expects two arguments");
  auto config = read_config(info[0]);
  auto options = read_load_options(info[1]);
  return load(env, "", config, options);
}

// The tensors a config expects, name and shape, without allocating any of them; `matmul` marks those the
// bfloat16-mixed mode stores narrow (Blip2Model::matmul_parameters).
Napi::Value ExpectedTensors(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto config = read_config(info[0]);
  std::unique_ptr<blip2::Blip2Model> model;
  try {
    model = std::make_unique<blip2::Blip2Model>(config);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  const auto& slots = model->params.slots();
  const auto matmul = model->matmul_parameters();
  auto out = Napi::Array::New(env, slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    auto entry = Napi::Object::New(env);
    entry.Set("name", slots[i].name);
    auto shape = Napi::Array::New(env, slots[i].shape.size());
    for (size_t j = 0; j < slots[i].shape.size(); ++j)
      shape.Set(static_cast<uint32_t>(j), Napi::Number::New(env, static_cast<double>(slots[i].shape[j])));
    entry.Set("shape", shape);
    entry.Set("matmul", Napi::Boolean::New(env, matmul.count(slots[i].name) > 0));
    out.Set(static_cast<uint32_t>(i), entry);
  }
  return out;
}

// phaseProfile(on): switches the per-phase timers on or off and returns (and resets) the totals so far:
// { [phase]: { seconds, calls } } for the phases that ran.
Napi::Value PhaseProfile(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() != 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(env, "phaseProfile(on) expects a boolean");
  const auto totals = blip2::profile::take();
  blip2::profile::enable(info[0].As<Napi::Boolean>().Value());
  auto out = Napi::Object::New(env);
  for (int i = 0; i < static_cast<int>(blip2::profile::Phase::Count); ++i) {
    if (totals.calls[i] == 0) continue;
    auto entry = Napi::Object::New(env);
    entry.Set("seconds", totals.seconds[i]);
    entry.Set("calls", static_cast<double>(totals.calls[i]));
    out.Set(blip2::profile::name(static_cast<blip2::profile::Phase>(i)), entry);
  }
  return out;
}

// names(): the names the addon accepts, for TypeScript's lists to be checked against: forward outputs, activation
// functions of the configs, and the dtype option's values.
Napi::Value Names(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto list = [&](const std::vector<std::string>& names) {
    auto arr = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); ++i) arr.Set(static_cast<uint32_t>(i), names[i]);
    return arr;
  };
  std::vector<std::string> dtypes;
  for (const auto& [name, type] : parameter_dtypes()) dtypes.push_back(name);
  dtypes.push_back(kBfloat16Mixed);
  dtypes.push_back(kInt8);
  auto obj = Napi::Object::New(env);
  obj.Set("forwardOutputs", list({blip2::kForwardOutputs.begin(), blip2::kForwardOutputs.end()}));
  obj.Set("activations", list(blip2::activation_names()));
  obj.Set("dtypes", list(dtypes));
  return obj;
}

Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto obj = Napi::Object::New(env);
  obj.Set("libtorch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                          std::to_string(TORCH_VERSION_PATCH));
  obj.Set("cuda", Napi::Boolean::New(env, torch::cuda::is_available()));
  obj.Set("cudaDevices", Napi::Number::New(env, static_cast<double>(torch::cuda::device_count())));
  obj.Set("threads", Napi::Number::New(env, at::get_num_threads()));
  obj.Set("parallelInfo", at::get_parallel_info());
  return obj;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Model", ModelHandle::Define(env));
  exports.Set("Decoder", DecoderHandle::Define(env));
  exports.Set("loadModel", Napi::Function::New<LoadModel>(env, "loadModel"));
  exports.Set("randomModel", Napi::Function::New<RandomModel>(env, "randomModel"));
  exports.Set("expectedTensors", Napi::Function::New<ExpectedTensors>(env, "expectedTensors"));
  exports.Set("names", Napi::Function::New<Names>(env, "names"));
  exports.Set("runtimeInfo", Napi::Function::New<RuntimeInfo>(env, "runtimeInfo"));
  exports.Set("phaseProfile", Napi::Function::New<PhaseProfile>(env, "phaseProfile"));
  RegisterDistributed(env, exports);
  return exports;
}

}  // namespace
}  // namespace binding

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return binding::Init(env, exports); }

NODE_API_MODULE(blip2_progressive, InitAddon)
