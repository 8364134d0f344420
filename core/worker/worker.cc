#include "core/worker/worker.h"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/errors.h"
#include "core/parent_notification.h"
#include "core/retry_policy.h"
#include "core/uuid.h"

namespace durable::core {
namespace {

v1::WorkflowActivation EvictionActivation(const std::string& run_id,
                                          const std::string& instance_id,
                                          const std::string& reason) {
  v1::WorkflowActivation activation;
  activation.set_run_id(run_id);
  activation.set_instance_id(instance_id);
  activation.add_jobs()->mutable_remove_from_cache()->set_reason(reason);
  return activation;
}

// Short enough that a poller notices shutdown or queued activations of other
// threads promptly even if it is not woken.
constexpr absl::Duration kMaxBackendWait = absl::Milliseconds(250);

// Registry entries of workers that stopped heartbeating this long before
// their TTL ran out are deleted by the next live worker's heartbeat (a
// crashed worker's entry stays visible to operators, as not live, until
// then).
constexpr absl::Duration kForgetDeadWorkersAfter = absl::Hours(1);

// How often a worker re-reads the registry to recompute its poll filters
// (at most; and at every heartbeat). Reading a handful of rows is cheap, and
// this bounds how long the names of a worker that left stay reserved.
constexpr absl::Duration kRegistryRefreshInterval = absl::Seconds(1);

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

absl::Status CheckNames(
    const google::protobuf::RepeatedPtrField<std::string>& names,
    const char* what) {
  for (const std::string& name : names) {
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "worker options: registered_names has an empty ", what, " name"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WorkerConfig> WorkerConfig::FromProto(
    const v1::WorkerOptions& options) {
  WorkerConfig config;
  if (options.queues_size() > 0) {
    config.queues.assign(options.queues().begin(), options.queues().end());
    for (const std::string& queue : config.queues) {
      if (queue.empty()) {
        return absl::InvalidArgumentError("worker options: empty queue name");
      }
    }
  }
  if (options.has_max_cached_workflows()) {
    if (options.max_cached_workflows() < 0) {
      return absl::InvalidArgumentError(
          "worker options: max_cached_workflows must not be negative");
    }
    config.max_cached_runs = options.max_cached_workflows();
  }
  auto duration = [](int64_t us, absl::Duration fallback) {
    return us > 0 ? absl::Microseconds(us) : fallback;
  };
  if (options.workflow_task_lease_us() < 0 ||
      options.activity_task_lease_us() < 0 ||
      options.workflow_task_retry_delay_us() < 0) {
    return absl::InvalidArgumentError(
        "worker options: leases and delays must not be negative");
  }
  config.workflow_task_lease =
      duration(options.workflow_task_lease_us(), config.workflow_task_lease);
  config.activity_task_lease =
      duration(options.activity_task_lease_us(), config.activity_task_lease);
  config.workflow_task_retry_delay = duration(
      options.workflow_task_retry_delay_us(), config.workflow_task_retry_delay);
  config.fail_workflow_on_nondeterminism =
      options.fail_workflow_on_nondeterminism();
  if (options.max_history_length() < 0) {
    return absl::InvalidArgumentError(
        "worker options: max_history_length must not be negative");
  }
  if (options.max_history_length() > 0) {
    config.max_history_length = options.max_history_length();
  }
  if (options.has_registered_names()) {
    const v1::RegisteredNames& names = options.registered_names();
    if (absl::Status s = CheckNames(names.workflow_names(), "workflow");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckNames(names.activity_names(), "activity");
        !s.ok()) {
      return s;
    }
    config.registered_names = names;
  }
  if (options.worker_ttl_us() < 0) {
    return absl::InvalidArgumentError(
        "worker options: worker_ttl_us must not be negative");
  }
  config.worker_ttl = duration(options.worker_ttl_us(), config.worker_ttl);
  return config;
}

Worker::Worker(std::shared_ptr<Backend> backend, WorkerConfig config)
    : backend_(std::move(backend)),
      config_(std::move(config)),
      worker_id_(NewUuid()),
      started_at_(absl::Now()),
      workflow_filter_(std::make_shared<TaskNameFilter>()),
      activity_filter_(std::make_shared<TaskNameFilter>()) {
  if (config_.registered_names.has_value()) {
    workflow_names_.insert(config_.registered_names->workflow_names().begin(),
                           config_.registered_names->workflow_names().end());
    activity_names_.insert(config_.registered_names->activity_names().begin(),
                           config_.registered_names->activity_names().end());
  }
  // Before the first poll, so that it already knows the other workers.
  Heartbeat(/*renew_entry=*/true);
  lease_thread_ = std::thread([this] { RenewLeases(); });
}

Worker::~Worker() {
  InitiateShutdown();
  {
    absl::MutexLock lock(&mu_);
    lease_thread_stop_ = true;
  }
  if (lease_thread_.joinable()) lease_thread_.join();
  RemoveFromRegistry();
}

bool Worker::Runs(TaskKind kind, const std::string& name) const {
  if (!config_.registered_names.has_value()) return true;
  return kind == TaskKind::kWorkflow ? workflow_names_.contains(name)
                                     : activity_names_.contains(name);
}

v1::WorkerInfo Worker::SelfInfo(absl::Time now) const {
  v1::WorkerInfo info;
  info.set_worker_id(worker_id_);
  info.set_host(HostName());
  info.set_pid(getpid());
  for (const std::string& queue : config_.queues) info.add_queues(queue);
  if (config_.registered_names.has_value()) {
    *info.mutable_registered_names() = *config_.registered_names;
  }
  info.set_started_at_unix_us(absl::ToUnixMicros(started_at_));
  info.set_last_seen_unix_us(absl::ToUnixMicros(now));
  info.set_ttl_us(absl::ToInt64Microseconds(config_.worker_ttl));
  return info;
}

void Worker::Heartbeat(bool renew_entry) {
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    if (removed_from_registry_) return;
  }
  // A failed write or read leaves the filters as they were; the next
  // heartbeat tries again (and other workers count this one until its TTL).
  if (renew_entry) backend_->RecordWorker(SelfInfo(now)).IgnoreError();
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = backend_->ListWorkers();
  if (!workers.ok()) return;
  UpdateFilters(*workers, now);
  for (const v1::WorkerInfo& worker : *workers) {
    if (worker.worker_id() != worker_id_ &&
        !IsWorkerLive(worker, now - kForgetDeadWorkersAfter)) {
      backend_->RemoveWorker(worker.worker_id()).IgnoreError();
    }
  }
}

void Worker::UpdateFilters(const std::vector<v1::WorkerInfo>& workers,
                           absl::Time now) {
  auto workflow = std::make_shared<TaskNameFilter>();
  auto activity = std::make_shared<TaskNameFilter>();
  if (config_.registered_names.has_value()) {
    workflow->restricted = activity->restricted = true;
    workflow->names.assign(config_.registered_names->workflow_names().begin(),
                           config_.registered_names->workflow_names().end());
    activity->names.assign(config_.registered_names->activity_names().begin(),
                           config_.registered_names->activity_names().end());
    // Per queue of ours: what the other live workers polling it run.
    std::map<std::string, std::set<std::string>> workflow_claims;
    std::map<std::string, std::set<std::string>> activity_claims;
    for (const v1::WorkerInfo& worker : workers) {
      if (worker.worker_id() == worker_id_ || !IsWorkerLive(worker, now)) {
        continue;
      }
      for (const std::string& queue : worker.queues()) {
        if (std::find(config_.queues.begin(), config_.queues.end(), queue) ==
            config_.queues.end()) {
          continue;
        }
        if (!worker.has_registered_names()) {
          workflow->claimed[queue].all = true;
          activity->claimed[queue].all = true;
          continue;
        }
        const v1::RegisteredNames& names = worker.registered_names();
        workflow_claims[queue].insert(names.workflow_names().begin(),
                                      names.workflow_names().end());
        activity_claims[queue].insert(names.activity_names().begin(),
                                      names.activity_names().end());
      }
    }
    for (auto& [queue, names] : workflow_claims) {
      workflow->claimed[queue].names.assign(names.begin(), names.end());
    }
    for (auto& [queue, names] : activity_claims) {
      activity->claimed[queue].names.assign(names.begin(), names.end());
    }
  }
  absl::MutexLock lock(&mu_);
  // Listings read by two threads (heartbeat, a fresh check) may finish out
  // of order: keep the newest.
  if (now < filters_read_at_) return;
  filters_read_at_ = now;
  workflow_filter_ = std::move(workflow);
  activity_filter_ = std::move(activity);
}

absl::StatusOr<std::optional<std::string>> Worker::LiveRunnerOf(
    TaskKind kind, const std::string& name, const std::string& queue) {
  const absl::Time now = absl::Now();
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = backend_->ListWorkers();
  if (!workers.ok()) return workers.status();
  UpdateFilters(*workers, now);
  for (const v1::WorkerInfo& worker : *workers) {
    if (worker.worker_id() == worker_id_ || !IsWorkerLive(worker, now) ||
        std::find(worker.queues().begin(), worker.queues().end(), queue) ==
            worker.queues().end()) {
      continue;
    }
    const auto& names = kind == TaskKind::kWorkflow
                            ? worker.registered_names().workflow_names()
                            : worker.registered_names().activity_names();
    if (!worker.has_registered_names() ||
        std::find(names.begin(), names.end(), name) != names.end()) {
      return std::optional<std::string>(
          absl::StrFormat("worker %s (%s, pid %d)", worker.worker_id(),
                          worker.host(), worker.pid()));
    }
  }
  return std::optional<std::string>();
}

std::string Worker::NotRegisteredMessage(TaskKind kind, const std::string& name,
                                         const std::string& queue) const {
  const bool workflow = kind == TaskKind::kWorkflow;
  std::vector<std::string> mine(
      workflow ? workflow_names_.begin() : activity_names_.begin(),
      workflow ? workflow_names_.end() : activity_names_.end());
  std::sort(mine.begin(), mine.end());
  return absl::StrFormat(
      "%s \"%s\" is not registered with any live worker polling queue "
      "\"%s\" (this worker registered: %s)",
      workflow ? "workflow" : "activity", name, queue,
      mine.empty() ? "none" : absl::StrJoin(mine, ", "));
}

void Worker::HandleUnregisteredWorkflowTask(const WorkflowTask& task) {
  absl::StatusOr<std::optional<std::string>> runner =
      LiveRunnerOf(TaskKind::kWorkflow, task.workflow_name, task.queue);
  if (runner.ok() && !runner->has_value()) {
    FailWorkflow(task,
                 absl::NotFoundError(NotRegisteredMessage(
                     TaskKind::kWorkflow, task.workflow_name, task.queue)),
                 "WorkflowNotRegistered");
    return;
  }
  // Another live worker runs it (it started since the last heartbeat; the
  // filters now know it), or the registry cannot be read: hand the task
  // back, at once for that worker.
  v1::WorkflowTaskFailure failure;
  failure.set_status_code(
      static_cast<int>(runner.ok() ? DurableCode::kUnavailable
                                   : DurableCodeOf(runner.status())));
  failure.set_message(
      runner.ok()
          ? absl::StrCat("workflow task handed back: workflow \"",
                         task.workflow_name, "\" is not registered here; ",
                         **runner, " runs it")
          : absl::StrCat("workflow task handed back: cannot tell whether a "
                         "live worker runs workflow \"",
                         task.workflow_name,
                         "\": ", runner.status().message()));
  failure.set_failed_at_unix_us(absl::ToUnixMicros(absl::Now()));
  backend_
      ->AbandonWorkflowTask(task, failure,
                            runner.ok() ? absl::ZeroDuration()
                                        : config_.workflow_task_retry_delay)
      .IgnoreError();
}

void Worker::HandleUnregisteredActivityTask(const ActivityTask& task) {
  const std::string& name =
      task.scheduled_event.activity_scheduled().activity_name();
  absl::StatusOr<std::optional<std::string>> runner =
      LiveRunnerOf(TaskKind::kActivity, name, task.queue);
  if (runner.ok() && !runner->has_value()) {
    v1::Failure failure;
    failure.set_type("ActivityNotRegistered");
    failure.set_message(
        NotRegisteredMessage(TaskKind::kActivity, name, task.queue));
    failure.set_non_retryable(true);
    FinishFailedAttempt(task, failure).IgnoreError();
    return;
  }
  // Same attempt, back to the queue: for the worker that runs it, or for a
  // retry once the registry can be read again.
  const absl::Time now = absl::Now();
  backend_
      ->RetryActivityTask(
          task, task.attempt,
          runner.ok() ? now : now + config_.workflow_task_retry_delay)
      .IgnoreError();
}

void Worker::FailDamagedActivity(const ActivityTask& task) {
  std::optional<int64_t> scheduled = ScheduledEventIdOf(task.activity_id);
  if (!scheduled.has_value()) {
    // Nothing to tell the workflow about; the lease expires and the store
    // hands the row out again (it is damaged in the id too).
    return;
  }
  v1::HistoryEvent failed;
  failed.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  failed.mutable_activity_failed()->set_scheduled_event_id(*scheduled);
  failed.mutable_activity_failed()->set_attempt(task.attempt);
  v1::Failure* failure = failed.mutable_activity_failed()->mutable_failure();
  failure->set_type("ActivityTaskCorrupted");
  failure->set_message(task.damaged);
  failure->set_non_retryable(true);
  // If this fails the lease expires and the next poll tries again.
  backend_->CompleteActivityTask(task, failed).IgnoreError();
}

void Worker::RemoveFromRegistry() {
  {
    absl::MutexLock lock(&mu_);
    if (removed_from_registry_) return;
    removed_from_registry_ = true;
  }
  backend_->RemoveWorker(worker_id_).IgnoreError();
}

void Worker::InitiateShutdown() {
  stopping_.store(true);
  // Pollers waiting on mu_ re-evaluate their conditions (which read
  // stopping_) when it is released.
  { absl::MutexLock lock(&mu_); }
  backend_->Interrupt();
}

bool Worker::IdleLocked() const {
  return workflow_tasks_in_flight_ == 0 && activities_.empty() &&
         eager_activities_.empty() && ready_.empty() &&
         std::none_of(runs_.begin(), runs_.end(), [](const auto& entry) {
           return entry.second.outstanding;
         });
}

absl::StatusOr<v1::WorkflowActivation> Worker::PollWorkflowActivation(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  {
    absl::MutexLock lock(&mu_);
    ++workflow_pollers_;
  }
  absl::Cleanup leave = [this] {
    absl::MutexLock lock(&mu_);
    --workflow_pollers_;
  };
  while (true) {
    std::vector<FailedTask> failed;
    std::optional<absl::StatusOr<v1::WorkflowActivation>> answer;
    bool poll_backend = false;
    std::shared_ptr<const TaskNameFilter> filter;
    {
      absl::MutexLock lock(&mu_);
      answer = NextForPollerLocked(deadline, failed);
      if (!answer.has_value() && absl::Now() < deadline) {
        if (workflow_backend_polls_ < BackendPollLimit(workflow_pollers_)) {
          ++workflow_backend_polls_;
          poll_backend = true;
          filter = FilterLocked(TaskKind::kWorkflow);
        } else {
          // Wait for a fused activation, or for a turn in the backend.
          ++workflow_waiters_;
          auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return !ready_.empty() || stopping_.load() ||
                   workflow_backend_polls_ <
                       BackendPollLimit(workflow_pollers_);
          };
          mu_.AwaitWithDeadline(absl::Condition(&wake), deadline);
          --workflow_waiters_;
        }
      }
    }
    for (FailedTask& f : failed) {
      AbandonTask(f.task, f.why, f.fused_result);
      if (f.next.has_value()) {
        AcceptWorkflowTask(*std::move(f.next), /*counted=*/true);
      }
    }
    if (answer.has_value()) return *std::move(answer);
    if (!poll_backend) {
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "no workflow activation within ", absl::FormatDuration(timeout)));
      }
      continue;
    }
    absl::StatusOr<std::optional<WorkflowTask>> task =
        backend_->GetWorkflowTask(
            config_.queues, *filter, config_.workflow_task_lease,
            std::min(deadline, absl::Now() + kMaxBackendWait), &stopping_);
    {
      absl::MutexLock lock(&mu_);
      --workflow_backend_polls_;
    }
    if (!task.ok()) return task.status();
    if (!task->has_value()) continue;
    if (!(*task)->damaged.empty()) {
      // Retrying cannot help: fail this instance, the others go on.
      FailWorkflow(**task, absl::DataLossError((*task)->damaged),
                   "HistoryCorrupted");
      continue;
    }
    if (!Runs(TaskKind::kWorkflow, (*task)->workflow_name)) {
      HandleUnregisteredWorkflowTask(**task);
      continue;
    }
    AcceptWorkflowTask(**std::move(task));
  }
}

