// Worker: runs workflow and activity tasks of one backend for a language
// layer, the engine half of durable's core <-> language protocol.
//
// The worker owns everything but the user's code: it polls the backend,
// holds and renews task leases, replays history through a
// WorkflowStateMachine per run, keeps recently used runs in an executor cache
// (LRU, so a cached run only receives new events), checks determinism and
// commits each finished workflow task atomically. The language layer calls
// PollWorkflowActivation / CompleteWorkflowActivation and PollActivityTask /
// CompleteActivityTask from as many threads as it likes; the worker never
// hands out two activations of the same run at once.
//
// Eviction is explicit: when a run leaves the cache (cache full, workflow
// finished, cache size 0, an error) the language layer receives an activation
// whose only job is RemoveFromCache and acknowledges it with an empty
// completion before the run is replayed again.
//
// Shutdown has two steps: InitiateShutdown() stops taking new tasks and wakes
// blocked pollers (which then drain what is left and return SHUTDOWN);
// FinalizeShutdown() waits for in-flight work and releases leftover leases.
//
// Fewer commits per step. Two shortcuts keep a sequential workflow at about
// one fsync per activity instead of two commits and two lease grants:
//   - Eager activity dispatch: a workflow task that schedules activities on
//     a queue this worker serves asks the backend to lease some of them to
//     this worker in the same commit, as many as there are activity pollers
//     idle here; they go straight to those pollers.
//   - The fused step: when an activity's result belongs to a run that is
//     idle in the executor cache, the worker does not commit the result on
//     its own. It runs the workflow task the result wakes on the cached run
//     at once (no lease, no history read) and commits the result and that
//     task together (Store::CompleteActivityWithWorkflowTask). If another
//     worker touched the instance meanwhile, the backend commits only the
//     result and the cached run is dropped; if the workflow task fails, the
//     result is committed on its own and a regular task retries the workflow.
//   So CompleteActivityTask may return before the result is durable: the
//   attempt's lease is held (and renewed) until the fused commit, and a crash
//   before it runs the attempt again, exactly as a crash during the attempt
//   would.
// To let locally produced work reach a thread at once, at most half of the
// threads polling for each kind of task wait in the backend; the others wait
// here for eager activities and fused activations.
//
// Workers of several languages on one queue. Each worker records itself in
// the backend's worker registry (Store::RecordWorker: id, host, pid,
// queues, what it runs), renews that entry every third of its TTL and
// removes it on shutdown; a worker that dies stops counting once its TTL
// passed (liveness is judged here, core/worker_liveness.h). When the
// language layer said what it registered (WorkerConfig::registered_names),
// polls ask the store only for tasks whose workflow or activity name this
// worker runs, or that no other live worker of the task's queue runs (the
// filter is recomputed from the registry about every second, not per poll).
// A task of the second kind is checked against a fresh read of the registry:
// if another live worker runs its name after all (it started since the last
// heartbeat), the task goes back at once for that worker; otherwise it fails
// for good, at once -- the workflow with "WorkflowNotRegistered", the
// activity attempt with a non-retryable "ActivityNotRegistered". Without
// registered_names the worker takes every task of its queues, and other
// workers assume it may run any name there.
//
// Time. Every time the worker stamps or decides on (event timestamps,
// workflow time, activity timeouts, retry times, lease renewal and registry
// heartbeat schedules, the liveness of other workers) is read from
// WorkerConfig::clock. Waiting still happens in real time: a poll's timeout
// and FinalizeShutdown's are real durations, and the housekeeping thread
// sleeps (next deadline - clock->Now()) of real time, at most about a second
// (the registry refresh), so a ManualClock that is moved is noticed within
// that. Give the store the same clock: it stamps lease expiries and due
// times with its own.
//
// How the work is divided (one part per file, each says what it owns):
//   workflow_task_pipeline.cc  polling, activation hand-out and completion
//                              of workflow tasks
//   activity_task_pipeline.cc  the same for activity attempts
//   run_cache.h                the executor cache and eviction activations
//   activity_tracker.h         attempts in flight and their timeout
//                              deadlines
//   local_dispatch.h           eager activities, the fused step, poller
//                              accounting
//   lease_renewer.h            renewal of the leases held
//   failure_policy.h           what fails a task, an attempt or a workflow
//   worker_registry.h          the registry entry, heartbeat, poll filters
//   worker.cc                  this class: owns the parts, the mutex that
//                              guards them, shutdown and the housekeeping
//                              thread that wakes at the next deadline
#ifndef DURABLE_CORE_WORKER_WORKER_H_
#define DURABLE_CORE_WORKER_WORKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/proto/protocol.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"
#include "core/worker/activity_result.h"
#include "core/worker/activity_tracker.h"
#include "core/worker/failure_policy.h"
#include "core/worker/lease_renewer.h"
#include "core/worker/local_dispatch.h"
#include "core/worker/run_cache.h"
#include "core/worker/worker_registry.h"
#include "core/worker_liveness.h"

