// LocalDispatch: work that goes from one part of this worker to another
// without a trip through the store -- eager activities and the fused step --
// and the poller accounting that decides when that may happen.
//
// Why: a sequential workflow would otherwise cost two commits and two lease
// grants per activity. Two shortcuts bring it to about one fsync:
//   - Eager activity dispatch: a workflow task that schedules activities on
//     a queue this worker serves asks the store to lease some of them to
//     this worker in the same commit, as many as there are activity pollers
//     idle here (ReserveEager); they go straight to those pollers.
//   - The fused step: an activity result whose run is idle in the executor
//     cache is not committed on its own. The workflow task it wakes runs at
//     once on the cached run (no lease, no history read) and the result and
//     that task commit together (StartFusedTask; the commit is the task
//     pipeline's, Store::CompleteActivityWithWorkflowTask).
// Both only pay off when a thread is there to pick the work up now, so at
// most half of the threads polling for each kind of task wait in the store
// (BackendPollLimit); the others wait in the worker for local work.
//
// Not thread-safe: the Worker guards it with its one mutex, together with
// the run cache that the fused step starts tasks in.
#ifndef DURABLE_CORE_WORKER_LOCAL_DISPATCH_H_
#define DURABLE_CORE_WORKER_LOCAL_DISPATCH_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/storage/store.h"
#include "core/worker/activity_result.h"
#include "core/worker/run_cache.h"

namespace durable::core {

class LocalDispatch {
 public:
  // Threads inside a Poll* call for one kind of task: all of them, those
  // waiting in the store, and those waiting here for local work.
  struct Pollers {
    int polling = 0;
    int in_store = 0;
    int waiting = 0;
  };
  Pollers& workflow_pollers() { return workflow_; }
  Pollers& activity_pollers() { return activity_; }
  const Pollers& workflow_pollers() const { return workflow_; }
  const Pollers& activity_pollers() const { return activity_; }

  // How many of `polling` threads may wait in the store at once.
  static int StoreWaitLimit(int polling) {
    return std::max(1, (polling + 1) / 2);
  }
  // Whether another workflow poller may go and wait in the store.
  bool WorkflowStoreTurnFree() const {
    return workflow_.in_store < StoreWaitLimit(workflow_.polling);
  }
  bool ActivityStoreTurnFree() const {
    return activity_.in_store < StoreWaitLimit(activity_.polling);
  }
  // Whether an activity poller waiting here may leave for the store: a turn
  // is free and no commit in progress counts on this poller for an eager
  // activity.
  bool ActivityPollerMayLeave() const {
    return ActivityStoreTurnFree() && activity_.waiting > eager_reserved_;
  }

  // --- Eager activities ---
  bool has_eager() const { return !eager_.empty(); }
  // The oldest attempt leased to this worker by eager dispatch.
  std::optional<ActivityTask> TakeEager();
  // A commit is about to schedule activities, the first `servable` of which
  // this worker can run: how many of them to lease eagerly (one per idle
  // activity poller not promised to another commit), reserved until
  // SettleEager.
  int ReserveEager(int servable);
  // The commit that reserved `reserved` is over; `leased` (null if it
  // failed) are the attempts the store leased to this worker.
  void SettleEager(int reserved, std::vector<ActivityTask>* leased);
  // Every eagerly leased attempt not polled yet (at shutdown).
  std::deque<ActivityTask> TakeAllEager();
  void AppendLeases(std::vector<ActivityTask>& activity_tasks) const;

  // --- The fused step ---
  // Starts the workflow task that `result` wakes on its run cached in
  // `cache`, at the time `clock` tells, and moves `result` into the slot.
  // False (nothing moved) when the run is not idle in the cache or no
  // poller waiting here would pick the activation up at once (then the
  // result may as well wait in the store's inbox). On true, the caller
  // counts the task as in flight.
  bool StartFusedTask(ActivityResult& result, RunCache& cache,
                      const Clock& clock);
  // The store committed only the result of a fused task.
  void CountRefusedFusedTask() { ++counters_.fused_tasks_refused; }

  // Counters since construction (see Worker::Stats).
  struct Counters {
    int64_t eager_activities = 0;
    int64_t fused_tasks = 0;
    int64_t fused_tasks_refused = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  Pollers workflow_;
  Pollers activity_;
  // Attempts leased to this worker by eager dispatch, not yet polled, and
  // how many more commits in progress have asked for (each one promised to
  // a waiting activity poller).
  std::deque<ActivityTask> eager_;
  int eager_reserved_ = 0;
  Counters counters_;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_LOCAL_DISPATCH_H_
