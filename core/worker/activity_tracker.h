// ActivityTracker: the activity attempts running in this worker's language
// layer, and when each of them times out.
//
// An attempt fails on its own once it exceeds its schedule-to-close,
// start-to-close or heartbeat timeout. Rather than checking every attempt on
// a fixed tick (an idle worker used to wake 50 times a second for it), the
// tracker computes each attempt's deadline -- the first instant at which a
// timeout has passed -- and the worker's housekeeping thread sleeps until
// the earliest one (worker.cc). Only a change that brings the earliest
// deadline forward wakes it early: a new attempt whose deadline comes before
// the planned wake-up (Start). A heartbeat only pushes a deadline back, so
// it never wakes anyone; the thread finds the later deadline when it wakes.
//
// Times are read by the caller from the worker's Clock; the thread sleeps
// (deadline - clock.Now()) of real time, see worker.h.
//
// Not thread-safe: the Worker guards it with its one mutex (starting an
// attempt happens in the same critical section as taking it off the eager
// queue, so tracking adds no lock to the per-task path).
#ifndef DURABLE_CORE_WORKER_ACTIVITY_TRACKER_H_
#define DURABLE_CORE_WORKER_ACTIVITY_TRACKER_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "core/proto/history.pb.h"
#include "core/storage/store.h"

namespace durable::core {

class ActivityTracker {
 public:
  struct Attempt {
    ActivityTask task;
    absl::Time started;
    absl::Time last_heartbeat;
  };

  // Tracks the attempt handed out under `token`, started at `now`.
  void Start(const std::string& token, ActivityTask task, absl::Time now);
  // Stops tracking the attempt and returns it; nullopt if it is not in
  // flight (unknown token, or it timed out).
  std::optional<ActivityTask> Finish(const std::string& token);
  // Records a heartbeat at `now`; false if the attempt is not in flight.
  bool Heartbeat(const std::string& token, absl::Time now);

  bool empty() const { return attempts_.empty(); }
  // The attempts' leases, for renewal.
  void AppendLeases(std::vector<ActivityTask>& activity_tasks) const;

  // Stops tracking the attempts whose timeout has passed at `now` and
  // returns them with the failure each one ends with.
  std::vector<std::pair<ActivityTask, v1::Failure>> TakeTimedOut(
      absl::Time now);
  // The earliest deadline of the attempts in flight (InfiniteFuture if
  // none). A scan: called only when the housekeeping thread wakes.
  absl::Time NextDeadline() const;

  // The housekeeping thread is about to sleep until `wake_at`; a Start with
  // an earlier deadline from now on asks for an early wake-up.
  void PlanWakeup(absl::Time wake_at) {
    planned_wakeup_ = wake_at;
    wake_requested_ = false;
  }
  bool wake_requested() const { return wake_requested_; }

  // The timeout `attempt` has exceeded at `now`, as its failure, if any.
  static std::optional<v1::Failure> Timeout(const Attempt& attempt,
                                            absl::Time now);
  // The first instant at which Timeout(attempt, t) reports a failure
  // (InfiniteFuture without timeouts).
  static absl::Time Deadline(const Attempt& attempt);

 private:
  absl::flat_hash_map<std::string, Attempt> attempts_;
  absl::Time planned_wakeup_ = absl::InfinitePast();
  bool wake_requested_ = false;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_ACTIVITY_TRACKER_H_
