// The workflow task pipeline: how a workflow task travels through the
// worker. A poller leases a task from the store (or finds a ready run
// here), the task starts on its cached run or replays history into a new
// one, its activations go out to the language layer one at a time, the
// completions are applied to the replay machine, and the finished task is
// committed in one atomic write (with its eager activities and, for a fused
// task, the activity result that woke it).
//
// Why it is the Worker's own code: every step moves state between several
// parts at once (run cache, local dispatch, in-flight counts) under the
// worker's one mutex, and decides which part acts next. Failures leave this
// file as a status for the failure policy (failure_policy.h), handed over
// once the mutex is released.
#include <algorithm>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/errors.h"
#include "core/worker/worker.h"

namespace durable::core {
namespace {

}  // namespace

absl::StatusOr<v1::WorkflowActivation> Worker::PollWorkflowActivation(
    absl::Duration timeout) {
  const absl::Time deadline = RealDeadline(timeout);
  {
    absl::MutexLock lock(&mu_);
    ++dispatch_.workflow_pollers().polling;
  }
  absl::Cleanup leave = [this] {
    absl::MutexLock lock(&mu_);
    --dispatch_.workflow_pollers().polling;
  };
  while (true) {
    std::vector<FailedTask> failed;
    std::optional<absl::StatusOr<v1::WorkflowActivation>> answer;
    bool poll_store = false;
    std::shared_ptr<const TaskNameFilter> filter;
    {
      absl::MutexLock lock(&mu_);
      answer = NextForPollerLocked(deadline, failed);
      if (!answer.has_value() && !RealTimePassed(deadline)) {
        LocalDispatch::Pollers& pollers = dispatch_.workflow_pollers();
        if (dispatch_.WorkflowStoreTurnFree()) {
          ++pollers.in_store;
          poll_store = true;
          filter = registry_.FilterLocked(TaskKind::kWorkflow);
        } else {
          // Wait for a fused activation, or for a turn in the store.
          ++pollers.waiting;
          auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return !cache_.ready_empty() || stopping_.load() ||
                   dispatch_.WorkflowStoreTurnFree();
          };
          mu_.AwaitWithDeadline(absl::Condition(&wake), deadline);
          --pollers.waiting;
        }
      }
    }
    for (FailedTask& f : failed) {
      failures_.AbandonWorkflowTask(f.task, f.why, f.fused_result);
      if (f.next.has_value()) {
        AcceptWorkflowTask(*std::move(f.next), /*counted=*/true);
      }
    }
    if (answer.has_value()) return *std::move(answer);
    if (!poll_store) {
      if (RealTimePassed(deadline)) {
        return absl::DeadlineExceededError(absl::StrCat(
            "no workflow activation within ", absl::FormatDuration(timeout)));
      }
      continue;
    }
    absl::StatusOr<std::optional<WorkflowTask>> task = store_->GetWorkflowTask(
        config_.queues, *filter, config_.workflow_task_lease,
        std::min(deadline, RealDeadline(kMaxStoreWait)), &stopping_);
    {
      absl::MutexLock lock(&mu_);
      --dispatch_.workflow_pollers().in_store;
    }
    if (!task.ok()) return task.status();
    if (!task->has_value()) continue;
    if (!(*task)->damaged.empty()) {
      // Retrying cannot help: fail this instance, the others go on.
      failures_.FailWorkflow(**task, absl::DataLossError((*task)->damaged),
                             "HistoryCorrupted");
      continue;
    }
    if (!registry_.Runs(TaskKind::kWorkflow, (*task)->workflow_name)) {
      failures_.UnregisteredWorkflowTask(**task);
      continue;
    }
    AcceptWorkflowTask(**std::move(task));
  }
}