namespace durable::core {

struct WorkerConfig {
  std::vector<std::string> queues = {kDefaultQueue};
  // Runs kept in the executor cache; 0 replays every task from history.
  int max_cached_runs = 128;
  absl::Duration workflow_task_lease = absl::Seconds(30);
  absl::Duration activity_task_lease = absl::Seconds(60);
  // Delay before a failed workflow task (e.g. non-determinism) is retried.
  absl::Duration workflow_task_retry_delay = absl::Seconds(1);
  // Fail the workflow (failure type "NonDeterminism") instead of retrying
  // its task when replay diverges from history.
  bool fail_workflow_on_nondeterminism = false;
  // A workflow whose history would pass this many events fails
  // ("HistoryLimitExceeded") instead of committing.
  int64_t max_history_length = 50'000;
  // The workflow and activity names the language layer registered; nullopt:
  // every name (see the top comment of Worker).
  std::optional<v1::RegisteredNames> registered_names;
  // This worker's registry entry counts as live this long after each
  // heartbeat (sent every third of it).
  absl::Duration worker_ttl = kDefaultWorkerTtl;
  // Where the worker reads the time (see the top comment; null means the
  // real clock). Not owned; must outlive the worker.
  const Clock* clock = &Clock::Real();

  // Defaults overridden by the set fields of `options`.
  static absl::StatusOr<WorkerConfig> FromProto(
      const v1::WorkerOptions& options);
};

class Worker {
 public:
  Worker(std::shared_ptr<Store> backend, WorkerConfig config);
  ~Worker();

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Blocks up to `timeout` (real time) for the next activation.
  // DEADLINE_EXCEEDED when none arrived; SHUTDOWN (errors.h) once shut down
  // and drained.
  absl::StatusOr<v1::WorkflowActivation> PollWorkflowActivation(
      absl::Duration timeout);

  // Applies the answer to an activation; commits the workflow task when it
  // is done. NON_DETERMINISM / other errors fail the task (history is left
  // untouched and the task is retried after the configured delay).
  absl::Status CompleteWorkflowActivation(
      const v1::WorkflowActivationCompletion& completion);

  // Activity attempts. A failed attempt is retried per the activity's retry
  // policy (re-queued with a backoff, no workflow task); only the final
  // outcome reaches the workflow. Attempts that exceed their start-to-close,
  // schedule-to-close or heartbeat timeout fail on their own.
  absl::StatusOr<v1::ActivityTask> PollActivityTask(absl::Duration timeout);
  absl::Status CompleteActivityTask(const v1::ActivityTaskResult& result);
  // NOT_FOUND once the attempt is no longer in flight (timed out).
  absl::Status RecordActivityHeartbeat(const v1::ActivityHeartbeat& heartbeat);

  void InitiateShutdown();
  // Also removes this worker's registry entry.
  absl::Status FinalizeShutdown(absl::Duration timeout);

  // This worker's registry entry id (a UUID).
  const std::string& worker_id() const { return registry_.worker_id(); }

  // Counters since construction, for benchmarks and tests.
  struct Stats {
    // Activity attempts leased to this worker by eager dispatch.
    int64_t eager_activities = 0;
    // Fused tasks started, and those whose workflow task the backend
    // refused (another worker had moved the instance on).
    int64_t fused_tasks = 0;
    int64_t fused_tasks_refused = 0;
    // Right now: pollers waiting here for locally produced work.
    int idle_workflow_pollers = 0;
    int idle_activity_pollers = 0;
    // Times the housekeeping thread woke (an activity deadline, a lease
    // renewal, a registry refresh, or a new attempt due before those).
    int64_t housekeeping_wakeups = 0;
  };
  Stats stats() const;

