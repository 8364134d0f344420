#include "core/worker/failure_policy.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/errors.h"
#include "core/parent_notification.h"
#include "core/retry_policy.h"
#include "core/worker/worker.h"

namespace durable::core {

FailurePolicy::FailurePolicy(Store& store, const WorkerConfig& config,
                             WorkerRegistry& registry)
    : store_(store),
      config_(config),
      clock_(*config.clock),
      registry_(registry) {}

void FailurePolicy::AbandonWorkflowTask(
    const WorkflowTask& task, const absl::Status& why,
    const std::optional<ActivityResult>& fused_result) {
  if (fused_result.has_value()) {
    // If this fails too, the attempt's lease expires and it runs again.
    store_.CompleteActivityTask(fused_result->task, fused_result->event)
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
  failure.set_failed_at_unix_us(absl::ToUnixMicros(clock_.Now()));
  // If this fails too the lease simply expires; nothing else to do.
  store_.AbandonWorkflowTask(task, failure, config_.workflow_task_retry_delay)
      .IgnoreError();
}

void FailurePolicy::FailWorkflow(const WorkflowTask& task,
                                 const absl::Status& why,
                                 absl::string_view failure_type) {
  const absl::Time now = clock_.Now();
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
  store_.CompleteWorkflowTask(task, commit).IgnoreError();
}

void FailurePolicy::HistoryLimitExceeded(
    const WorkflowTask& task, const absl::Status& why,
    const std::optional<ActivityResult>& fused_result) {
  if (fused_result.has_value()) {
    // A regular task fails it.
    AbandonWorkflowTask(task, why, fused_result);
  } else {
    FailWorkflow(task, why, "HistoryLimitExceeded");
  }
}

void FailurePolicy::CommitFailed(
    const WorkflowTask& task, const absl::Status& committed,
    const std::optional<ActivityResult>& fused_result) {
  // ABORTED: the lease (the task's, or for a fused task the attempt's) was
  // lost and belongs to another worker now; the attempt's result is void.
  // Any other failure wrote nothing and still holds the lease: release it
  // for a prompt retry (a fused task commits its result on its own, and a
  // regular task then retries the workflow task).
  if (committed.code() == absl::StatusCode::kAborted) return;
  AbandonWorkflowTask(task, committed, fused_result);
}

absl::StatusOr<std::optional<v1::HistoryEvent>> FailurePolicy::RetryOrFinal(
    const ActivityTask& task, const v1::Failure& failure) {
  const absl::Time now = clock_.Now();
  std::optional<absl::Duration> retry_in =
      NextRetryDelay(task.scheduled_event.activity_scheduled().retry_policy(),
                     task.attempt, failure, task.scheduled_at, now);
  if (retry_in.has_value()) {
    absl::Status retried =
        store_.RetryActivityTask(task, task.attempt + 1, now + *retry_in);
    if (!retried.ok()) return retried;
    return std::optional<v1::HistoryEvent>();
  }
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(now));
  auto* failed = event.mutable_activity_failed();
  failed->set_scheduled_event_id(task.scheduled_event.id());
  *failed->mutable_failure() = failure;
  failed->set_attempt(task.attempt);
  return std::optional<v1::HistoryEvent>(std::move(event));
}

void FailurePolicy::FailDamagedActivity(const ActivityTask& task) {
  std::optional<int64_t> scheduled = ScheduledEventIdOf(task.activity_id);
  if (!scheduled.has_value()) {
    // Nothing to tell the workflow about; the lease expires and the store
    // hands the row out again (it is damaged in the id too).
    return;
  }
  v1::HistoryEvent failed;
  failed.set_timestamp_unix_us(absl::ToUnixMicros(clock_.Now()));
  failed.mutable_activity_failed()->set_scheduled_event_id(*scheduled);
  failed.mutable_activity_failed()->set_attempt(task.attempt);
  v1::Failure* failure = failed.mutable_activity_failed()->mutable_failure();
  failure->set_type("ActivityTaskCorrupted");
  failure->set_message(task.damaged);
  failure->set_non_retryable(true);
  // If this fails the lease expires and the next poll tries again.
  store_.CompleteActivityTask(task, failed).IgnoreError();
}

void FailurePolicy::UnregisteredWorkflowTask(const WorkflowTask& task) {
  absl::StatusOr<std::optional<std::string>> runner = registry_.LiveRunnerOf(
      TaskKind::kWorkflow, task.workflow_name, task.queue);
  if (runner.ok() && !runner->has_value()) {
    FailWorkflow(task,
                 absl::NotFoundError(registry_.NotRegisteredMessage(
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
  failure.set_failed_at_unix_us(absl::ToUnixMicros(clock_.Now()));
  store_
      .AbandonWorkflowTask(task, failure,
                           runner.ok() ? absl::ZeroDuration()
                                       : config_.workflow_task_retry_delay)
      .IgnoreError();
}

std::optional<v1::Failure> FailurePolicy::UnregisteredActivityTask(
    const ActivityTask& task) {
  const std::string& name =
      task.scheduled_event.activity_scheduled().activity_name();
  absl::StatusOr<std::optional<std::string>> runner =
      registry_.LiveRunnerOf(TaskKind::kActivity, name, task.queue);
  if (runner.ok() && !runner->has_value()) {
    v1::Failure failure;
    failure.set_type("ActivityNotRegistered");
    failure.set_message(
        registry_.NotRegisteredMessage(TaskKind::kActivity, name, task.queue));
    failure.set_non_retryable(true);
    return failure;
  }
  // Same attempt, back to the queue: for the worker that runs it, or for a
  // retry once the registry can be read again.
  const absl::Time now = clock_.Now();
  store_
      .RetryActivityTask(
          task, task.attempt,
          runner.ok() ? now : now + config_.workflow_task_retry_delay)
      .IgnoreError();
  return std::nullopt;
}

}  // namespace durable::core
