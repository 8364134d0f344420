#include "durable/internal/workflow_run.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "durable/failure.h"

namespace durable::internal {
namespace {

v1::WorkflowActivationCompletion FailedCompletion(const std::string& execution_id,
                                                  const absl::Status& status) {
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id(execution_id);
  *completion.mutable_failed() = *FailureFromStatus(status);
  return completion;
}

}  // namespace

WorkflowRun::WorkflowRun(const Registry& registry, std::string execution_id)
    : run_(registry, std::move(execution_id)), ctx_(&run_, run_.root_scope) {}

WorkflowRun::~WorkflowRun() {
  // Destroying the root frame destroys the frames it awaits in turn; then
  // the frames of the coroutines started with Go.
  root_.reset();
  run_.coroutines.clear();
}

v1::WorkflowActivationCompletion WorkflowRun::Activate(
    const v1::WorkflowActivation& activation) {
  run_.instance_id = activation.instance_id();
  run_.now = absl::FromUnixMicros(activation.workflow_time_unix_us());
  run_.replaying = activation.is_replaying();
  ++run_.activation;
  run_.commands.clear();
  // On replay ResolveSideEffect jobs may come before StartWorkflow.
  if (!started_ &&
      std::none_of(activation.jobs().begin(), activation.jobs().end(),
                   [](const v1::WorkflowActivationJob& job) {
                     return job.has_start_workflow();
                   })) {
    return FailedCompletion(
        run_.execution_id, absl::FailedPreconditionError(absl::StrCat(
                         "run ", run_.execution_id,
                         " is not cached and the activation does not start "
                         "it with a StartWorkflow job")));
  }
  try {
    for (const v1::WorkflowActivationJob& job : activation.jobs()) {
      absl::Status status = ApplyJob(job);
      if (!status.ok()) return FailedCompletion(run_.execution_id, status);
    }
    RunUntilBlocked();
  } catch (const std::exception& e) {
    // User exceptions are caught inside the coroutines; this is a bug of the
    // facade (or std::bad_alloc). Let the engine retry the task.
    return FailedCompletion(run_.execution_id, absl::InternalError(e.what()));
  }
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id(run_.execution_id);
  auto* commands = completion.mutable_successful()->mutable_commands();
  for (v1::WorkflowCommand& command : run_.commands) {
    *commands->Add() = std::move(command);
  }
  run_.commands.clear();
  return completion;
}

absl::Status WorkflowRun::ApplyJob(const v1::WorkflowActivationJob& job) {
  switch (job.variant_case()) {
    case v1::WorkflowActivationJob::kStartWorkflow:
      return Start(job.start_workflow());
    case v1::WorkflowActivationJob::kResolveActivity:
      return ResolveActivity(job.resolve_activity());
    case v1::WorkflowActivationJob::kFireTimer:
      return FireTimer(job.fire_timer());
    case v1::WorkflowActivationJob::kSignalWorkflow:
      run_.Signals(job.signal_workflow().signal_name())
          ->Push(job.signal_workflow().input(), run_.signals_arrived++);
      return absl::OkStatus();
    case v1::WorkflowActivationJob::kCancelWorkflow: {
      const std::string& reason = job.cancel_workflow().reason();
      run_.root_scope->Cancel(absl::CancelledError(
          reason.empty() ? "workflow canceled"
                         : absl::StrCat("workflow canceled: ", reason)));
      return absl::OkStatus();
    }
    case v1::WorkflowActivationJob::kResolveSideEffect:
      run_.recorded_side_effects.insert_or_assign(
          job.resolve_side_effect().seq(), job.resolve_side_effect().result());
      return absl::OkStatus();
    case v1::WorkflowActivationJob::kNotifyHasPatch:
      run_.notified_patches.insert(job.notify_has_patch().patch_id());
      return absl::OkStatus();
    case v1::WorkflowActivationJob::kResolveSubWorkflow:
      return ResolveSubWorkflow(job.resolve_sub_workflow());
    case v1::WorkflowActivationJob::kResolveSignalExternal:
      return ResolveSignalExternal(job.resolve_signal_external());
    default:
      // RemoveFromCache is handled by the executor.
      return absl::UnimplementedError(absl::StrCat(
          "activation job ",
          job.GetDescriptor()->FindFieldByNumber(job.variant_case())->name(),
          " is not supported by the C++ facade"));
  }
}

absl::Status WorkflowRun::Start(const v1::StartWorkflow& start) {
  if (started_) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", run_.execution_id, " was started twice"));
  }
  started_ = true;
  run_.workflow_name = start.workflow_name();
  run_.queue = start.queue();
  run_.metadata = {start.metadata().begin(), start.metadata().end()};
  run_.random_state = start.randomness_seed();
  const Registry::WorkflowFactory* factory =
      run_.registry.FindWorkflow(start.workflow_name());
  if (factory == nullptr) {
    std::vector<std::string> names = run_.registry.WorkflowNames();
    Finish(NonRetryableFailureStatus(
        kWorkflowNotRegisteredFailure,
        absl::StrCat("workflow \"", start.workflow_name(),
                     "\" is not registered with this worker (registered: ",
                     names.empty() ? "none" : absl::StrJoin(names, ", "),
                     ")")));
    return absl::OkStatus();
  }
  root_.emplace((*factory)(ctx_, start.arguments()));
  run_.scheduler.Ready(root_->handle());
  return absl::OkStatus();
}