std::optional<absl::StatusOr<v1::WorkflowActivation>>
Worker::NextForPollerLocked(absl::Time deadline,
                            std::vector<FailedTask>& failed) {
  if (auto activation = TakeReadyLocked(failed)) return *std::move(activation);
  if (!stopping_.load()) return std::nullopt;  // go poll the backend
  // Shutting down: hand out what in-flight runs still produce (their next
  // activations, evictions), then report shutdown.
  auto work_or_idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !ready_.empty() || workflow_tasks_in_flight_ == 0;
  };
  mu_.AwaitWithDeadline(absl::Condition(&work_or_idle), deadline);
  if (auto activation = TakeReadyLocked(failed)) return *std::move(activation);
  if (workflow_tasks_in_flight_ == 0) {
    return ShutdownError("worker is shutting down");
  }
  return absl::DeadlineExceededError(
      "no workflow activation before the deadline (shutting down)");
}

void Worker::AcceptWorkflowTask(WorkflowTask task, bool counted) {
  const std::string run_id = task.execution_id;
  absl::Status start_failure;
  {
    absl::MutexLock lock(&mu_);
    if (!counted) ++workflow_tasks_in_flight_;
    RunSlot& slot = runs_[run_id];
    if (slot.task.has_value()) {
      // The run is busy (loading history, running, committing): run this
      // task right after. A task queued earlier is superseded: the backend
      // only hands the run out again once that one's lease expired.
      if (slot.queued_task.has_value()) --workflow_tasks_in_flight_;
      slot.queued_task = std::move(task);
      return;
    }
    const bool cached = slot.machine != nullptr &&
                        !slot.eviction_reason.has_value() &&
                        slot.machine->history_length() == task.history_length;
    if (cached) {
      RemoveFromLruLocked(slot);
      start_failure = slot.machine->StartTask(absl::Now(), task.new_events);
      if (start_failure.ok()) {
        slot.task = std::move(task);
        ScheduleLocked(run_id);
        return;
      }
      EvictLocked(run_id, slot,
                  absl::StrCat("cannot start task: ", start_failure.message()));
      --workflow_tasks_in_flight_;
      EraseIfUnusedLocked(run_id);
    } else {
      if (slot.machine != nullptr || slot.language_has_state) {
        EvictLocked(run_id, slot,
                    slot.machine == nullptr
                        ? "replaying from history"
                        : "history moved on since the run was cached");
      }
      // Held while history loads, so the lease is renewed and another task
      // for this run waits in queued_task.
      slot.task = task;
    }
  }
  if (!start_failure.ok()) {
    AbandonTask(task, start_failure);
    return;
  }

  // Not cached: replay from history (I/O outside the lock).
  absl::StatusOr<std::unique_ptr<WorkflowStateMachine>> machine =
      ReplayMachineFor(task);
  std::optional<WorkflowTask> next;
  {
    absl::MutexLock lock(&mu_);
    RunSlot& slot = runs_[run_id];
    if (machine.ok()) {
      slot.machine = *std::move(machine);
      ScheduleLocked(run_id);
      return;
    }
    slot.task.reset();
    --workflow_tasks_in_flight_;
    next = TakeQueuedLocked(slot);
    EraseIfUnusedLocked(run_id);
  }
  AbandonTask(task, machine.status());
  if (next.has_value()) AcceptWorkflowTask(*std::move(next), /*counted=*/true);
}

