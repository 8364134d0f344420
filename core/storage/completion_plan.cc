#include "core/storage/completion_plan.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/parent_notification.h"
#include "core/time_util.h"

namespace durable::core {
namespace {

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

#define DURABLE_PLAN_RETURN_IF_ERROR(expr)              \
  do {                                                  \
    if (absl::Status _status = (expr); !_status.ok()) { \
      return _status;                                   \
    }                                                   \
  } while (false)

// The failure a parent receives when the sub-workflow it starts cannot start:
// an execution of the sub-workflow's instance is active (or the execution
// exists).
v1::Failure InstanceAlreadyExists(absl::string_view instance_id) {
  v1::Failure failure;
  failure.set_type("InstanceAlreadyExists");
  failure.set_message(absl::StrCat("workflow instance ", Quoted(instance_id),
                                   " already exists and is active"));
  failure.set_non_retryable(true);
  return failure;
}

absl::Status ExecuteStart(const ExecutionStart& start, absl::Time now,
                          PlanExecutor& store) {
  absl::StatusOr<StartOutcome> outcome = store.StartExecution(start);
  if (!outcome.ok()) return outcome.status();
  switch (*outcome) {
    case StartOutcome::kStarted:
    case StartOutcome::kAlreadyActive:  // Started before: nothing to do.
      return absl::OkStatus();
    case StartOutcome::kOtherActive:
    case StartOutcome::kExecutionExists:
      if (!start.refused_notice.has_value()) return absl::OkStatus();
      return ExecuteDelivery(DeliveryOf(*start.refused_notice, now), now,
                             store);
  }
  return absl::OkStatus();
}

}  // namespace

Delivery DeliveryOf(const OutboundEvent& outbound, absl::Time now) {
  Delivery delivery;
  delivery.instance_id = outbound.instance_id;
  delivery.execution_id = outbound.execution_id;
  delivery.event = &outbound.event;
  delivery.visible_at =
      outbound.visible_at == absl::InfinitePast() ? now : outbound.visible_at;
  delivery.key = outbound.key;
  delivery.reply =
      outbound.reply.has_value() ? &outbound.reply.value() : nullptr;
  return delivery;
}

Delivery ReplyDelivery(const OutboundEvent::Reply& reply, bool delivered,
                       absl::Time now) {
  Delivery answer;
  answer.instance_id = reply.instance_id;
  answer.execution_id = reply.execution_id;
  answer.event = delivered ? &reply.delivered : &reply.not_delivered;
  answer.visible_at = now;
  return answer;
}

Delivery ActivityResultDelivery(const ActivityTask& task,
                                const v1::HistoryEvent& result,
                                absl::Time now) {
  Delivery delivery;
  delivery.instance_id = task.instance_id;
  delivery.execution_id = task.execution_id;
  delivery.event = &result;
  delivery.visible_at = now;
  return delivery;
}

void ExecutionStart::SetStarted(const v1::HistoryEvent& event) {
  event_ = &event;
  normalized_.reset();
  // Inbox events carry id 0 (the worker numbers them when it appends them
  // to history), and an execution always has a queue. Events from the
  // engine are already so; copy only when they are not.
  if (event.id() != 0 || event.workflow_execution_started().queue().empty()) {
    normalized_ = event;
    normalized_->set_id(0);
    v1::WorkflowExecutionStarted* attributes =
        normalized_->mutable_workflow_execution_started();
    if (attributes->queue().empty()) attributes->set_queue(kDefaultQueue);
  }
}

absl::Status CheckCompletion(const WorkflowTask& task,
                             const WorkflowTaskCompletion& completion) {
  if (completion.state == v1::WORKFLOW_STATE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("completion of workflow instance ",
                     Quoted(task.instance_id), " has no state"));
  }
  return absl::OkStatus();
}