std::optional<absl::StatusOr<v1::WorkflowActivation>>
Worker::NextForPollerLocked(absl::Time deadline,
                            std::vector<FailedTask>& failed) {
  if (auto activation = TakeReadyLocked(failed)) return *std::move(activation);
  if (!stopping_.load()) return std::nullopt;  // go poll the store
  // Shutting down: hand out what in-flight runs still produce (their next
  // activations, evictions), then report shutdown.
  auto work_or_idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !cache_.ready_empty() || workflow_tasks_in_flight_ == 0;
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
  const std::string execution_id = task.execution_id;
  absl::Status start_failure;
  {
    absl::MutexLock lock(&mu_);
    if (!counted) ++workflow_tasks_in_flight_;
    RunSlot& slot = cache_.Slot(execution_id);
    if (slot.task.has_value()) {
      // The run is busy (loading history, running, committing): run this
      // task right after. A task queued earlier is superseded: the store
      // only hands the run out again once that one's lease expired.
      if (slot.queued_task.has_value()) --workflow_tasks_in_flight_;
      slot.queued_task = std::move(task);
      return;
    }
    const bool cached = slot.machine != nullptr &&
                        !slot.eviction_reason.has_value() &&
                        slot.machine->history_length() == task.history_length;
    if (cached) {
      cache_.RemoveFromLru(slot);
      start_failure = slot.machine->StartTask(clock_.Now(), task.new_events);
      if (start_failure.ok()) {
        slot.task = std::move(task);
        cache_.Schedule(execution_id);
        return;
      }
      cache_.Evict(
          execution_id, slot,
          absl::StrCat("cannot start task: ", start_failure.message()));
      --workflow_tasks_in_flight_;
      cache_.EraseIfUnused(execution_id);
    } else {
      if (slot.machine != nullptr || slot.language_has_state) {
        cache_.Evict(execution_id, slot,
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
    failures_.AbandonWorkflowTask(task, start_failure);
    return;
  }

  // Not cached: replay from history (I/O outside the lock).
  absl::StatusOr<std::unique_ptr<WorkflowStateMachine>> machine =
      ReplayMachineFor(task);
  std::optional<WorkflowTask> next;
  {
    absl::MutexLock lock(&mu_);
    RunSlot& slot = cache_.Slot(execution_id);
    if (machine.ok()) {
      slot.machine = *std::move(machine);
      cache_.Schedule(execution_id);
      return;
    }
    slot.task.reset();
    --workflow_tasks_in_flight_;
    next = cache_.TakeQueued(slot);
    cache_.EraseIfUnused(execution_id);
  }
  failures_.AbandonWorkflowTask(task, machine.status());
  if (next.has_value()) AcceptWorkflowTask(*std::move(next), /*counted=*/true);
}

absl::StatusOr<std::unique_ptr<WorkflowStateMachine>> Worker::ReplayMachineFor(
    const WorkflowTask& task) {
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      store_->GetWorkflowHistory(task.instance_id, task.execution_id);
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
  if (absl::Status s = machine->StartTask(clock_.Now(), task.new_events);
      !s.ok()) {
    return s;
  }
  return machine;
}

std::optional<v1::WorkflowActivation> Worker::TakeReadyLocked(
    std::vector<FailedTask>& failed) {
  while (std::optional<RunCache::Ready> ready = cache_.PopReady()) {
    RunSlot& slot = *ready->slot;
    if (slot.eviction_reason.has_value()) {
      return cache_.StartEviction(ready->execution_id, slot);
    }
    if (slot.machine == nullptr || !slot.task.has_value()) continue;
    absl::StatusOr<std::optional<v1::WorkflowActivation>> next =
        slot.machine->NextActivation();
    if (!next.ok()) {
      failed.push_back(DropTaskLocked(
          ready->execution_id, slot, next.status(),
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

Worker::FailedTask Worker::DropTaskLocked(const std::string& execution_id,
                                          RunSlot& slot, absl::Status why,
                                          std::string eviction_reason) {
  FailedTask dropped{*std::move(slot.task), std::move(slot.fused_result),
                     std::move(why)};
  slot.task.reset();
  slot.fused_result.reset();
  cache_.Evict(execution_id, slot, std::move(eviction_reason));
  --workflow_tasks_in_flight_;
  return dropped;
}

absl::Status Worker::CompleteWorkflowActivation(
    const v1::WorkflowActivationCompletion& completion) {
  const std::string& execution_id = completion.execution_id();
  absl::ReleasableMutexLock lock(&mu_);
  RunSlot* found = cache_.Find(execution_id);
  if (found == nullptr || !found->outstanding) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "no activation of run \"%s\" is awaiting completion", execution_id));
  }
  RunSlot& slot = *found;

  if (slot.evicting) {
    std::optional<WorkflowTask> next = cache_.FinishEviction(execution_id, slot);
    lock.Release();
    if (next.has_value()) {
      AcceptWorkflowTask(*std::move(next), /*counted=*/true);
    }
    return absl::OkStatus();
  }
  slot.outstanding = false;

  absl::Status applied = slot.machine->ApplyCompletion(completion);
  if (!applied.ok()) {
    FailedTask dropped = DropTaskLocked(
        execution_id, slot, applied,
        absl::StrCat("workflow task failed: ", applied.message()));
    lock.Release();
    failures_.AbandonWorkflowTask(dropped.task, applied, dropped.fused_result);
    return applied;
  }
  if (!slot.machine->task_done()) {
    cache_.Schedule(execution_id);  // the next replayed task, or the live one
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
        DropTaskLocked(execution_id, slot, too_long, "history limit exceeded");
    lock.Release();
    failures_.HistoryLimitExceeded(dropped.task, too_long,
                                   dropped.fused_result);
    return absl::OkStatus();
  }
  return CommitWorkflowTask(execution_id, slot, lock);
}

absl::Status Worker::CommitWorkflowTask(const std::string& execution_id,
                                        RunSlot& slot,
                                        absl::ReleasableMutexLock& lock) {
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
  commit.completed_at = clock_.Now();
  // Activities this worker can run come first: eager dispatch leases a
  // prefix of the list.
  for (v1::HistoryEvent& scheduled : output.scheduled_activities) {
    ActivityTaskSpec& spec = commit.activities.emplace_back();
    spec.scheduled_event = std::move(scheduled);
    // Resolved here already (the store's plan would resolve it the same
    // way) to know which activities this worker may run eagerly.
    spec.queue = ActivityQueueFor(spec, task.queue);
    spec.metadata = task.metadata;
  }
  const int servable = static_cast<int>(
      std::stable_partition(
          commit.activities.begin(), commit.activities.end(),
          [this](const ActivityTaskSpec& spec) {
            return std::find(config_.queues.begin(), config_.queues.end(),
                             spec.queue) != config_.queues.end() &&
                   registry_.Runs(TaskKind::kActivity,
                                  spec.scheduled_event.activity_scheduled()
                                      .activity_name());
          }) -
      commit.activities.begin());
  if (!stopping_.load()) {
    commit.eager_activities = dispatch_.ReserveEager(servable);
    commit.eager_activity_lease = config_.activity_task_lease;
  }
  lock.Release();

  WorkflowTaskCommitResult result;
  absl::Status committed;
  if (fused.has_value()) {
    committed = store_->CompleteActivityWithWorkflowTask(
        fused->task, fused->event, task, commit, &result);
  } else {
    committed = store_->CompleteWorkflowTask(task, commit, &result);
    result.workflow_task_committed = committed.ok();
  }

  std::optional<WorkflowTask> next;
  {
    absl::MutexLock relock(&mu_);
    dispatch_.SettleEager(commit.eager_activities,
                          committed.ok() ? &result.eager_activities : nullptr);
    RunSlot& done = cache_.Slot(execution_id);
    done.committing = false;
    done.task.reset();
    --workflow_tasks_in_flight_;
    if (!committed.ok()) {
      cache_.Evict(execution_id, done,
                   absl::StrCat("commit failed: ", committed.message()));
    } else if (!result.workflow_task_committed) {
      // Only the activity result was committed: another worker ran a task
      // of this instance since the run was cached here.
      dispatch_.CountRefusedFusedTask();
      cache_.Evict(execution_id, done,
                   "fused task refused: another worker moved the instance on "
                   "since the run was cached");
    } else if (finished) {
      cache_.Evict(execution_id, done, "workflow finished");
    } else if (config_.max_cached_runs == 0) {
      cache_.Evict(execution_id, done, "executor cache disabled (size 0)");
    } else {
      WorkflowTask& identity = done.identity.emplace(task);
      identity.lease_token.clear();
      identity.inbox_cursor.clear();
      identity.new_events.clear();
      cache_.Cache(execution_id, done);
    }
    next = cache_.TakeQueued(done);
    cache_.EraseIfUnused(execution_id);
  }
  if (!committed.ok()) failures_.CommitFailed(task, committed, fused);
  if (next.has_value()) AcceptWorkflowTask(*std::move(next), /*counted=*/true);
  return committed;
}

}  // namespace durable::core