std::optional<WorkflowTask> Worker::TakeQueuedLocked(RunSlot& slot) {
  if (!slot.queued_task.has_value() || slot.task.has_value() ||
      slot.outstanding || slot.eviction_reason.has_value()) {
    return std::nullopt;
  }
  std::optional<WorkflowTask> next = std::move(slot.queued_task);
  slot.queued_task.reset();
  return next;
}

absl::StatusOr<std::unique_ptr<WorkflowStateMachine>> Worker::ReplayMachineFor(
    const WorkflowTask& task) {
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      backend_->GetWorkflowHistory(task.instance_id, task.execution_id);
  if (!history.ok()) return history.status();
  if (static_cast<int64_t>(history->size()) != task.history_length) {
    // The lease keeps everyone else from appending, so this never heals:
    // DATA_LOSS fails the instance (HistoryCorrupted) instead of retrying.
    return absl::DataLossError(absl::StrFormat(
        "history of workflow instance \"%s\" has %d events, the task "
        "expected %d",
        task.instance_id, history->size(), task.history_length));
  }
  auto machine = std::make_unique<WorkflowStateMachine>(task.instance_id,
                                                        task.execution_id);
  if (absl::Status s = machine->LoadHistory(*history); !s.ok()) return s;
  if (absl::Status s = machine->StartTask(absl::Now(), task.new_events);
      !s.ok()) {
    return s;
  }
  return machine;
}

