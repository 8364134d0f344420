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
//  - A future is resolved by the engine (an activity result, a timer firing)
//    or by the facade itself (a timer canceled through its context); either
//    way the coroutines awaiting it are queued and resumed in order by the
//    run's scheduler (see internal/scheduler.h), never from inside the call
//    that resolved it. It must be awaited only by coroutines of the run that
//    created it.
//  - Futures can be waited on together with channels with durable::Select
//    (select.h).
#ifndef DURABLE_FUTURE_H_
#define DURABLE_FUTURE_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <coroutine>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/proto/common.pb.h"
#include "durable/internal/scheduler.h"
#include "durable/payload.h"

namespace durable {

class Select;

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
  // `scheduler` is the run's (null only for futures created resolved).
  explicit FutureStateBase(Scheduler* scheduler) : waiters_(scheduler) {}
  virtual ~FutureStateBase() = default;

  virtual bool resolved() const = 0;
  // Stores the outcome (decoding a payload into the value type) and queues
  // the coroutines that were waiting. Later resolutions are ignored.
  virtual void Resolve(absl::StatusOr<v1::Payload> outcome) = 0;

  void AddWaiter(std::shared_ptr<Waiter> waiter) {
    waiters_.Add(std::move(waiter));
  }

 protected:
  void WakeWaiters() { waiters_.WakeAll(); }

 private:
  WaitList waiters_;
};

template <class T>
class FutureState final : public FutureStateBase {
 public:
  using Result = typename FutureTraits<T>::Result;

  explicit FutureState(Scheduler* scheduler) : FutureStateBase(scheduler) {}

  bool resolved() const override { return result_.has_value(); }

  void Resolve(absl::StatusOr<v1::Payload> outcome) override {
    if (outcome.ok()) {
      SetResult(FutureTraits<T>::FromPayload(*outcome));
    } else {
      SetResult(Result(std::move(outcome).status()));
    }
  }

  void SetResult(Result result) {
    if (result_.has_value()) return;
    result_.emplace(std::move(result));
    WakeWaiters();
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
    auto state = std::make_shared<internal::FutureState<T>>(nullptr);
    state->SetResult(std::move(result));
    return Future(std::move(state));
  }

  explicit Future(std::shared_ptr<internal::FutureState<T>> state)
      : state_(std::move(state)) {}

  bool IsReady() const { return state_->resolved(); }

  // Awaiter interface.
  bool await_ready() const noexcept { return state_->resolved(); }
  void await_suspend(std::coroutine_handle<> awaiter) const {
    state_->AddWaiter(std::make_shared<internal::Waiter>(awaiter));
  }
  Result await_resume() const { return state_->result(); }

 private:
  friend class Select;

  std::shared_ptr<internal::FutureState<T>> state_;
};

}  // namespace durable

#endif  // DURABLE_FUTURE_H_
