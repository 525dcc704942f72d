// Promise-returning AsyncWorker base: Execute runs on libuv's pool and never touches V8; exceptions from
// libtorch (c10::Error) and the model code become rejected promises with the message (no C++ backtrace).
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <functional>
#include <string>

#include "executor.h"

namespace binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // Work done off the main thread; throw to fail.
  virtual void Run() = 0;
  // Builds the resolved value on the main thread.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // Runs on the main thread when the call settles, resolved or rejected, before the promise does.
  virtual void Settled() {}

 private:
  Napi::Promise::Deferred deferred_;

  void Execute() final {
    try {
      Executor::instance().run([this] { Run(); });
    } catch (const c10::Error& e) {
      SetError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }
  void OnOK() final {
    Napi::HandleScope scope(Env());
    Settled();
    try {
      deferred_.Resolve(Result(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(Env(), e.what()).Value());
    }
  }
  void OnError(const Napi::Error& e) final {
    Settled();
    deferred_.Reject(e.Value());
  }
};

// A PromiseWorker from two lambdas: `run` on the pool, `result` on the main thread. Every call queues its work this
// way, through queue_task (the model's calls through run_locked, model_handle.h).
class LambdaWorker : public PromiseWorker {
 public:
  LambdaWorker(Napi::Env env, std::function<void()> run, std::function<Napi::Value(Napi::Env)> result,
               std::function<void()> settled)
      : PromiseWorker(env), run_(std::move(run)), result_(std::move(result)), settled_(std::move(settled)) {}

 protected:
  void Run() override { run_(); }
  Napi::Value Result(Napi::Env env) override { return result_(env); }
  void Settled() override {
    if (settled_) settled_();
  }

 private:
  std::function<void()> run_;
  std::function<Napi::Value(Napi::Env)> result_;
  std::function<void()> settled_;
};

// `settled` (optional) runs on the main thread once the call has succeeded or failed.
inline Napi::Promise queue_task(Napi::Env env, std::function<void()> run, std::function<Napi::Value(Napi::Env)> result,
                                std::function<void()> settled = {}) {
  auto* worker = new LambdaWorker(env, std::move(run), std::move(result), std::move(settled));
  auto promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace binding