void Worker::AbandonTask(const WorkflowTask& task, const absl::Status& why,
                         const std::optional<ActivityResult>& fused_result) {
  if (fused_result.has_value()) {
    // If this fails too, the attempt's lease expires and it runs again.
    backend_->CompleteActivityTask(fused_result->task, fused_result->event)
        .IgnoreError();
    return;
  }
  if (IsNonDeterminism(why) && config_.fail_workflow_on_nondeterminism) {
    FailWorkflow(task, why, "NonDeterminism");
    return;
  }
  if (why.code() == absl::StatusCode::kDataLoss) {
    // Stored history cannot be read back; retrying cannot help. Fail this
    // one instance (new events are appended after the damaged ones) and
    // leave every other instance alone.
    FailWorkflow(task, why, "HistoryCorrupted");
    return;
  }
  v1::WorkflowTaskFailure failure;
  failure.set_status_code(static_cast<int>(DurableCodeOf(why)));
  failure.set_message(std::string(why.message()));
  failure.set_failed_at_unix_us(absl::ToUnixMicros(absl::Now()));
  // If this fails too the lease simply expires; nothing else to do.
  backend_
      ->AbandonWorkflowTask(task, failure, config_.workflow_task_retry_delay)
      .IgnoreError();
}

void Worker::FailWorkflow(const WorkflowTask& task, const absl::Status& why,
                          absl::string_view failure_type) {
  const absl::Time now = absl::Now();
  WorkflowTaskCompletion commit;
  int64_t id = task.history_length;
  v1::HistoryEvent started;
  started.set_id(++id);
  started.set_timestamp_unix_us(absl::ToUnixMicros(now));
  started.mutable_workflow_task_started();
  commit.executed_events.push_back(std::move(started));
  for (v1::HistoryEvent event : task.new_events) {
    event.set_id(++id);
    commit.executed_events.push_back(std::move(event));
  }
  v1::WorkflowResult result;
  v1::Failure* failure = result.mutable_failure();
  failure->set_type(std::string(failure_type));
  failure->set_message(std::string(why.message()));
  failure->set_non_retryable(true);
  v1::HistoryEvent finished;
  finished.set_id(++id);
  finished.set_timestamp_unix_us(absl::ToUnixMicros(now));
  *finished.mutable_workflow_execution_finished()->mutable_failure() = *failure;
  // The parent (known from the store even when history is unreadable)
  // learns it in the same commit, as when the workflow fails on its own.
  if (std::optional<OutboundEvent> to_parent =
          OutcomeForParent(task.parent, finished.workflow_execution_finished(),
                           finished.timestamp_unix_us())) {
    commit.outbound_events.push_back(*std::move(to_parent));
  }
  commit.executed_events.push_back(std::move(finished));
  commit.state = v1::WORKFLOW_STATE_FINISHED;
  commit.result = std::move(result);
  commit.completed_at = now;
  // If the commit fails the lease expires and the task is retried.
  backend_->CompleteWorkflowTask(task, commit).IgnoreError();
}

