// Scheduler and WaitList: how the coroutines of one workflow run block and
// wake up. Internal to the facade; public only because the templates of the
// public headers (futures, channels, signal channels, Select) use them.
//
// Contract:
//  - Every coroutine of a run that can proceed sits in the run's Scheduler
//    ready queue; WorkflowRun resumes them one at a time, first in first out,
//    until the queue is empty. Nothing else resumes workflow code, so the
//    interleaving depends only on the activation's jobs and on the code
//    itself: that is what makes replay deterministic.
//  - A coroutine blocks by adding itself to the WaitList of what it waits for
//    (a future, a channel, a signal name, a wait group). When that changes,
//    its owner wakes the list, which queues the waiters in the order they
//    blocked.
//  - Waking is a hint, not a handoff: a woken coroutine re-checks its
//    condition (a coroutine queued before it may have taken the value) and
//    blocks again if needed.
//  - A Waiter may sit in several lists at once (Select waits on all its
//    cases); the first wake disarms it, so it is queued once.
//
// Single-threaded, like all workflow code.
#ifndef DURABLE_INTERNAL_SCHEDULER_H_
#define DURABLE_INTERNAL_SCHEDULER_H_

#include <coroutine>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

namespace durable::internal {

class Scheduler {
 public:
  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues `coroutine` to be resumed after the ones already queued.
  void Ready(std::coroutine_handle<> coroutine) { ready_.push_back(coroutine); }

  bool empty() const { return ready_.empty(); }

  // The next coroutine to resume; the queue must not be empty.
  std::coroutine_handle<> PopNext() {
    std::coroutine_handle<> next = ready_.front();
    ready_.pop_front();
    return next;
  }

 private:
  std::deque<std::coroutine_handle<>> ready_;
};

// One blocked coroutine, shared by every list it waits in.
struct Waiter {
  explicit Waiter(std::coroutine_handle<> coroutine) : coroutine(coroutine) {}

  std::coroutine_handle<> coroutine;
  // False once some list queued it.
  bool armed = true;
};

class WaitList {
 public:
  // `scheduler` may be null only for lists nobody ever waits in (a future
  // created resolved).
  explicit WaitList(Scheduler* scheduler) : scheduler_(scheduler) {}

  void Add(std::shared_ptr<Waiter> waiter) {
    // Forget waiters another list already woke, so a Select that keeps
    // looping over a quiet channel does not grow the channel's list.
    std::erase_if(waiters_,
                  [](const std::shared_ptr<Waiter>& w) { return !w->armed; });
    waiters_.push_back(std::move(waiter));
  }
  void Add(std::coroutine_handle<> coroutine) {
    Add(std::make_shared<Waiter>(coroutine));
  }

  // Queues every armed waiter on the scheduler, in the order they blocked.
  void WakeAll() {
    std::vector<std::shared_ptr<Waiter>> waiters = std::exchange(waiters_, {});
    for (const std::shared_ptr<Waiter>& waiter : waiters) {
      if (!waiter->armed) continue;
      waiter->armed = false;
      scheduler_->Ready(waiter->coroutine);
    }
  }

  Scheduler* scheduler() const { return scheduler_; }

 private:
  Scheduler* scheduler_;
  std::vector<std::shared_ptr<Waiter>> waiters_;
};

// `co_await WaitOn{list}` blocks until `list` is woken.
struct WaitOn {
  WaitList& list;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> coroutine) const {
    list.Add(coroutine);
  }
  void await_resume() const noexcept {}
};

}  // namespace durable::internal

#endif  // DURABLE_INTERNAL_SCHEDULER_H_
