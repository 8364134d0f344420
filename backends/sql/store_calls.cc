#include "backends/sql/store_calls.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "backends/sql/relational_plan_executor.h"
#include "backends/sql/status_macros.h"
#include "core/storage/completion_plan.h"

namespace durable::backends::sql {
namespace {

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

}  // namespace

absl::Status CheckWorkflowTaskCompletion(
    const core::WorkflowTask& task,
    const core::WorkflowTaskCompletion& completion) {
  InboxCursor cursor;
  if (!ParseInboxCursor(task.inbox_cursor, &cursor)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "workflow task for instance ", Quoted(task.instance_id),
        " has a malformed inbox cursor ", Quoted(task.inbox_cursor)));
  }
  return core::CheckCompletion(task, completion);
}

absl::Status CompleteWorkflowTaskIn(
    RelationalStore& relational, const core::WorkflowTask& task,
    const core::WorkflowTaskCompletion& completion, absl::Time now,
    core::WorkflowTaskCommitResult* committed) {
  if (committed != nullptr) *committed = core::WorkflowTaskCommitResult();
  core::PlanInputs inputs;
  inputs.now = now;
  inputs.eager_wanted = committed != nullptr;
  DURABLE_ASSIGN_OR_RETURN(inputs.history_length,
                           relational.LeasedHistoryLength(task));
  DURABLE_ASSIGN_OR_RETURN(core::CompletionPlan plan,
                           core::PlanCompletion(task, completion, inputs));
  return core::ExecutePlan(plan, relational.plan_executor(), committed);
}

absl::Status CheckFusedStep(const core::ActivityTask& activity,
                            const core::WorkflowTask& task,
                            const core::WorkflowTaskCompletion& completion,
                            core::WorkflowTaskCommitResult* result) {
  if (result == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CompleteActivityWithWorkflowTask for activity ",
        Quoted(activity.activity_id), " needs a result to report into"));
  }
  *result = core::WorkflowTaskCommitResult();
  return core::CheckFusedStep(activity, task, completion);
}

absl::Status CompleteFusedStepIn(RelationalStore& relational,
                                 const core::ActivityTask& activity,
                                 const v1::HistoryEvent& activity_result,
                                 const core::WorkflowTask& task,
                                 const core::WorkflowTaskCompletion& completion,
                                 absl::Time now,
                                 core::WorkflowTaskCommitResult* committed) {
  *committed = core::WorkflowTaskCommitResult();
  DURABLE_RETURN_IF_ERROR(relational.DeleteLeasedActivity(activity));
  DURABLE_ASSIGN_OR_RETURN(
      std::optional<core::ExecutionLeaseState> execution,
      relational.ExecutionLease(task.instance_id, task.execution_id));
  if (!core::FusedStepMayCommit(execution, task, now)) {
    // The caller's copy is stale: the result goes to the inbox for whoever
    // runs the next task.
    return core::ExecuteDelivery(
        core::ActivityResultDelivery(activity, activity_result, now), now,
        relational.plan_executor());
  }
  core::PlanInputs inputs;
  inputs.history_length = task.history_length;
  inputs.now = now;
  inputs.eager_wanted = true;
  // Events that arrived meanwhile (none of them is this activity's result)
  // wait for the next task.
  inputs.consume_inbox = false;
  DURABLE_ASSIGN_OR_RETURN(core::CompletionPlan plan,
                           core::PlanCompletion(task, completion, inputs));
  return core::ExecutePlan(plan, relational.plan_executor(), committed);
}

absl::Status CompleteActivityTaskIn(RelationalStore& relational,
                                    const core::ActivityTask& task,
                                    const v1::HistoryEvent& result,
                                    absl::Time now) {
  DURABLE_RETURN_IF_ERROR(relational.DeleteLeasedActivity(task));
  return core::ExecuteDelivery(core::ActivityResultDelivery(task, result, now),
                               now, relational.plan_executor());
}

absl::StatusOr<v1::WorkflowInstanceState> WaitForFinished(
    const core::PollLoopOptions& poll, const std::string& instance_id,
    absl::Time deadline,
    absl::FunctionRef<absl::StatusOr<v1::WorkflowInstanceState>()> get_state) {
  const absl::Time start = poll.clock->Now();
  v1::WorkflowInstanceState state;
  DURABLE_ASSIGN_OR_RETURN(
      core::PollOutcome outcome,
      core::PollUntil(poll, deadline, /*stop=*/nullptr,
                      [&](absl::Time*) -> absl::StatusOr<bool> {
                        DURABLE_ASSIGN_OR_RETURN(state, get_state());
                        return state.state() != v1::WORKFLOW_STATE_ACTIVE;
                      }));
  if (outcome != core::PollOutcome::kFound) {
    return absl::DeadlineExceededError(absl::StrCat(
        "workflow instance ", Quoted(instance_id), " did not finish within ",
        absl::FormatDuration(deadline - start)));
  }
  return state;
}

absl::Status CheckWorker(const v1::WorkerInfo& worker) {
  if (worker.worker_id().empty()) {
    return absl::InvalidArgumentError("RecordWorker needs a worker_id");
  }
  return absl::OkStatus();
}

}  // namespace durable::backends::sql