void Worker::ScheduleLocked(const std::string& run_id) {
  auto it = runs_.find(run_id);
  if (it == runs_.end() || it->second.outstanding) return;
  if (std::find(ready_.begin(), ready_.end(), run_id) == ready_.end()) {
    ready_.push_back(run_id);
  }
}

void Worker::EvictLocked(const std::string& run_id, RunSlot& slot,
                         std::string reason) {
  RemoveFromLruLocked(slot);
  slot.machine.reset();
  if (slot.language_has_state) {
    // An eviction already pending keeps its reason, the cause: a later one
    // (say "replaying from history" when the run's next task arrives before
    // the language layer took the eviction) is only its consequence.
    if (!slot.eviction_reason.has_value()) {
      slot.eviction_reason = std::move(reason);
    }
    ScheduleLocked(run_id);
  }
}

void Worker::EraseIfUnusedLocked(const std::string& run_id) {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  const RunSlot& slot = it->second;
  if (slot.machine == nullptr && !slot.task.has_value() &&
      !slot.queued_task.has_value() && !slot.outstanding &&
      !slot.eviction_reason.has_value() && !slot.language_has_state) {
    runs_.erase(it);
  }
}

void Worker::RemoveFromLruLocked(RunSlot& slot) {
  if (slot.in_lru) {
    lru_.erase(slot.lru_position);
    slot.in_lru = false;
  }
}

void Worker::CacheLocked(const std::string& run_id, RunSlot& slot) {
  lru_.push_front(run_id);
  slot.lru_position = lru_.begin();
  slot.in_lru = true;
  while (static_cast<int>(lru_.size()) > config_.max_cached_runs) {
    const std::string victim = lru_.back();
    EvictLocked(victim, runs_[victim], "executor cache full");
  }
}

std::optional<v1::WorkflowActivation> Worker::TakeReadyLocked(
    std::vector<FailedTask>& failed) {
  while (!ready_.empty()) {
    const std::string run_id = ready_.front();
    ready_.pop_front();
    auto it = runs_.find(run_id);
    if (it == runs_.end()) continue;
    RunSlot& slot = it->second;
    if (slot.outstanding) continue;
    if (slot.eviction_reason.has_value()) {
      slot.outstanding = true;
      slot.evicting = true;
      const std::string instance_id =
          slot.task.has_value()          ? slot.task->instance_id
          : slot.queued_task.has_value() ? slot.queued_task->instance_id
                                         : std::string();
      return EvictionActivation(run_id, instance_id, *slot.eviction_reason);
    }
    if (slot.machine == nullptr || !slot.task.has_value()) continue;
    absl::StatusOr<std::optional<v1::WorkflowActivation>> next =
        slot.machine->NextActivation();
    if (!next.ok()) {
      failed.push_back(DropTaskLocked(
          run_id, slot, next.status(),
          absl::StrCat("replay failed: ", next.status().message())));
      continue;
    }
    if (!next->has_value()) continue;
    slot.outstanding = true;
    slot.language_has_state = true;
    return **std::move(next);
  }
  return std::nullopt;
}

