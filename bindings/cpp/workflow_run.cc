#include "durable/internal/workflow_run.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "durable/failure.h"

namespace durable::internal {
namespace {

v1::WorkflowActivationCompletion FailedCompletion(const std::string& run_id,
                                                  const absl::Status& status) {
  v1::WorkflowActivationCompletion completion;
  completion.set_run_id(run_id);
  *completion.mutable_failed() = *FailureFromStatus(status);
  return completion;
}

}  // namespace

WorkflowRun::WorkflowRun(const Registry& registry, std::string run_id)
    : ctx_(registry, std::move(run_id)) {}

WorkflowRun::~WorkflowRun() {
  // Destroying the root frame destroys the frames it awaits in turn.
  root_.reset();
}

v1::WorkflowActivationCompletion WorkflowRun::Activate(
    const v1::WorkflowActivation& activation) {
  ctx_.instance_id_ = activation.instance_id();
  ctx_.now_ = absl::FromUnixMicros(activation.workflow_time_unix_us());
  ctx_.replaying_ = activation.is_replaying();
  ctx_.commands_.clear();
  if (!started_ &&
      (activation.jobs().empty() || !activation.jobs(0).has_start_workflow())) {
    return FailedCompletion(
        ctx_.run_id_, absl::FailedPreconditionError(absl::StrCat(
                          "run ", ctx_.run_id_,
                          " is not cached and the activation does not start "
                          "it with a StartWorkflow job")));
  }
  try {
    for (const v1::WorkflowActivationJob& job : activation.jobs()) {
      absl::Status status = ApplyJob(job);
      if (!status.ok()) return FailedCompletion(ctx_.run_id_, status);
    }
    RunUntilBlocked();
  } catch (const std::exception& e) {
    // User exceptions are caught inside the coroutines; this is a bug of the
    // facade (or std::bad_alloc). Let the engine retry the task.
    return FailedCompletion(ctx_.run_id_, absl::InternalError(e.what()));
  }
  v1::WorkflowActivationCompletion completion;
  completion.set_run_id(ctx_.run_id_);
  auto* commands = completion.mutable_successful()->mutable_commands();
  for (v1::WorkflowCommand& command : ctx_.commands_) {
    *commands->Add() = std::move(command);
  }
  ctx_.commands_.clear();
  return completion;
}

absl::Status WorkflowRun::ApplyJob(const v1::WorkflowActivationJob& job) {
  switch (job.variant_case()) {
    case v1::WorkflowActivationJob::kStartWorkflow:
      return Start(job.start_workflow());
    case v1::WorkflowActivationJob::kResolveActivity:
      return ResolveActivity(job.resolve_activity());
    case v1::WorkflowActivationJob::kNotifyHasPatch:
      // The facade offers no Patched() yet, so no code can ask.
      return absl::OkStatus();
    case v1::WorkflowActivationJob::kSignalWorkflow:
      ctx_.Log(absl::StrCat("dropping signal \"",
                            job.signal_workflow().signal_name(),
                            "\": the C++ facade does not receive signals yet"));
      return absl::OkStatus();
    case v1::WorkflowActivationJob::kCancelWorkflow:
      ctx_.Log(
          "cancellation requested; the C++ facade does not support "
          "cancellation yet, so the workflow keeps running");
      return absl::OkStatus();
    default:
      // Timers, children and side effects are resolutions of commands this
      // facade never issues, and RemoveFromCache is handled by the executor.
      return absl::UnimplementedError(absl::StrCat(
          "activation job ",
          job.GetDescriptor()->FindFieldByNumber(job.variant_case())->name(),
          " is not supported by the C++ facade"));
  }
}

absl::Status WorkflowRun::Start(const v1::StartWorkflow& start) {
  if (started_) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", ctx_.run_id_, " was started twice"));
  }
  started_ = true;
  ctx_.workflow_name_ = start.workflow_name();
  ctx_.queue_ = start.queue();
  ctx_.metadata_ = {start.metadata().begin(), start.metadata().end()};
  const Registry::WorkflowFactory* factory =
      ctx_.registry_.FindWorkflow(start.workflow_name());
  if (factory == nullptr) {
    std::vector<std::string> names = ctx_.registry_.WorkflowNames();
    Finish(FailureStatus(
        kWorkflowNotRegisteredFailure,
        absl::StrCat("workflow \"", start.workflow_name(),
                     "\" is not registered with this worker (registered: ",
                     names.empty() ? "none" : absl::StrJoin(names, ", "),
                     ")")));
    return absl::OkStatus();
  }
  root_.emplace((*factory)(ctx_, start.arguments()));
  runnable_.push_back(root_->handle());
  return absl::OkStatus();
}

absl::Status WorkflowRun::ResolveActivity(const v1::ResolveActivity& resolve) {
  auto it = ctx_.pending_activities_.find(resolve.seq());
  if (it == ctx_.pending_activities_.end() && resolve.seq() > 0 &&
      resolve.seq() >= ctx_.next_activity_seq_) {
    // The engine sends one activation per workflow task, so this only happens
    // if it batched several tasks: run the code up to where it scheduled the
    // activity, as it ran originally.
    RunUntilBlocked();
    it = ctx_.pending_activities_.find(resolve.seq());
  }
  if (it == ctx_.pending_activities_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ResolveActivity for seq ", resolve.seq(),
        ", which is not a pending activity of run ", ctx_.run_id_));
  }
  std::shared_ptr<FutureStateBase> state = std::move(it->second);
  ctx_.pending_activities_.erase(it);
  absl::StatusOr<v1::Payload> outcome =
      resolve.has_failed() ? StatusFromFailure(resolve.failed())
                           : absl::StatusOr<v1::Payload>(resolve.completed());
  for (std::coroutine_handle<> waiter : state->Resolve(std::move(outcome))) {
    runnable_.push_back(waiter);
  }
  return absl::OkStatus();
}

void WorkflowRun::RunUntilBlocked() {
  while (!runnable_.empty() && !finished_) {
    std::coroutine_handle<> next = runnable_.front();
    runnable_.pop_front();
    next.resume();
    FinishIfDone();
  }
}

void WorkflowRun::FinishIfDone() {
  if (finished_ || !root_.has_value() || !root_->done()) return;
  absl::StatusOr<v1::Payload> result;
  try {
    result = root_->TakeResult();
  } catch (const std::exception& e) {
    result = PanicStatus(e);
  } catch (...) {
    result = UnknownPanicStatus();
  }
  Finish(std::move(result));
}

void WorkflowRun::Finish(absl::StatusOr<v1::Payload> result) {
  finished_ = true;
  v1::WorkflowCommand& command = ctx_.commands_.emplace_back();
  if (result.ok()) {
    *command.mutable_complete_workflow()->mutable_result() = *std::move(result);
  } else {
    *command.mutable_fail_workflow()->mutable_failure() =
        *FailureFromStatus(result.status());
  }
}

}  // namespace durable::internal
