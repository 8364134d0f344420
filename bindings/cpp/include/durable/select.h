// Select: waits for the first of several events — futures, workflow
// channels, signal channels — like go-workflows' workflow.Select and
// Temporal's Selector.
//
//   durable::Select select;
//   select.Await(ctx.Sleep(absl::Hours(1)), [&](absl::Status) { late = true; })
//       .Receive(approvals, [&](absl::StatusOr<std::string> who) { ... })
//       .Default([&] { ... });   // optional: do not block
//   co_await select.Wait();      // runs exactly one callback
//
// Contract:
//  - Cases are evaluated in the order they were added. Wait() runs the
//    callback of the first ready case and returns true; if none is ready it
//    runs the Default callback, if there is one, or blocks until a case
//    becomes ready, then re-evaluates all cases in order.
//  - Await(future, fn): ready once the future is resolved; fn receives its
//    outcome (absl::StatusOr<T>, or absl::Status for Future<void>). An Await
//    case fires at most once per Select, so calling Wait() in a loop
//    consumes every future exactly once:
//      while (co_await select.Wait()) {}   // until all Await cases fired
//  - Receive(channel, fn) on a Channel<T>: ready when a value can be
//    received or the channel is closed; fn receives the value (std::nullopt
//    once closed and drained). On a SignalChannel<T>: ready when a signal is
//    buffered; fn receives it decoded. Receive cases fire once per value,
//    any number of times, and only the firing case takes a value.
//  - Default(fn): runs when no case is ready; at most one (a second call
//    replaces the first).
//  - Wait() returns false, without running anything, when no case can ever
//    fire again: every Await case fired and there is neither a Receive nor
//    a Default case.
//  - Callbacks are plain functions run inside Wait(); they may change the
//    Select (add cases). To await inside a case, set a variable in the
//    callback and await after Wait() returns.
//  - Like everything in a workflow, the outcome depends only on history:
//    which cases are ready at a given point is the same on every replay.
//  - A Select must outlive the Wait() being awaited, and belongs to one run.
#ifndef DURABLE_SELECT_H_
#define DURABLE_SELECT_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "durable/channel.h"
#include "durable/future.h"
#include "durable/internal/scheduler.h"
#include "durable/signal_channel.h"
#include "durable/task.h"

namespace durable {

class Select {
 public:
  Select() = default;
  Select(const Select&) = delete;
  Select& operator=(const Select&) = delete;

  template <class T, class F>
  Select& Await(Future<T> future, F callback) {
    std::shared_ptr<internal::FutureState<T>> state = future.state_;
    cases_.push_back(Case{
        .ready = [state] { return state->resolved(); },
        .fire = [state, callback = std::move(
                            callback)]() mutable { callback(state->result()); },
        .add_waiter =
            [state](std::shared_ptr<internal::Waiter> waiter) {
              state->AddWaiter(std::move(waiter));
            },
        .once = true,
    });
    return *this;
  }

  template <class T, class F>
  Select& Receive(const Channel<T>& channel, F callback) {
    std::shared_ptr<internal::ChannelState<T>> state = channel.state_;
    cases_.push_back(Case{
        .ready = [state] { return state->CanReceive(); },
        .fire =
            [state, callback = std::move(callback)]() mutable {
              callback(state->TryTake());
            },
        .add_waiter =
            [state](std::shared_ptr<internal::Waiter> waiter) {
              state->AddReceiver(std::move(waiter));
            },
        .once = false,
    });
    return *this;
  }

  template <class T, class F>
  Select& Receive(const SignalChannel<T>& channel, F callback) {
    std::shared_ptr<internal::SignalBuffer> buffer = channel.buffer_;
    cases_.push_back(Case{
        .ready = [buffer] { return !buffer->pending.empty(); },
        .fire =
            [buffer, callback = std::move(callback)]() mutable {
              callback(DecodePayload<T>(buffer->Pop()));
            },
        .add_waiter =
            [buffer](std::shared_ptr<internal::Waiter> waiter) {
              buffer->receivers.Add(std::move(waiter));
            },
        .once = false,
    });
    return *this;
  }

  template <class F>
  Select& Default(F callback) {
    default_ = std::move(callback);
    return *this;
  }

  // Awaitable: runs one callback and yields true, or yields false if no
  // case can fire any more (see the top comment).
  Task<bool> Wait();

 private:
  struct Case {
    std::function<bool()> ready;
    std::function<void()> fire;
    std::function<void(std::shared_ptr<internal::Waiter>)> add_waiter;
    bool once = false;
    bool fired = false;
  };

  // Blocks until one of the live cases is woken.
  struct WaitForAny {
    Select& select;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> coroutine) const;
    void await_resume() const noexcept {}
  };

  bool live(const Case& c) const { return !(c.once && c.fired); }

  // A deque, so that a callback adding cases does not move the case that is
  // running it.
  std::deque<Case> cases_;
  std::function<void()> default_;
};

}  // namespace durable

#endif  // DURABLE_SELECT_H_