absl::Status Worker::CompleteWorkflowActivation(
    const v1::WorkflowActivationCompletion& completion) {
  const std::string& run_id = completion.run_id();
  absl::ReleasableMutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end() || !it->second.outstanding) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "no activation of run \"%s\" is awaiting completion", run_id));
  }
  RunSlot& slot = it->second;
  slot.outstanding = false;

  if (slot.evicting) {
    // The language layer dropped the run; whatever comes next replays.
    slot.evicting = false;
    slot.eviction_reason.reset();
    slot.language_has_state = false;
    std::optional<WorkflowTask> next = TakeQueuedLocked(slot);
    ScheduleLocked(run_id);
    EraseIfUnusedLocked(run_id);
    lock.Release();
    if (next.has_value())
      AcceptWorkflowTask(*std::move(next), /*counted=*/true);
    return absl::OkStatus();
  }

  absl::Status applied = slot.machine->ApplyCompletion(completion);
  if (!applied.ok()) {
    FailedTask dropped = DropTaskLocked(
        run_id, slot, applied,
        absl::StrCat("workflow task failed: ", applied.message()));
    lock.Release();
    AbandonTask(dropped.task, applied, dropped.fused_result);
    return applied;
  }
  if (!slot.machine->task_done()) {
    ScheduleLocked(run_id);  // the next replayed task, or the live one
    return absl::OkStatus();
  }

  if (slot.machine->history_length() > config_.max_history_length) {
    const absl::Status too_long = absl::ResourceExhaustedError(absl::StrFormat(
        "workflow instance \"%s\" would grow its history to %d events, over "
        "the limit of %d (WorkerOptions.max_history_length); use "
        "continue-as-new for long-running workflows",
        slot.task->instance_id, slot.machine->history_length(),
        config_.max_history_length));
    FailedTask dropped =
        DropTaskLocked(run_id, slot, too_long, "history limit exceeded");
    lock.Release();
    if (dropped.fused_result.has_value()) {
      // A regular task fails it.
      AbandonTask(dropped.task, too_long, dropped.fused_result);
    } else {
      FailWorkflow(dropped.task, too_long, "HistoryLimitExceeded");
    }
    return absl::OkStatus();
  }
  WorkflowTaskOutput output = slot.machine->TakeTaskOutput();
  const bool finished = slot.machine->finished();
  slot.committing = true;
  const WorkflowTask task = *slot.task;
  std::optional<ActivityResult> fused = std::move(slot.fused_result);
  slot.fused_result.reset();

  WorkflowTaskCompletion commit;
  commit.executed_events = std::move(output.executed_events);
  commit.outbound_events = std::move(output.outbound_events);
  commit.canceled_event_keys = std::move(output.canceled_event_keys);
  commit.remove_previous_executions = output.remove_previous_executions;
  commit.next_execution_id = std::move(output.next_execution_id);
  commit.state = output.state;
  commit.result = std::move(output.result);
  commit.completed_at = absl::Now();
  // Activities this worker can run come first: eager dispatch leases a
  // prefix of the list.
  for (v1::HistoryEvent& scheduled : output.scheduled_activities) {
    ActivityTaskSpec& spec = commit.activities.emplace_back();
    spec.queue = scheduled.activity_scheduled().queue();
    if (spec.queue.empty()) spec.queue = task.queue;
    spec.metadata = task.metadata;
    spec.scheduled_event = std::move(scheduled);
  }
  const int servable = static_cast<int>(
      std::stable_partition(
          commit.activities.begin(), commit.activities.end(),
          [this](const ActivityTaskSpec& spec) {
            return std::find(config_.queues.begin(), config_.queues.end(),
                             spec.queue) != config_.queues.end() &&
                   Runs(TaskKind::kActivity,
                        spec.scheduled_event.activity_scheduled()
                            .activity_name());
          }) -
      commit.activities.begin());
  if (!stopping_.load()) {
    const int idle_pollers = activity_waiters_ - eager_reserved_ -
                             static_cast<int>(eager_activities_.size());
    commit.eager_activities = std::max(0, std::min(servable, idle_pollers));
    commit.eager_activity_lease = config_.activity_task_lease;
    eager_reserved_ += commit.eager_activities;
  }
  lock.Release();

  WorkflowTaskCommitResult result;
  absl::Status committed;
  if (fused.has_value()) {
    committed = backend_->CompleteActivityWithWorkflowTask(
        fused->task, fused->event, task, commit, &result);
  } else {
    committed = backend_->CompleteWorkflowTask(task, commit, &result);
    result.workflow_task_committed = committed.ok();
  }

  std::optional<WorkflowTask> next;
  {
    absl::MutexLock relock(&mu_);
    eager_reserved_ -= commit.eager_activities;
    if (committed.ok()) {
      stats_.eager_activities +=
          static_cast<int64_t>(result.eager_activities.size());
      for (ActivityTask& eager : result.eager_activities) {
        eager_activities_.push_back(std::move(eager));
      }
    }
    RunSlot& done = runs_[run_id];
    done.committing = false;
    done.task.reset();
    --workflow_tasks_in_flight_;
    if (!committed.ok()) {
      EvictLocked(run_id, done,
                  absl::StrCat("commit failed: ", committed.message()));
    } else if (!result.workflow_task_committed) {
      // Only the activity result was committed: another worker ran a task
      // of this instance since the run was cached here.
      ++stats_.fused_tasks_refused;
      EvictLocked(run_id, done,
                  "fused task refused: another worker moved the instance on "
                  "since the run was cached");
    } else if (finished) {
      EvictLocked(run_id, done, "workflow finished");
    } else if (config_.max_cached_runs == 0) {
      EvictLocked(run_id, done, "executor cache disabled (size 0)");
    } else {
      WorkflowTask& identity = done.identity.emplace(task);
      identity.lease_token.clear();
      identity.inbox_cursor.clear();
      identity.new_events.clear();
      CacheLocked(run_id, done);
    }
    next = TakeQueuedLocked(done);
    EraseIfUnusedLocked(run_id);
  }
  if (!committed.ok() && fused.has_value()) {
    // ABORTED: the attempt's lease was lost and its result is void. Other
    // errors wrote nothing; try the result on its own (a regular task then
    // retries the workflow task).
    if (committed.code() != absl::StatusCode::kAborted) {
      AbandonTask(task, committed, fused);
    }
  } else if (!committed.ok() &&
             committed.code() != absl::StatusCode::kAborted) {
    // A lost lease (ABORTED) belongs to another worker now; any other
    // commit failure still holds it, so release it for a prompt retry.
    AbandonTask(task, committed);
  }
  if (next.has_value()) AcceptWorkflowTask(*std::move(next), /*counted=*/true);
  return committed;
}

absl::StatusOr<v1::ActivityTask> Worker::PollActivityTask(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  {
    absl::MutexLock lock(&mu_);
    ++activity_pollers_;
  }
  absl::Cleanup leave = [this] {
    absl::MutexLock lock(&mu_);
    --activity_pollers_;
  };
  while (true) {
    std::shared_ptr<const TaskNameFilter> filter;
    {
      absl::MutexLock lock(&mu_);
      if (!eager_activities_.empty()) {
        ActivityTask leased = std::move(eager_activities_.front());
        eager_activities_.pop_front();
        return StartAttemptLocked(std::move(leased));
      }
      if (stopping_.load()) return ShutdownError("worker is shutting down");
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "no activity task within ", absl::FormatDuration(timeout)));
      }
      // Waiting here, this thread counts as idle for eager dispatch; it may
      // leave for the backend only while no commit in progress counts on it.
      ++activity_waiters_;
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !eager_activities_.empty() || stopping_.load() ||
               (activity_backend_polls_ < BackendPollLimit(activity_pollers_) &&
                activity_waiters_ > eager_reserved_);
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), deadline);
      --activity_waiters_;
      if (!eager_activities_.empty() || stopping_.load() ||
          activity_backend_polls_ >= BackendPollLimit(activity_pollers_) ||
          absl::Now() >= deadline) {
        continue;
      }
      ++activity_backend_polls_;
      filter = FilterLocked(TaskKind::kActivity);
    }
    absl::StatusOr<std::optional<ActivityTask>> task =
        backend_->GetActivityTask(
            config_.queues, *filter, config_.activity_task_lease,
            std::min(deadline, absl::Now() + kMaxBackendWait), &stopping_);
    {
      absl::MutexLock lock(&mu_);
      --activity_backend_polls_;
      if (!task.ok()) return task.status();
      if (!task->has_value()) continue;
      if ((*task)->damaged.empty() &&
          Runs(TaskKind::kActivity,
               (*task)->scheduled_event.activity_scheduled().activity_name())) {
        return StartAttemptLocked(**std::move(task));
      }
    }
    if (!(*task)->damaged.empty()) {
      FailDamagedActivity(**task);
      continue;
    }
    HandleUnregisteredActivityTask(**task);
  }
}