absl::Status WorkflowRun::ResolveActivity(const v1::ResolveActivity& resolve) {
  auto it = run_.pending_activities.find(resolve.seq());
  if (it == run_.pending_activities.end() && resolve.seq() > 0 &&
      resolve.seq() >= run_.next_activity_seq) {
    // The engine sends one activation per workflow task, so this only happens
    // if it batched several tasks: run the code up to where it scheduled the
    // activity, as it ran originally.
    RunUntilBlocked();
    it = run_.pending_activities.find(resolve.seq());
  }
  if (it == run_.pending_activities.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("ResolveActivity for seq ", resolve.seq(),
                     ", which is not a pending activity of run ", run_.execution_id));
  }
  std::shared_ptr<FutureStateBase> state = std::move(it->second);
  run_.pending_activities.erase(it);
  state->Resolve(resolve.has_failed()
                     ? StatusFromFailure(resolve.failed())
                     : absl::StatusOr<v1::Payload>(resolve.completed()));
  return absl::OkStatus();
}

absl::Status WorkflowRun::ResolveSubWorkflow(
    const v1::ResolveSubWorkflow& resolve) {
  auto it = run_.pending_sub_workflows.find(resolve.seq());
  if (it == run_.pending_sub_workflows.end() && resolve.seq() > 0 &&
      resolve.seq() >= run_.next_sub_workflow_seq) {
    RunUntilBlocked();  // Batched tasks, as in ResolveActivity.
    it = run_.pending_sub_workflows.find(resolve.seq());
  }
  if (it == run_.pending_sub_workflows.end()) {
    // A sub-workflow the facade resolved as canceled never started; nothing can
    // report on it, but tolerate it rather than fail the run.
    if (run_.dropped_sub_workflows.contains(resolve.seq()))
      return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "ResolveSubWorkflow for seq ", resolve.seq(),
        ", which is not a pending sub-workflow of run ", run_.execution_id));
  }
  RunState::PendingSubWorkflow pending = std::move(it->second);
  run_.pending_sub_workflows.erase(it);
  if (std::shared_ptr<CancelState> scope = pending.scope.lock()) {
    scope->RemoveListener(pending.listener_id);
  }
  pending.state->Resolve(
      resolve.has_failed() ? StatusFromFailure(resolve.failed())
                           : absl::StatusOr<v1::Payload>(resolve.completed()));
  return absl::OkStatus();
}

