// WaitGroup: waits for a group of workflow coroutines to finish, like Go's
// sync.WaitGroup.
//
//   durable::WaitGroup wg = ctx.NewWaitGroup();
//   for (int i = 0; i < 3; ++i) {
//     wg.Add(1);
//     ctx.Go([wg, i](durable::WorkflowContext& ctx) mutable
//                -> durable::Task<void> {
//       ...
//       wg.Done();
//     });
//   }
//   co_await wg.Wait();
//
// Contract:
//  - Add(n) adds n (may be negative) to the counter; Done() is Add(-1).
//    Taking the counter below zero is a bug in the workflow: it throws
//    std::logic_error, which fails the workflow with type "panic".
//  - `co_await wg.Wait()` returns once the counter is zero (at once if it
//    is). Every waiter is woken when it reaches zero, in the order they
//    started waiting.
//  - Cheap handle; copies share one counter. Use it only in coroutines of
//    the run that created it.
#ifndef DURABLE_WAIT_GROUP_H_
#define DURABLE_WAIT_GROUP_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <cstdint>
#include <memory>

#include "durable/internal/scheduler.h"
#include "durable/task.h"

namespace durable {

class WorkflowContext;

class WaitGroup {
 public:
  void Add(int64_t delta) const;
  void Done() const { Add(-1); }
  // Awaitable: returns when the counter is zero.
  Task<void> Wait() const;

 private:
  friend class WorkflowContext;

  struct State {
    explicit State(internal::Scheduler* scheduler) : waiters(scheduler) {}
    int64_t count = 0;
    internal::WaitList waiters;
  };

  explicit WaitGroup(internal::Scheduler* scheduler)
      : state_(std::make_shared<State>(scheduler)) {}

  static Task<void> WaitFor(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

}  // namespace durable

#endif  // DURABLE_WAIT_GROUP_H_