v1::ActivityTask Worker::StartAttemptLocked(ActivityTask leased) {
  v1::ActivityTask out;
  const std::string token = NewUuid();
  out.set_task_token(token);
  out.set_activity_id(leased.activity_id);
  out.set_instance_id(leased.instance_id);
  out.set_run_id(leased.execution_id);
  out.set_activity_name(
      leased.scheduled_event.activity_scheduled().activity_name());
  *out.mutable_arguments() =
      leased.scheduled_event.activity_scheduled().arguments();
  out.set_attempt(leased.attempt);
  out.mutable_metadata()->insert(leased.metadata.begin(),
                                 leased.metadata.end());
  out.set_queue(leased.queue);
  out.set_scheduled_time_unix_us(absl::ToUnixMicros(leased.scheduled_at));
  const absl::Time started = absl::Now();
  activities_.emplace(token,
                      InFlightActivity{std::move(leased), started, started});
  return out;
}

absl::Status Worker::CompleteActivityTask(
    const v1::ActivityTaskResult& result) {
  ActivityTask task;
  {
    absl::MutexLock lock(&mu_);
    auto it = activities_.find(result.task_token());
    if (it == activities_.end()) {
      return absl::NotFoundError(absl::StrFormat(
          "no activity attempt with token \"%s\" is in flight on this "
          "worker (it may have timed out)",
          result.task_token()));
    }
    task = std::move(it->second.task);
    activities_.erase(it);
  }
  switch (result.outcome_case()) {
    case v1::ActivityTaskResult::kCompleted: {
      v1::HistoryEvent event;
      event.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
      auto* done = event.mutable_activity_completed();
      done->set_scheduled_event_id(task.scheduled_event.id());
      *done->mutable_result() = result.completed();
      done->set_attempt(task.attempt);
      return DeliverActivityResult(std::move(task), std::move(event));
    }
    case v1::ActivityTaskResult::kFailed:
      return FinishFailedAttempt(task, result.failed());
    case v1::ActivityTaskResult::OUTCOME_NOT_SET:
      break;
  }
  v1::Failure failure;
  failure.set_type("InvalidActivityResult");
  failure.set_message(
      "the activity worker reported neither a result nor a failure");
  failure.set_non_retryable(true);
  return FinishFailedAttempt(task, failure);
}

absl::Status Worker::FinishFailedAttempt(const ActivityTask& task,
                                         const v1::Failure& failure) {
  const absl::Time now = absl::Now();
  std::optional<absl::Duration> retry_in =
      NextRetryDelay(task.scheduled_event.activity_scheduled().retry_policy(),
                     task.attempt, failure, task.scheduled_at, now);
  if (retry_in.has_value()) {
    return backend_->RetryActivityTask(task, task.attempt + 1, now + *retry_in);
  }
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(now));
  auto* failed = event.mutable_activity_failed();
  failed->set_scheduled_event_id(task.scheduled_event.id());
  *failed->mutable_failure() = failure;
  failed->set_attempt(task.attempt);
  return DeliverActivityResult(task, std::move(event));
}

absl::Status Worker::DeliverActivityResult(ActivityTask task,
                                           v1::HistoryEvent event) {
  ActivityResult result{std::move(task), std::move(event)};
  {
    absl::MutexLock lock(&mu_);
    if (StartFusedTaskLocked(result)) return absl::OkStatus();
  }
  return backend_->CompleteActivityTask(result.task, result.event);
}

bool Worker::StartFusedTaskLocked(ActivityResult& result) {
  if (stopping_.load() || config_.max_cached_runs == 0) return false;
  // Only when a poller waiting here picks the activation up at once;
  // otherwise the result may as well wait in the backend's inbox.
  if (workflow_waiters_ <= static_cast<int>(ready_.size())) return false;
  const std::string run_id = result.task.execution_id;
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return false;
  RunSlot& slot = it->second;
  if (!slot.in_lru || slot.machine == nullptr || !slot.identity.has_value() ||
      slot.task.has_value() || slot.queued_task.has_value() ||
      slot.outstanding || slot.committing || slot.eviction_reason.has_value()) {
    return false;
  }
  WorkflowTask task = *slot.identity;
  task.history_length = slot.machine->history_length();
  task.new_events.push_back(result.event);
  RemoveFromLruLocked(slot);
  if (absl::Status started =
          slot.machine->StartTask(absl::Now(), task.new_events);
      !started.ok()) {
    // The regular task that the result wakes replays and reports it.
    EvictLocked(run_id, slot,
                absl::StrCat("cannot start task: ", started.message()));
    EraseIfUnusedLocked(run_id);
    return false;
  }
  slot.task = std::move(task);
  slot.fused_result = std::move(result);
  ++workflow_tasks_in_flight_;
  ++stats_.fused_tasks;
  ScheduleLocked(run_id);
  return true;
}

absl::Status Worker::RecordActivityHeartbeat(
    const v1::ActivityHeartbeat& heartbeat) {
  absl::MutexLock lock(&mu_);
  auto it = activities_.find(heartbeat.task_token());
  if (it == activities_.end()) {
    return absl::NotFoundError(absl::StrFormat(
        "no activity attempt with token \"%s\" is in flight on this worker "
        "(it may have timed out)",
        heartbeat.task_token()));
  }
  it->second.last_heartbeat = absl::Now();
  return absl::OkStatus();
}

std::optional<v1::Failure> Worker::ActivityTimeout(
    const InFlightActivity& activity, absl::Time now) {
  const v1::ActivityScheduled& options =
      activity.task.scheduled_event.activity_scheduled();
  auto failure = [&](const char* type, const char* what, int64_t limit_us,
                     bool final) {
    v1::Failure f;
    f.set_type(type);
    f.set_message(
        absl::StrFormat("activity \"%s\" (attempt %d) %s %s",
                        options.activity_name(), activity.task.attempt, what,
                        absl::FormatDuration(absl::Microseconds(limit_us))));
    f.set_non_retryable(final);
    return f;
  };
  if (options.schedule_to_close_timeout_us() > 0 &&
      now - activity.task.scheduled_at >
          absl::Microseconds(options.schedule_to_close_timeout_us())) {
    return failure("ScheduleToCloseTimeout",
                   "did not finish within its schedule-to-close timeout of",
                   options.schedule_to_close_timeout_us(), true);
  }
  if (options.start_to_close_timeout_us() > 0 &&
      now - activity.started >
          absl::Microseconds(options.start_to_close_timeout_us())) {
    return failure("StartToCloseTimeout",
                   "did not finish within its start-to-close timeout of",
                   options.start_to_close_timeout_us(), false);
  }
  if (options.heartbeat_timeout_us() > 0 &&
      now - activity.last_heartbeat >
          absl::Microseconds(options.heartbeat_timeout_us())) {
    return failure("HeartbeatTimeout",
                   "sent no heartbeat within its heartbeat timeout of",
                   options.heartbeat_timeout_us(), false);
  }
  return std::nullopt;
}

