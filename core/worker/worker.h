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
#ifndef DURABLE_CORE_WORKER_WORKER_H_
#define DURABLE_CORE_WORKER_WORKER_H_

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/proto/protocol.pb.h"
#include "core/proto/service.pb.h"
#include "core/replay/workflow_state_machine.h"
#include "core/storage/store.h"
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

  // Blocks up to `timeout` for the next activation. DEADLINE_EXCEEDED when
  // none arrived; SHUTDOWN (errors.h) once shut down and drained.
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
  const std::string& worker_id() const { return worker_id_; }

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
  };
  Stats stats() const;

 private:
  // An activity's final result (ActivityCompleted or ActivityFailed) whose
  // commit waits for the fused workflow task of its run.
  struct ActivityResult {
    ActivityTask task;
    v1::HistoryEvent event;
  };

  // Per-run state: the replay machine, the task it is working on and what the
  // language layer holds.
  struct RunSlot {
    std::unique_ptr<WorkflowStateMachine> machine;
    // The task being worked on: loading history, replaying or committing.
    std::optional<WorkflowTask> task;
    // A task for this run that arrived while another was in progress.
    std::optional<WorkflowTask> queued_task;
    bool committing = false;   // task's commit is running (no lock held)
    bool outstanding = false;  // an activation is with the language layer
    bool evicting = false;     // ... and it is a RemoveFromCache
    bool language_has_state = false;
    // With `task` set: the task is a fused one (see the top comment) and
    // this result is committed together with it.
    std::optional<ActivityResult> fused_result;
    // The run's instance, queue and metadata (a task without events or
    // lease), kept while the run is cached to build fused tasks from.
    std::optional<WorkflowTask> identity;
    std::optional<std::string> eviction_reason;
    bool in_lru = false;
    std::list<std::string>::iterator lru_position;
  };

  struct InFlightActivity {
    ActivityTask task;
    absl::Time started;
    absl::Time last_heartbeat;
  };

  // Retries the attempt per its policy, or reports the final failure.
  absl::Status FinishFailedAttempt(const ActivityTask& task,
                                   const v1::Failure& failure);
  // The timeout an in-flight attempt exceeded, as a failure, if any.
  static std::optional<v1::Failure> ActivityTimeout(
      const InFlightActivity& activity, absl::Time now);

  struct FailedTask {
    WorkflowTask task;
    std::optional<ActivityResult> fused_result;
    absl::Status why;
    // A task of the same run that waited behind the failed one.
    std::optional<WorkflowTask> next;
  };

  // Takes ownership of a leased task. `counted`: the task is already in
  // workflow_tasks_in_flight_ (it waited in a slot's queued_task).
  void AcceptWorkflowTask(WorkflowTask task, bool counted = false);
  absl::StatusOr<std::unique_ptr<WorkflowStateMachine>> ReplayMachineFor(
      const WorkflowTask& task);
  // What a poller gets without asking the backend: a ready activation, or
  // (while shutting down) SHUTDOWN/DEADLINE_EXCEEDED; nullopt means "poll".
  std::optional<absl::StatusOr<v1::WorkflowActivation>> NextForPollerLocked(
      absl::Time deadline, std::vector<FailedTask>& failed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Releases a task that failed without changing history, to be retried
  // after the retry delay. Two failures end the workflow instead
  // (FailWorkflow): DATA_LOSS (unreadable history; type "HistoryCorrupted")
  // and, with fail_workflow_on_nondeterminism, NON_DETERMINISM (type
  // "NonDeterminism").
  // A fused task (`fused_result` set) holds no lease: its activity result
  // is committed on its own instead, and the regular workflow task that it
  // wakes meets the same failure and deals with it.
  void AbandonTask(
      const WorkflowTask& task, const absl::Status& why,
      const std::optional<ActivityResult>& fused_result = std::nullopt);
  // Commits the task's inbound events followed by a WorkflowExecutionFinished
  // carrying a failure of `failure_type` with `why`'s message, and tells the
  // parent, if any, in the same commit (parent_notification.h).
  void FailWorkflow(const WorkflowTask& task, const absl::Status& why,
                    absl::string_view failure_type);

  // --- the worker registry (see the top comment) ---
  enum class TaskKind { kWorkflow, kActivity };
  // Whether the language layer registered `name` (always, without
  // registered_names).
  bool Runs(TaskKind kind, const std::string& name) const;
  // This worker's registry entry as of `now`.
  v1::WorkerInfo SelfInfo(absl::Time now) const;
  // Renews this worker's entry (with `renew_entry`), reads the registry,
  // recomputes the poll filters from it and forgets entries long dead.
  void Heartbeat(bool renew_entry);
  // Recomputes the poll filters from a registry listing read at `now`
  // (ignored if newer filters are in place already).
  void UpdateFilters(const std::vector<v1::WorkerInfo>& workers,
                     absl::Time now);
  // After a fresh read of the registry (which also updates the filters):
  // the first other live worker polling `queue` that runs `name` (or any
  // name), as "worker <id> (<host>, pid <pid>)"; nullopt if there is none.
  absl::StatusOr<std::optional<std::string>> LiveRunnerOf(
      TaskKind kind, const std::string& name, const std::string& queue);
  // A task this worker cannot run, taken because no other live worker of its
  // queue seemed to run it: hands it back if one does, else fails it for
  // good (WorkflowNotRegistered / a non-retryable ActivityNotRegistered).
  void HandleUnregisteredWorkflowTask(const WorkflowTask& task);
  void HandleUnregisteredActivityTask(const ActivityTask& task);
  // "<name>" is not registered with any live worker... (for failures).
  std::string NotRegisteredMessage(TaskKind kind, const std::string& name,
                                   const std::string& queue) const;
  std::shared_ptr<const TaskNameFilter> FilterLocked(TaskKind kind) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return kind == TaskKind::kWorkflow ? workflow_filter_ : activity_filter_;
  }
  // Fails an activity whose stored row cannot be read (ActivityTask::
  // damaged) without running it: the workflow sees ActivityTaskCorrupted.
  void FailDamagedActivity(const ActivityTask& task);
  void RemoveFromRegistry();
  // Takes the slot's task (and fused result) away because it failed, evicts
  // the run and stops counting the task as in flight; the caller abandons
  // it once the lock is released.
  FailedTask DropTaskLocked(const std::string& run_id, RunSlot& slot,
                            absl::Status why, std::string eviction_reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Commits an activity's final result: through a fused task when its run is
  // idle in the cache and a workflow poller is free, on its own otherwise.
  absl::Status DeliverActivityResult(ActivityTask task, v1::HistoryEvent event);
  // Starts the fused task for `result`; false (nothing moved) when the run
  // is not idle in the cache or no poller would pick the activation up now.
  bool StartFusedTaskLocked(ActivityResult& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Registers a leased attempt as in flight and converts it for the
  // language layer.
  v1::ActivityTask StartAttemptLocked(ActivityTask leased)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // How many of the threads polling for one kind of task may wait in the
  // backend at once; the rest wait for work produced in this process.
  static int BackendPollLimit(int pollers) {
    return std::max(1, (pollers + 1) / 2);
  }
  // Returns the next activation of some ready run, if any. Tasks whose
  // replay failed are evicted and added to `failed`, to be abandoned once
  // the lock is released.
  std::optional<v1::WorkflowActivation> TakeReadyLocked(
      std::vector<FailedTask>& failed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleLocked(const std::string& run_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictLocked(const std::string& run_id, RunSlot& slot, std::string reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveFromLruLocked(RunSlot& slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The slot's queued task, if the run is idle enough to start it now (it
  // stays counted in workflow_tasks_in_flight_).
  std::optional<WorkflowTask> TakeQueuedLocked(RunSlot& slot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the slot of a run nothing refers to any more.
  void EraseIfUnusedLocked(const std::string& run_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CacheLocked(const std::string& run_id, RunSlot& slot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RenewLeases();

  const std::shared_ptr<Store> backend_;
  const WorkerConfig config_;
  std::atomic<bool> stopping_{false};
  const std::string worker_id_;
  const absl::Time started_at_;
  // config_.registered_names as sets (empty without it).
  absl::flat_hash_set<std::string> workflow_names_;
  absl::flat_hash_set<std::string> activity_names_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, RunSlot> runs_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> ready_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // idle runs, newest first
  // Workflow tasks taken from the backend and not yet committed/abandoned,
  // including those still loading history.
  int workflow_tasks_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, InFlightActivity> activities_
      ABSL_GUARDED_BY(mu_);
  // Poller bookkeeping (see the top comment): threads inside
  // Poll*, those of them waiting in the backend, and those waiting here.
  int workflow_pollers_ ABSL_GUARDED_BY(mu_) = 0;
  int workflow_backend_polls_ ABSL_GUARDED_BY(mu_) = 0;
  int workflow_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  int activity_pollers_ ABSL_GUARDED_BY(mu_) = 0;
  int activity_backend_polls_ ABSL_GUARDED_BY(mu_) = 0;
  int activity_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  // Attempts leased to this worker by eager dispatch, not yet polled, and
  // how many more commits in progress have asked for (each one promised to
  // a waiting activity poller).
  std::deque<ActivityTask> eager_activities_ ABSL_GUARDED_BY(mu_);
  int eager_reserved_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  // What polls may lease, recomputed at every heartbeat (never null).
  std::shared_ptr<const TaskNameFilter> workflow_filter_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const TaskNameFilter> activity_filter_ ABSL_GUARDED_BY(mu_);
  // When the registry listing the filters come from was read.
  absl::Time filters_read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool removed_from_registry_ ABSL_GUARDED_BY(mu_) = false;
  bool lease_thread_stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread lease_thread_;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_WORKER_H_