absl::Status WorkflowRun::ResolveSignalExternal(
    const v1::ResolveSignalExternal& resolve) {
  auto it = run_.pending_signals.find(resolve.seq());
  if (it == run_.pending_signals.end() && resolve.seq() > 0 &&
      resolve.seq() >= run_.next_signal_seq) {
    RunUntilBlocked();  // Batched tasks, as in ResolveActivity.
    it = run_.pending_signals.find(resolve.seq());
  }
  if (it == run_.pending_signals.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ResolveSignalExternal for seq ", resolve.seq(),
        ", which is not a pending external signal of run ", run_.execution_id));
  }
  std::shared_ptr<FutureState<void>> state = std::move(it->second);
  run_.pending_signals.erase(it);
  state->SetResult(resolve.has_failure() ? StatusFromFailure(resolve.failure())
                                         : absl::OkStatus());
  return absl::OkStatus();
}

absl::Status WorkflowRun::FireTimer(const v1::FireTimer& fire) {
  if (fire.seq() > 0 && fire.seq() >= run_.next_timer_seq) {
    RunUntilBlocked();  // Batched tasks, as in ResolveActivity.
  }
  if (fire.seq() == 0 || fire.seq() >= run_.next_timer_seq) {
    return absl::FailedPreconditionError(
        absl::StrCat("FireTimer for seq ", fire.seq(),
                     ", which is not a timer of run ", run_.execution_id));
  }
  auto it = run_.pending_timers.find(fire.seq());
  // A timer the code canceled may have fired before the engine saw the
  // CancelTimer; its future already says CANCELLED.
  if (it == run_.pending_timers.end()) return absl::OkStatus();
  RunState::PendingTimer timer = std::move(it->second);
  run_.pending_timers.erase(it);
  if (std::shared_ptr<CancelState> scope = timer.scope.lock()) {
    scope->RemoveListener(timer.listener_id);
  }
  timer.state->SetResult(absl::OkStatus());
  return absl::OkStatus();
}

void WorkflowRun::RunUntilBlocked() {
  while (!run_.scheduler.empty() && !finished_) {
    run_.scheduler.PopNext().resume();
    if (run_.panic.has_value()) {
      Finish(*std::move(run_.panic));
      return;
    }
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
  v1::WorkflowCommand& command = run_.AddCommand();
  if (!result.ok()) {
    // `co_return ctx.ContinueAsNew(...)`: the status carries the command.
    if (auto carried = result.status().GetPayload(kContinueAsNewPayloadUrl)) {
      if (command.mutable_continue_as_new()->ParseFromString(
              std::string(*carried))) {
        AddUnreceivedSignals(*command.mutable_continue_as_new());
        return;
      }
      command.clear_continue_as_new();
    }
  }
  if (result.ok()) {
    *command.mutable_complete_workflow()->mutable_result() = *std::move(result);
  } else {
    *command.mutable_fail_workflow()->mutable_failure() =
        *FailureFromStatus(result.status());
  }
}

void WorkflowRun::AddUnreceivedSignals(v1::ContinueAsNew& command) const {
  struct Unreceived {
    uint64_t arrival;
    const std::string* name;
    const v1::Payload* input;
  };
  std::vector<Unreceived> unreceived;
  for (const auto& [name, buffer] : run_.signals) {
    for (size_t i = 0; i < buffer->pending.size(); ++i) {
      unreceived.push_back({buffer->arrivals[i], &name, &buffer->pending[i]});
    }
  }
  std::sort(unreceived.begin(), unreceived.end(),
            [](const Unreceived& a, const Unreceived& b) {
              return a.arrival < b.arrival;
            });
  for (const Unreceived& signal : unreceived) {
    v1::SignalWorkflow* carried = command.add_unreceived_signals();
    carried->set_signal_name(*signal.name);
    *carried->mutable_input() = *signal.input;
  }
}

}  // namespace durable::internal