absl::Status Worker::FinalizeShutdown(absl::Duration timeout) {
  InitiateShutdown();
  std::vector<FailedTask> leftover;
  std::deque<ActivityTask> unstarted;
  bool idle;
  {
    absl::MutexLock lock(&mu_);
    auto idle_cond = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return workflow_tasks_in_flight_ == 0 && activities_.empty() &&
             eager_activities_.empty();
    };
    idle = mu_.AwaitWithTimeout(absl::Condition(&idle_cond), timeout);
    const absl::Status why =
        ShutdownError("worker shut down before finishing the task");
    for (auto& [run_id, slot] : runs_) {
      if (slot.task.has_value() && !slot.outstanding && !slot.committing) {
        leftover.push_back({*slot.task, slot.fused_result, why});
      }
      if (slot.queued_task.has_value()) {
        leftover.push_back({*slot.queued_task, std::nullopt, why});
      }
    }
    unstarted.swap(eager_activities_);
    lease_thread_stop_ = true;
  }
  for (const FailedTask& task : leftover) {
    AbandonTask(task.task, task.why, task.fused_result);
  }
  // Eagerly leased attempts nobody polled: back to the queue, same attempt.
  for (const ActivityTask& task : unstarted) {
    backend_->RetryActivityTask(task, task.attempt, absl::Now()).IgnoreError();
  }
  if (lease_thread_.joinable()) lease_thread_.join();
  RemoveFromRegistry();
  if (!idle) {
    return absl::DeadlineExceededError(absl::StrCat(
        "work was still in flight after ", absl::FormatDuration(timeout),
        "; its leases expire on their own"));
  }
  return absl::OkStatus();
}

Worker::FailedTask Worker::DropTaskLocked(const std::string& run_id,
                                          RunSlot& slot, absl::Status why,
                                          std::string eviction_reason) {
  FailedTask dropped{*std::move(slot.task), std::move(slot.fused_result),
                     std::move(why)};
  slot.task.reset();
  slot.fused_result.reset();
  EvictLocked(run_id, slot, std::move(eviction_reason));
  --workflow_tasks_in_flight_;
  return dropped;
}

Worker::Stats Worker::stats() const {
  absl::MutexLock lock(&mu_);
  Stats stats = stats_;
  stats.idle_workflow_pollers = workflow_waiters_;
  stats.idle_activity_pollers = activity_waiters_;
  return stats;
}

void Worker::RenewLeases() {
  const absl::Duration renew_every =
      std::min(config_.workflow_task_lease, config_.activity_task_lease) / 3;
  // Activity timeouts are checked more often than leases are renewed.
  const absl::Duration tick = std::min(renew_every, absl::Milliseconds(20));
  const absl::Duration heartbeat_every = config_.worker_ttl / 3;
  const absl::Duration refresh_every =
      std::min(heartbeat_every, kRegistryRefreshInterval);
  absl::Time last_renewal = absl::Now();
  absl::Time last_heartbeat = last_renewal;  // the constructor's
  absl::Time last_refresh = last_renewal;
  while (true) {
    std::vector<WorkflowTask> workflow_tasks;
    std::vector<ActivityTask> activity_tasks;
    std::vector<std::pair<ActivityTask, v1::Failure>> timed_out;
    const absl::Time now = absl::Now();
    const bool renew = now - last_renewal >= renew_every;
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return lease_thread_stop_;
      };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), tick)) return;
      for (auto it = activities_.begin(); it != activities_.end();) {
        if (auto failure = ActivityTimeout(it->second, absl::Now())) {
          timed_out.emplace_back(std::move(it->second.task), *failure);
          activities_.erase(it++);
        } else {
          ++it;
        }
      }
      if (renew) {
        for (const auto& [run_id, slot] : runs_) {
          // A fused task has no lease of its own; its attempt's is renewed.
          if (slot.task.has_value() && !slot.task->lease_token.empty()) {
            workflow_tasks.push_back(*slot.task);
          }
          if (slot.queued_task.has_value()) {
            workflow_tasks.push_back(*slot.queued_task);
          }
          if (slot.fused_result.has_value()) {
            activity_tasks.push_back(slot.fused_result->task);
          }
        }
        for (const auto& [token, activity] : activities_) {
          activity_tasks.push_back(activity.task);
        }
        activity_tasks.insert(activity_tasks.end(), eager_activities_.begin(),
                              eager_activities_.end());
      }
    }
    // The attempt's code keeps running; its late result finds no task.
    for (const auto& [task, failure] : timed_out) {
      FinishFailedAttempt(task, failure).IgnoreError();
    }
    if (now - last_refresh >= refresh_every) {
      const bool renew_entry = now - last_heartbeat >= heartbeat_every;
      if (renew_entry) last_heartbeat = now;
      last_refresh = now;
      Heartbeat(renew_entry);
    }
    if (!renew) continue;
    last_renewal = now;
    // A failed renewal means the lease is lost; the completion will report
    // it, so there is nothing more to do here.
    for (const WorkflowTask& task : workflow_tasks) {
      backend_->ExtendWorkflowTaskLease(task, config_.workflow_task_lease)
          .IgnoreError();
    }
    for (const ActivityTask& task : activity_tasks) {
      backend_->ExtendActivityTaskLease(task, config_.activity_task_lease)
          .IgnoreError();
    }
  }
}

}  // namespace durable::core
