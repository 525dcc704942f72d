// c10d process groups for JavaScript: initProcessGroup(options) -> a tagged external handle, collectives on it,
// and the model's gradient all-reduce (binding/training.cpp). Every call that can block on other ranks runs as
// a worker, so the event loop stays free while a rank waits for the others.
#include <chrono>
#include <cstring>

#include "group_handle.h"

#include "convert.h"
#include "model_handle.h"
#include "workers.h"

namespace binding {

namespace {

// Marks the externals this addon made, so a foreign value is refused instead of being dereferenced.
constexpr napi_type_tag kGroupTag = {0x6a3c1f52e4b94d17ULL, 0x9b8e2a7d15c64f03ULL};

}  // namespace

std::shared_ptr<GroupState> read_group(const Napi::Value& value) {
  if (!value.IsExternal() || !value.As<Napi::External<std::shared_ptr<GroupState>>>().CheckTypeTag(&kGroupTag))
    throw Napi::TypeError::New(value.Env(), "Expected a process group handle from initProcessGroup()");
  auto state = *value.As<Napi::External<std::shared_ptr<GroupState>>>().Data();
  if (state->destroyed) throw Napi::Error::New(value.Env(), "The process group has been destroyed");
  return state;
}

blip2::ReduceOp read_reduce_op(const Napi::Value& value) {
  const std::string op = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (op == "sum") return blip2::ReduceOp::Sum;
  if (op == "mean") return blip2::ReduceOp::Mean;
  if (op == "min") return blip2::ReduceOp::Min;
  if (op == "max") return blip2::ReduceOp::Max;
  throw Napi::TypeError::New(value.Env(), "Expected one of sum, mean, min, max for op");
}

// initProcessGroup({ rank, worldSize, masterAddr, masterPort, timeoutMs, backend }) -> Promise<handle>
Napi::Value InitProcessGroup(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "Expected object for options");
  auto o = info[0].As<Napi::Object>();
  blip2::ProcessGroupOptions options{
      static_cast<int>(read_int(o, "rank", "options")),
      static_cast<int>(read_int(o, "worldSize", "options")),
      read_string(o, "masterAddr", "options"),
      static_cast<int>(read_int(o, "masterPort", "options")),
      std::chrono::milliseconds(read_int(o, "timeoutMs", "options")),
      read_string(o, "backend", "options"),
      read_string(o, "fingerprint", "options"),
  };
  auto state = std::make_shared<GroupState>();
  return queue_task(
      env, [state, options] { state->group = std::make_unique<blip2::ProcessGroup>(options); },
      [state](Napi::Env e) -> Napi::Value {
        auto handle = Napi::External<std::shared_ptr<GroupState>>::New(
            e, new std::shared_ptr<GroupState>(state), [](Napi::Env, std::shared_ptr<GroupState>* p) { delete p; });
        handle.TypeTag(&kGroupTag);
        return handle;
      });
}

// groupAllReduce(handle, Float64Array, op) -> Promise<Float64Array> (a new array; the input is not changed)
Napi::Value GroupAllReduce(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto state = read_group(info[0]);
  if (info.Length() < 3 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "Expected Float64Array for values");
  auto input = info[1].As<Napi::Float64Array>();
  auto values = torch::from_blob(input.Data(), {static_cast<int64_t>(input.ElementLength())}, torch::kFloat64).clone();
  const auto op = read_reduce_op(info[2]);
  return queue_task(
      env, [state, values, op]() mutable { state->group->all_reduce(values, op); },
      [values](Napi::Env e) -> Napi::Value {
        auto out = Napi::Float64Array::New(e, static_cast<size_t>(values.numel()));
        std::memcpy(out.Data(), values.data_ptr<double>(), static_cast<size_t>(values.numel()) * sizeof(double));
        return out;
      });
}

// groupBarrier(handle) -> Promise<void>
Napi::Value GroupBarrier(const Napi::CallbackInfo& info) {
  auto state = read_group(info[0]);
  return queue_task(info.Env(), [state] { state->group->barrier(); }, [](Napi::Env e) { return e.Undefined(); });
}

// groupDestroy(handle): closes the store and the group's connections (after calls in flight finish).
Napi::Value GroupDestroy(const Napi::CallbackInfo& info) {
  auto state = read_group(info[0]);
  state->destroyed = true;
  return queue_task(info.Env(), [state] { state->group.reset(); }, [](Napi::Env e) { return e.Undefined(); });
}

void RegisterDistributed(Napi::Env env, Napi::Object exports) {
  exports.Set("initProcessGroup", Napi::Function::New<InitProcessGroup>(env, "initProcessGroup"));
  exports.Set("groupAllReduce", Napi::Function::New<GroupAllReduce>(env, "groupAllReduce"));
  exports.Set("groupBarrier", Napi::Function::New<GroupBarrier>(env, "groupBarrier"));
  exports.Set("groupDestroy", Napi::Function::New<GroupDestroy>(env, "groupDestroy"));
  exports.Set("distributedBackends", [&] {
    auto list = Napi::Array::New(env);
    uint32_t i = 0;
    for (const char* backend : {"gloo", "nccl"})
      if (blip2::ProcessGroup::has_backend(backend)) list.Set(i++, backend);
    return list;
  }());
}

}  // namespace binding