absl::StatusOr<CompletionPlan> PlanCompletion(
    const WorkflowTask& task, const WorkflowTaskCompletion& completion,
    const PlanInputs& inputs) {
  DURABLE_PLAN_RETURN_IF_ERROR(CheckCompletion(task, completion));
  const std::vector<v1::HistoryEvent>& executed = completion.executed_events;
  for (size_t i = 0; i < executed.size(); ++i) {
    const int64_t expected =
        inputs.history_length + 1 + static_cast<int64_t>(i);
    if (executed[i].id() != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("history of workflow instance ",
                       Quoted(task.instance_id), ": executed event ", i,
                       " has id ", executed[i].id(), ", expected ", expected));
    }
  }
  const absl::Time now = inputs.now;
  CompletionPlan plan;
  plan.execution = {task.instance_id, task.execution_id};
  plan.now = now;

  plan.history = executed;
  if (inputs.consume_inbox) plan.consume_inbox = task.inbox_cursor;
  plan.withdrawn_keys = completion.canceled_event_keys;
  plan.drop_previous_executions =
      completion.remove_previous_executions &&
      completion.state == v1::WORKFLOW_STATE_CONTINUED_AS_NEW;

  // Eager dispatch leases a prefix of the activities to the caller. Nobody
  // would receive them without a result to put them in, and an execution
  // whose rows step 8 deletes keeps none.
  const size_t eager =
      !inputs.eager_wanted || plan.drop_previous_executions
          ? 0
          : static_cast<size_t>(std::clamp<int64_t>(
                completion.eager_activities, 0,
                static_cast<int64_t>(completion.activities.size())));
  plan.eager_lease_expires_at = now + completion.eager_activity_lease;
  plan.activities.reserve(completion.activities.size());
  for (size_t i = 0; i < completion.activities.size(); ++i) {
    const ActivityTaskSpec& spec = completion.activities[i];
    PlannedActivity& activity = plan.activities.emplace_back();
    activity.spec = &spec;
    activity.activity_id =
        ActivityIdFor(task.execution_id, spec.scheduled_event.id());
    activity.queue = ActivityQueueFor(spec, task.queue);
    if (i < eager) activity.lease_token = inputs.new_id();
  }

  plan.update.state = completion.state;
  if (completion.state != v1::WORKFLOW_STATE_ACTIVE) {
    plan.update.finished_at = completion.completed_at == absl::UnixEpoch()
                                  ? now
                                  : completion.completed_at;
  }
  if (completion.result.has_value()) {
    plan.update.result = &completion.result.value();
  }
  plan.update.history_length =
      inputs.history_length + static_cast<int64_t>(executed.size());

  // Starts first, then everything else (see the top of the header).
  plan.outbound.reserve(completion.outbound_events.size());
  for (const OutboundEvent& outbound : completion.outbound_events) {
    if (!outbound.event.has_workflow_execution_started()) continue;
    ExecutionStart& start = std::get<ExecutionStart>(
        plan.outbound.emplace_back(std::in_place_type<ExecutionStart>));
    start.instance_id = outbound.instance_id;
    start.execution_id =
        outbound.execution_id.empty() ? inputs.new_id() : outbound.execution_id;
    start.created_at = now;
    start.visible_at =
        outbound.visible_at == absl::InfinitePast() ? now : outbound.visible_at;
    start.SetStarted(outbound.event);
    const v1::WorkflowParent& parent = start.attributes().parent();
    if (!parent.instance_id().empty()) {
      start.refused_notice =
          FailureForParent(parent, InstanceAlreadyExists(start.instance_id),
                           core::ToUnixMicros(now));
    }
  }
  for (const OutboundEvent& outbound : completion.outbound_events) {
    if (outbound.event.has_workflow_execution_started()) continue;
    plan.outbound.emplace_back(DeliveryOf(outbound, now));
  }

  if (completion.state != v1::WORKFLOW_STATE_ACTIVE) {
    plan.settle_inbox.emplace();
    plan.settle_inbox->next_execution_id = completion.next_execution_id;
  }
  return plan;
}

absl::Status ExecuteDelivery(const Delivery& delivery, absl::Time now,
                             PlanExecutor& store) {
  absl::StatusOr<bool> delivered = store.Deliver(delivery);
  if (!delivered.ok()) return delivered.status();
  if (delivery.reply == nullptr) return absl::OkStatus();
  // The sender's answer, prebuilt by the core: the store only said which.
  absl::StatusOr<bool> answered =
      store.Deliver(ReplyDelivery(*delivery.reply, *delivered, now));
  return answered.status();
}

