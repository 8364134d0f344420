// PollLoop: the one blocking loop behind every store's blocking calls
// (Store::GetWorkflowTask, GetActivityTask, WaitForWorkflowInstanceFinished).
//
// A store writes only the non-blocking half -- one attempt that looks for
// what the caller waits for (and takes it, e.g. grants a lease) and, when
// there is nothing, says when something may next become ready -- and hands
// it to PollUntil, which owns the waiting:
//
//   while true:
//     if *stop:                 return kStopped
//     seen = notifier.generation()      // before looking: a commit between
//     found = attempt(&next_due)        // the look and the wait is not lost
//     if found:                 return kFound
//     if clock.Now() >= deadline: return kDeadline
//     wait for notifier to move past `seen`, at most until the earliest of
//       deadline, next_due, and now + recheck_interval
//
// So a call always looks at least once (a deadline in the past is a
// non-blocking poll), stops as soon as `stop` is set and the notifier is
// bumped (Store::Interrupt), wakes at once on a commit of its own process
// (the store bumps the notifier after each one), at the next due time (a
// timer, a retry delay, an expiring lease), and at least every
// `recheck_interval` to see work committed by other processes, which cannot
// bump this process's notifier. A store whose other processes can wake it
// (a blocking Redis command, LISTEN/NOTIFY) passes a long interval.
//
// Time: `deadline` and `next_due` are times of `clock` (the store's Clock),
// but waiting happens in real time: the loop waits for the span between
// clock.Now() and the earliest wake-up. On a ManualClock that stands still a
// poll therefore re-checks every `recheck_interval` (or sooner, at a due
// time the attempt reports) and returns at its deadline only once the clock
// was moved past it.
#ifndef DURABLE_CORE_STORAGE_POLL_LOOP_H_
#define DURABLE_CORE_STORAGE_POLL_LOOP_H_

#include <atomic>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/storage/change_notifier.h"

namespace durable::core {

struct PollLoopOptions {
  // Reads the time for deadlines and due times. Not owned; must outlive the
  // loop.
  const Clock* clock = &Clock::Real();
  // Bumped by the store after each commit that may create work, and by
  // Interrupt(). Not owned.
  const ChangeNotifier* notifier = nullptr;
  // The longest wait without a look (see the top of this file).
  absl::Duration recheck_interval = absl::Milliseconds(100);
};

enum class PollOutcome {
  // `attempt` returned true.
  kFound,
  // `*stop` was true before an attempt.
  kStopped,
  // An attempt found nothing at or after `deadline`.
  kDeadline,
};

// Runs `attempt` until it returns true, `*stop` is true (`stop` may be null)
// or `deadline` passes, as described at the top of this file. `attempt`
// receives `*next_due` set to InfiniteFuture() and lowers it to the earliest
// time at which something may become ready when it finds nothing. An error
// of `attempt` ends the loop and is returned.
absl::StatusOr<PollOutcome> PollUntil(
    const PollLoopOptions& options, absl::Time deadline,
    const std::atomic<bool>* stop,
    absl::FunctionRef<absl::StatusOr<bool>(absl::Time* next_due)> attempt);

}  // namespace durable::core

#endif  // DURABLE_CORE_STORAGE_POLL_LOOP_H_
