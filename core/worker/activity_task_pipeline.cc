// The activity task pipeline: how an activity attempt travels through the
// worker. A poller takes an eagerly leased attempt (local_dispatch.h) or
// leases one from the store, the attempt is tracked while the language
// layer runs it (activity_tracker.h), and its outcome ends it: a result is
// delivered -- fused with the workflow task it wakes when that run is idle
// in the cache, committed on its own otherwise -- and a failure is retried
// or delivered as the policy says (failure_policy.h).
//
// Why it is the Worker's own code: like the workflow pipeline, each step
// moves state between parts under the worker's one mutex.
#include <algorithm>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/errors.h"
#include "core/uuid.h"
#include "core/worker/worker.h"

namespace durable::core {

absl::StatusOr<v1::ActivityTask> Worker::PollActivityTask(
    absl::Duration timeout) {
  const absl::Time deadline = RealDeadline(timeout);
  {
    absl::MutexLock lock(&mu_);
    ++dispatch_.activity_pollers().polling;
  }
  absl::Cleanup leave = [this] {
    absl::MutexLock lock(&mu_);
    --dispatch_.activity_pollers().polling;
  };
  while (true) {
    std::shared_ptr<const TaskNameFilter> filter;
    {
      absl::MutexLock lock(&mu_);
      if (std::optional<ActivityTask> eager = dispatch_.TakeEager()) {
        return StartAttemptLocked(*std::move(eager));
      }
      if (stopping_.load()) return ShutdownError("worker is shutting down");
      if (RealTimePassed(deadline)) {
        return absl::DeadlineExceededError(absl::StrCat(
            "no activity task within ", absl::FormatDuration(timeout)));
      }
      // Waiting here, this thread counts as idle for eager dispatch; it may
      // leave for the store only while no commit in progress counts on it.
      LocalDispatch::Pollers& pollers = dispatch_.activity_pollers();
      ++pollers.waiting;
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return dispatch_.has_eager() || stopping_.load() ||
               dispatch_.ActivityPollerMayLeave();
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), deadline);
      --pollers.waiting;
      if (dispatch_.has_eager() || stopping_.load() ||
          !dispatch_.ActivityStoreTurnFree() || RealTimePassed(deadline)) {
        continue;
      }
      ++pollers.in_store;
      filter = registry_.FilterLocked(TaskKind::kActivity);
    }
    absl::StatusOr<std::optional<ActivityTask>> task = store_->GetActivityTask(
        config_.queues, *filter, config_.activity_task_lease,
        std::min(deadline, RealDeadline(kMaxStoreWait)), &stopping_);
    {
      absl::MutexLock lock(&mu_);
      --dispatch_.activity_pollers().in_store;
      if (!task.ok()) return task.status();
      if (!task->has_value()) continue;
      if ((*task)->damaged.empty() &&
          registry_.Runs(
              TaskKind::kActivity,
              (*task)->scheduled_event.activity_scheduled().activity_name())) {
        return StartAttemptLocked(**std::move(task));
      }
    }
    if (!(*task)->damaged.empty()) {
      failures_.FailDamagedActivity(**task);
      continue;
    }
    if (std::optional<v1::Failure> failure =
            failures_.UnregisteredActivityTask(**task)) {
      FinishFailedAttempt(**task, *failure).IgnoreError();
    }
  }
}

v1::ActivityTask Worker::StartAttemptLocked(ActivityTask leased) {
  v1::ActivityTask out;
  const std::string token = NewUuid();
  out.set_task_token(token);
  out.set_activity_id(leased.activity_id);
  out.set_instance_id(leased.instance_id);
  out.set_execution_id(leased.execution_id);
  out.set_activity_name(
      leased.scheduled_event.activity_scheduled().activity_name());
  *out.mutable_arguments() =
      leased.scheduled_event.activity_scheduled().arguments();
  out.set_attempt(leased.attempt);
  out.mutable_metadata()->insert(leased.metadata.begin(),
                                 leased.metadata.end());
  out.set_queue(leased.queue);
  out.set_scheduled_time_unix_us(absl::ToUnixMicros(leased.scheduled_at));
  activities_.Start(token, std::move(leased), clock_.Now());
  return out;
}

absl::Status Worker::CompleteActivityTask(
    const v1::ActivityTaskResult& result) {
  std::optional<ActivityTask> task;
  {
    absl::MutexLock lock(&mu_);
    task = activities_.Finish(result.task_token());
  }
  if (!task.has_value()) {
    return absl::NotFoundError(absl::StrFormat(
        "no activity attempt with token \"%s\" is in flight on this "
        "worker (it may have timed out)",
        result.task_token()));
  }
  switch (result.outcome_case()) {
    case v1::ActivityTaskResult::kCompleted: {
      v1::HistoryEvent event;
      event.set_timestamp_unix_us(absl::ToUnixMicros(clock_.Now()));
      auto* done = event.mutable_activity_completed();
      done->set_scheduled_event_id(task->scheduled_event.id());
      *done->mutable_result() = result.completed();
      done->set_attempt(task->attempt);
      return DeliverActivityResult(*std::move(task), std::move(event));
    }
    case v1::ActivityTaskResult::kFailed:
      return FinishFailedAttempt(*task, result.failed());
    case v1::ActivityTaskResult::OUTCOME_NOT_SET:
      break;
  }
  v1::Failure failure;
  failure.set_type("InvalidActivityResult");
  failure.set_message(
      "the activity worker reported neither a result nor a failure");
  failure.set_non_retryable(true);
  return FinishFailedAttempt(*task, failure);
}

absl::Status Worker::FinishFailedAttempt(const ActivityTask& task,
                                         const v1::Failure& failure) {
  absl::StatusOr<std::optional<v1::HistoryEvent>> final_event =
      failures_.RetryOrFinal(task, failure);
  if (!final_event.ok()) return final_event.status();
  if (!final_event->has_value()) return absl::OkStatus();  // retried
  return DeliverActivityResult(task, **std::move(final_event));
}

absl::Status Worker::DeliverActivityResult(ActivityTask task,
                                           v1::HistoryEvent event) {
  ActivityResult result{std::move(task), std::move(event)};
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_.load() && config_.max_cached_runs > 0 &&
        dispatch_.StartFusedTask(result, cache_, clock_)) {
      ++workflow_tasks_in_flight_;
      return absl::OkStatus();
    }
  }
  return store_->CompleteActivityTask(result.task, result.event);
}

absl::Status Worker::RecordActivityHeartbeat(
    const v1::ActivityHeartbeat& heartbeat) {
  absl::MutexLock lock(&mu_);
  if (!activities_.Heartbeat(heartbeat.task_token(), clock_.Now())) {
    return absl::NotFoundError(absl::StrFormat(
        "no activity attempt with token \"%s\" is in flight on this worker "
        "(it may have timed out)",
        heartbeat.task_token()));
  }
  return absl::OkStatus();
}

}  // namespace durable::core
