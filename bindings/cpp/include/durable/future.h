// Future<T>: the eventual outcome of something a workflow started, such as an
// activity (WorkflowContext::ExecuteActivity).
//
//   durable::Future<int> f = ctx.ExecuteActivity(Add, 1, 2);  // command issued
//   ...                                                       // do more work
//   absl::StatusOr<int> sum = co_await f;                     // wait for it
//
// Contract:
//  - `co_await future` yields absl::StatusOr<T> (absl::Status for
//    Future<void>): the decoded result, or the failure as a status carrying
//    the durable.v1.Failure (see failure.h), e.g. the activity's own error
//    type.
//  - Awaiting an already-resolved future does not suspend, and a future may
//    be awaited any number of times; each await returns a copy of the
//    outcome.
//  - Futures are cheap to copy; copies share one outcome, so several
//    coroutines of the same run may hold and await them.
//  - A future is resolved only by the engine, between runs of workflow code,
//    and must be awaited only by coroutines of the run that created it.
#ifndef DURABLE_FUTURE_H_
#define DURABLE_FUTURE_H_

#include <coroutine>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/proto/common.pb.h"
#include "durable/payload.h"

namespace durable {
namespace internal {

template <class T>
struct FutureTraits {
  using Result = absl::StatusOr<T>;
  static Result FromPayload(const v1::Payload& payload) {
    return DecodePayload<T>(payload);
  }
};

template <>
struct FutureTraits<void> {
  using Result = absl::Status;
  // A void future only cares that the work succeeded, whatever it returned.
  static Result FromPayload(const v1::Payload&) { return absl::OkStatus(); }
};

// The part of a future's shared state the engine sees: it resolves futures by
// sequence number without knowing their value types.
class FutureStateBase {
 public:
  virtual ~FutureStateBase() = default;

  virtual bool resolved() const = 0;
  // Stores the outcome (decoding a payload into the value type). Returns the
  // coroutines that were waiting, which the engine resumes.
  virtual std::vector<std::coroutine_handle<>> Resolve(
      absl::StatusOr<v1::Payload> outcome) = 0;

  void AddWaiter(std::coroutine_handle<> waiter) { waiters_.push_back(waiter); }

 protected:
  std::vector<std::coroutine_handle<>> TakeWaiters() {
    return std::exchange(waiters_, {});
  }

 private:
  std::vector<std::coroutine_handle<>> waiters_;
};

template <class T>
class FutureState final : public FutureStateBase {
 public:
  using Result = typename FutureTraits<T>::Result;

  bool resolved() const override { return result_.has_value(); }

  std::vector<std::coroutine_handle<>> Resolve(
      absl::StatusOr<v1::Payload> outcome) override {
    if (outcome.ok()) {
      return SetResult(FutureTraits<T>::FromPayload(*outcome));
    }
    return SetResult(Result(std::move(outcome).status()));
  }

  std::vector<std::coroutine_handle<>> SetResult(Result result) {
    result_.emplace(std::move(result));
    return TakeWaiters();
  }

  const Result& result() const { return *result_; }

 private:
  std::optional<Result> result_;
};

}  // namespace internal

template <class T>
class Future {
 public:
  using Result = typename internal::FutureTraits<T>::Result;

  // A future that is already resolved with `result`.
  static Future Resolved(Result result) {
    auto state = std::make_shared<internal::FutureState<T>>();
    state->SetResult(std::move(result));
    return Future(std::move(state));
  }

  explicit Future(std::shared_ptr<internal::FutureState<T>> state)
      : state_(std::move(state)) {}

  bool IsReady() const { return state_->resolved(); }

  // Awaiter interface.
  bool await_ready() const noexcept { return state_->resolved(); }
  void await_suspend(std::coroutine_handle<> awaiter) const {
    state_->AddWaiter(awaiter);
  }
  Result await_resume() const { return state_->result(); }

 private:
  std::shared_ptr<internal::FutureState<T>> state_;
};

}  // namespace durable

#endif  // DURABLE_FUTURE_H_
