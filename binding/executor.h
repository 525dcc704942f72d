// One thread runs every libtorch computation of the process. libuv's pool has several threads, and with
// OpenMP each of them would own a separate team of intra-op threads: alternating between them oversubscribes
// the cores and pays a cold-team wake-up on every call (measured: a tiny decoder step took 8 ms instead of
// 0.35 ms at 2 threads). AsyncWorkers still give the event loop its freedom: their Execute hands the work to
// this thread and waits for it.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>

namespace binding {

class Executor {
 public:
  static Executor& instance() {
    static Executor* executor = new Executor();  // never destroyed: the thread lives as long as the process
    return *executor;
  }

  // Runs fn on the executor thread and returns when it is done, rethrowing what it threw.
  void run(const std::function<void()>& fn) {
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push([&] {
        try {
          fn();
        } catch (...) {
          error = std::current_exception();
        }
        std::lock_guard<std::mutex> l(done_mutex);
        done = true;
        done_cv.notify_one();
      });
    }
    cv_.notify_one();
    std::unique_lock<std::mutex> lock(done_mutex);
    done_cv.wait(lock, [&] { return done; });
    if (error) std::rethrow_exception(error);
  }

 private:
  Executor() : thread_([this] { loop(); }) { thread_.detach(); }

  void loop() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::queue<std::function<void()>> queue_;
  std::thread thread_;
};

}  // namespace binding