absl::Status ExecutePlan(const CompletionPlan& plan, PlanExecutor& store,
                         WorkflowTaskCommitResult* result) {
  const ExecutionKey& execution = plan.execution;
  if (!plan.history.empty()) {
    DURABLE_PLAN_RETURN_IF_ERROR(store.AppendHistory(execution, plan.history));
  }
  if (plan.consume_inbox.has_value()) {
    DURABLE_PLAN_RETURN_IF_ERROR(
        store.ConsumeInbox(execution, *plan.consume_inbox));
  }
  if (!plan.withdrawn_keys.empty()) {
    DURABLE_PLAN_RETURN_IF_ERROR(
        store.WithdrawKeyedEvents(execution, plan.withdrawn_keys));
  }
  for (const PlannedActivity& activity : plan.activities) {
    DURABLE_PLAN_RETURN_IF_ERROR(store.EnqueueActivity(
        execution, activity, plan.now, plan.eager_lease_expires_at));
  }
  DURABLE_PLAN_RETURN_IF_ERROR(store.UpdateExecution(execution, plan.update));
  for (const OutboundStep& step : plan.outbound) {
    if (const auto* start = std::get_if<ExecutionStart>(&step)) {
      DURABLE_PLAN_RETURN_IF_ERROR(ExecuteStart(*start, plan.now, store));
    } else {
      DURABLE_PLAN_RETURN_IF_ERROR(
          ExecuteDelivery(std::get<Delivery>(step), plan.now, store));
    }
  }
  if (plan.settle_inbox.has_value()) {
    DURABLE_PLAN_RETURN_IF_ERROR(
        store.SettleEndedInbox(execution, *plan.settle_inbox));
  }
  if (plan.drop_previous_executions) {
    DURABLE_PLAN_RETURN_IF_ERROR(
        store.DropPreviousExecutions(execution.instance_id));
  }
  if (result == nullptr) return absl::OkStatus();
  result->workflow_task_committed = true;
  // Exactly what GetActivityTask would hand out for these rows (times are
  // stored in microseconds).
  const absl::Time scheduled_at =
      core::FromUnixMicros(core::ToUnixMicros(plan.now));
  for (const PlannedActivity& planned : plan.activities) {
    if (planned.lease_token.empty()) continue;
    ActivityTask& activity = result->eager_activities.emplace_back();
    activity.activity_id = planned.activity_id;
    activity.instance_id = std::string(execution.instance_id);
    activity.execution_id = std::string(execution.execution_id);
    activity.queue = std::string(planned.queue);
    activity.scheduled_event = planned.spec->scheduled_event;
    activity.attempt = 0;
    activity.metadata = planned.spec->metadata;
    activity.scheduled_at = scheduled_at;
    activity.lease_token = planned.lease_token;
  }
  return absl::OkStatus();
}

v1::HistoryEvent AsInboxEvent(v1::HistoryEvent event) {
  event.set_id(0);
  return event;
}

absl::StatusOr<ExecutionStart> PlanInstanceCreation(
    const v1::WorkflowInstance& instance, const v1::HistoryEvent& started,
    absl::Time now) {
  if (instance.instance_id().empty() || instance.execution_id().empty()) {
    return absl::InvalidArgumentError(
        "CreateWorkflowInstance needs a non-empty instance_id and "
        "execution_id");
  }
  if (!started.has_workflow_execution_started()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CreateWorkflowInstance for ", Quoted(instance.instance_id()),
        ": the started event must be a WorkflowExecutionStarted event"));
  }
  ExecutionStart start;
  start.instance_id = instance.instance_id();
  start.execution_id = instance.execution_id();
  start.created_at = now;
  start.visible_at = now;
  start.SetStarted(started);
  return start;
}

absl::Status ExecuteInstanceCreation(const ExecutionStart& start,
                                     PlanExecutor& store) {
  absl::StatusOr<StartOutcome> outcome = store.StartExecution(start);
  if (!outcome.ok()) return outcome.status();
  switch (*outcome) {
    case StartOutcome::kStarted:
      return absl::OkStatus();
    case StartOutcome::kAlreadyActive:
    case StartOutcome::kOtherActive:
      return absl::AlreadyExistsError(
          absl::StrCat("workflow instance ", Quoted(start.instance_id),
                       " already exists and is active"));
    case StartOutcome::kExecutionExists:
      return absl::AlreadyExistsError(absl::StrCat(
          "execution ", Quoted(start.execution_id), " of workflow instance ",
          Quoted(start.instance_id), " already exists"));
  }
  return absl::InternalError("unknown StartOutcome");
}

bool FusedStepMayCommit(const std::optional<ExecutionLeaseState>& execution,
                        const WorkflowTask& task, absl::Time now) {
  return execution.has_value() &&
         execution->state == v1::WORKFLOW_STATE_ACTIVE &&
         (!execution->lease_expires_at.has_value() ||
          *execution->lease_expires_at <= now) &&
         execution->history_length == task.history_length;
}

absl::Status CheckFusedStep(const ActivityTask& activity,
                            const WorkflowTask& task,
                            const WorkflowTaskCompletion& completion) {
  if (activity.instance_id != task.instance_id ||
      activity.execution_id != task.execution_id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CompleteActivityWithWorkflowTask: activity ",
        Quoted(activity.activity_id), " belongs to execution ",
        Quoted(activity.execution_id), " of workflow instance ",
        Quoted(activity.instance_id), ", not to the workflow task's execution ",
        Quoted(task.execution_id), " of ", Quoted(task.instance_id)));
  }
  return CheckCompletion(task, completion);
}

}  // namespace durable::core