 private:
  // A workflow task taken away from its run because it failed, to be
  // handed to the failure policy once the mutex is released.
  struct FailedTask {
    WorkflowTask task;
    std::optional<ActivityResult> fused_result;
    absl::Status why;
    // A task of the same run that waited behind the failed one.
    std::optional<WorkflowTask> next;
  };

  // Waiting is in real time whatever config_.clock says: a poll's timeout
  // is a real duration.
  static absl::Time RealDeadline(absl::Duration timeout) {
    return Clock::Real().Now() + timeout;
  }
  static bool RealTimePassed(absl::Time deadline) {
    return Clock::Real().Now() >= deadline;
  }
  // Short enough that a poller notices shutdown or queued activations of
  // other threads promptly even if it is not woken.
  static constexpr absl::Duration kMaxStoreWait = absl::Milliseconds(250);

  // --- The workflow task pipeline (workflow_task_pipeline.cc) ---
  // Takes ownership of a leased task. `counted`: the task is already in
  // workflow_tasks_in_flight_ (it waited in a slot's queued_task).
  void AcceptWorkflowTask(WorkflowTask task, bool counted = false);
  absl::StatusOr<std::unique_ptr<WorkflowStateMachine>> ReplayMachineFor(
      const WorkflowTask& task);
  // What a poller gets without asking the store: a ready activation, or
  // (while shutting down) SHUTDOWN/DEADLINE_EXCEEDED; nullopt means "poll".
  std::optional<absl::StatusOr<v1::WorkflowActivation>> NextForPollerLocked(
      absl::Time deadline, std::vector<FailedTask>& failed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the next activation of some ready run, if any. Tasks whose
  // replay failed are evicted and added to `failed`, to be abandoned once
  // the lock is released.
  std::optional<v1::WorkflowActivation> TakeReadyLocked(
      std::vector<FailedTask>& failed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the slot's task (and fused result) away because it failed, evicts
  // the run and stops counting the task as in flight; the caller abandons
  // it once the lock is released.
  FailedTask DropTaskLocked(const std::string& execution_id, RunSlot& slot,
                            absl::Status why, std::string eviction_reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Commits the finished workflow task of `execution_id`; `lock` holds mu_ and is
  // released for the store call.
  absl::Status CommitWorkflowTask(const std::string& execution_id, RunSlot& slot,
                                  absl::ReleasableMutexLock& lock)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- The activity task pipeline (activity_task_pipeline.cc) ---
  // Registers a leased attempt as in flight and converts it for the
  // language layer.
  v1::ActivityTask StartAttemptLocked(ActivityTask leased)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Retries the attempt per its policy, or delivers the final failure.
  absl::Status FinishFailedAttempt(const ActivityTask& task,
                                   const v1::Failure& failure);
  // Commits an activity's final result: through a fused task when its run is
  // idle in the cache and a workflow poller is free, on its own otherwise.
  absl::Status DeliverActivityResult(ActivityTask task, v1::HistoryEvent event);

  // --- Coordination (worker.cc) ---
  // The housekeeping thread: sleeps until the next activity deadline, lease
  // renewal or registry refresh (or until a new attempt is due earlier)
  // instead of ticking, then does what is due.
  void RunHousekeeping();

  const std::shared_ptr<Store> store_;
  const WorkerConfig config_;  // config_.clock is never null
  const Clock& clock_;
  std::atomic<bool> stopping_{false};

  // Guards the parts below that say so, and the registry's poll filters:
  // one lock per step of a task.
  mutable absl::Mutex mu_;
  WorkerRegistry registry_;
  FailurePolicy failures_;
  LeaseRenewer leases_;  // housekeeping thread only
  RunCache cache_ ABSL_GUARDED_BY(mu_);
  ActivityTracker activities_ ABSL_GUARDED_BY(mu_);
  LocalDispatch dispatch_ ABSL_GUARDED_BY(mu_);
  // Workflow tasks taken from the store and not yet committed/abandoned,
  // including those still loading history.
  int workflow_tasks_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t housekeeping_wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  bool housekeeping_stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread housekeeping_thread_;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_WORKER_H_
