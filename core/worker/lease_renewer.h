// LeaseRenewer: keeps the leases this worker holds from expiring while their
// work goes on.
//
// Why: a lease is granted for a fixed time (WorkerConfig::
// workflow_task_lease / activity_task_lease) so that a crashed worker's
// tasks come back; a live worker extends every lease it holds -- workflow
// tasks being replayed or committed or queued behind another task of their
// run, activity attempts running in the language layer, eagerly leased
// attempts not polled yet, and the attempts whose result waits for a fused
// task -- every third of the shorter lease, so one failed extension still
// leaves time for the next. A failed extension means the lease is lost; the
// completion reports that, so nothing is done about it here.
//
// The worker's housekeeping thread collects what is held (RunCache,
// ActivityTracker, LocalDispatch) under the worker's mutex when Due() and
// calls Renew() without it. The schedule is kept on the worker's Clock; the
// store stamps the new expiry with its own clock.
//
// Used by the housekeeping thread only; not thread-safe.
#ifndef DURABLE_CORE_WORKER_LEASE_RENEWER_H_
#define DURABLE_CORE_WORKER_LEASE_RENEWER_H_

#include <vector>

#include "absl/time/time.h"
#include "core/storage/store.h"

namespace durable::core {

struct WorkerConfig;

class LeaseRenewer {
 public:
  // What the worker holds at one renewal.
  struct Held {
    std::vector<WorkflowTask> workflow_tasks;
    std::vector<ActivityTask> activity_tasks;
  };

  // `store` and `config` must outlive the renewer.
  LeaseRenewer(Store& store, const WorkerConfig& config);

  // The first renewal is due an interval after `start`.
  void StartSchedule(absl::Time start) { next_due_ = start + interval_; }
  absl::Time next_due() const { return next_due_; }
  bool Due(absl::Time now) const { return now >= next_due_; }
  // Extends every lease in `held`; the next renewal is due an interval
  // after `now`.
  void Renew(const Held& held, absl::Time now);

 private:
  Store& store_;
  const WorkerConfig& config_;
  const absl::Duration interval_;
  absl::Time next_due_ = absl::InfiniteFuture();
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_LEASE_RENEWER_H_
