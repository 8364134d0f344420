// Task<T>: the coroutine type of workflow code.
//
// A workflow is a function returning durable::Task<R>; helpers it calls may
// return Task<U> and are awaited with `co_await`:
//
//   durable::Task<int> Double(durable::WorkflowContext& ctx, int x) {
//     absl::StatusOr<int> r = co_await ctx.ExecuteActivity(Add, x, x);
//     co_return r.ok() ? *r : 0;
//   }
//
// Contract:
//  - Lazy: calling the function creates a suspended coroutine; nothing runs
//    until the task is awaited (or, for the root, started by the worker).
//    This is what makes replay deterministic: the engine alone decides when
//    workflow code runs.
//  - Awaiting a task transfers control to it symmetrically and resumes the
//    awaiter when it finishes, so deep chains of helpers use no extra stack.
//  - An exception escaping the coroutine is captured and rethrown to the
//    awaiter; escaping the root it fails the workflow with type "panic".
//  - A Task is move-only and owns its coroutine frame: destroying it (for
//    example when the worker evicts a run) destroys the frame.
//  - Workflow code runs on one thread at a time; Task is not thread-safe.
#ifndef DURABLE_TASK_H_
#define DURABLE_TASK_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace durable {

template <class T = void>
class Task;

namespace internal {

// State shared by Task<T> promises of every T.
class TaskPromiseBase {
 public:
  // Resumes whoever awaited the task, or returns to the resumer (the worker)
  // when the task is a root.
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(
        std::coroutine_handle<Promise> finished) noexcept {
      std::coroutine_handle<> continuation = finished.promise().continuation_;
      if (continuation) return continuation;
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  void set_continuation(std::coroutine_handle<> continuation) {
    continuation_ = continuation;
  }
  void RethrowIfFailed() const {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  std::coroutine_handle<> continuation_;
  std::exception_ptr exception_;
};

template <class T>
class TaskPromise : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;

  template <class U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) { value_.emplace(std::forward<U>(value)); }

  T TakeValue() {
    RethrowIfFailed();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class TaskPromise<void> : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void TakeValue() const { RethrowIfFailed(); }
};

}  // namespace internal

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::TaskPromise<T>;
  using value_type = T;

  Task() = default;
  Task(Task&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  // True once the coroutine ran to completion (returned or threw).
  bool done() const { return !handle_ || handle_.done(); }

  // Awaiter interface: start the task and resume the awaiter when it ends.
  bool await_ready() const noexcept { return done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) {
    handle_.promise().set_continuation(awaiter);
    return handle_;
  }
  T await_resume() {
    // An empty (default-constructed or moved-from) Task has no result.
    if (!handle_) throw std::logic_error("co_await on an empty durable::Task");
    return handle_.promise().TakeValue();
  }

  // For the engine that drives a root task: the coroutine to resume first,
  // and the result (rethrowing a captured exception) once done().
  std::coroutine_handle<> handle() const { return handle_; }
  T TakeResult() { return handle_.promise().TakeValue(); }

 private:
  friend promise_type;
  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}

  void Reset() {
    if (handle_) handle_.destroy();
    handle_ = nullptr;
  }

  std::coroutine_handle<promise_type> handle_;
};

namespace internal {

template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}

inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(
      std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

}  // namespace internal
}  // namespace durable

#endif  // DURABLE_TASK_H_
