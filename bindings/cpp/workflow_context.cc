#include "durable/workflow_context.h"

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "durable/failure.h"
#include "durable/internal/cancel_state.h"
#include "durable/internal/run_state.h"
#include "durable/registry.h"

namespace durable {
namespace internal {

RunState::RunState(const Registry& registry, std::string execution_id)
    : registry(registry),
      execution_id(std::move(execution_id)),
      root_scope(std::make_shared<CancelState>(&scheduler)) {}

void RunState::CancelTimer(uint32_t seq, const absl::Status& status) {
  auto it = pending_timers.find(seq);
  if (it == pending_timers.end()) return;
  std::shared_ptr<FutureState<void>> state = std::move(it->second.state);
  pending_timers.erase(it);
  AddCommand().mutable_cancel_timer()->set_seq(seq);
  state->SetResult(status);
}

void RunState::CancelSubWorkflow(uint32_t seq, const absl::Status& status) {
  auto it = pending_sub_workflows.find(seq);
  if (it == pending_sub_workflows.end()) return;
  AddCommand().mutable_cancel_sub_workflow()->set_seq(seq);
  if (it->second.activation != activation) return;
  std::shared_ptr<FutureStateBase> state = std::move(it->second.state);
  pending_sub_workflows.erase(it);
  dropped_sub_workflows.insert(seq);
  state->Resolve(status);
}

std::shared_ptr<SignalBuffer> RunState::Signals(const std::string& name) {
  std::shared_ptr<SignalBuffer>& buffer = signals[name];
  if (buffer == nullptr) buffer = std::make_shared<SignalBuffer>(&scheduler);
  return buffer;
}

uint64_t RunState::NextRandom() {
  // splitmix64 (Steele, Lea, Flood 2014), as published. Frozen: replays of
  // running workflows depend on every bit of it.
  uint64_t z = (random_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace internal

WorkflowContext::WorkflowContext(internal::RunState* run,
                                 std::shared_ptr<internal::CancelState> scope)
    : run_(run), scope_(std::move(scope)) {}

internal::Scheduler* WorkflowContext::scheduler() const {
  return &run_->scheduler;
}

absl::Time WorkflowContext::Now() const { return run_->now; }
bool WorkflowContext::IsReplaying() const { return run_->replaying; }
const std::string& WorkflowContext::InstanceId() const {
  return run_->instance_id;
}
const std::string& WorkflowContext::ExecutionId() const { return run_->execution_id; }
const std::string& WorkflowContext::WorkflowName() const {
  return run_->workflow_name;
}
const std::string& WorkflowContext::Queue() const { return run_->queue; }
const std::map<std::string, std::string>& WorkflowContext::Metadata() const {
  return run_->metadata;
}

void WorkflowContext::Log(absl::string_view message) const {
  if (run_->replaying) return;
  // One write per line so lines of concurrent runs do not interleave.
  std::cerr << absl::StrCat("[durable] workflow ", run_->instance_id, ": ",
                            message, "\n")
            << std::flush;
}

namespace {

// Resolves `state` with the failure for a function missing from the
// registry; `names` are the registered ones, listed to help find the typo.
void ResolveNotRegistered(internal::FutureStateBase& state,
                          absl::string_view failure_type,
                          absl::string_view what,
                          const std::vector<std::string>& names) {
  state.Resolve(FailureStatus(
      failure_type,
      absl::StrCat("the function passed to ", what,
                   " with this worker's "
                   "Registry (registered: ",
                   names.empty() ? "none" : absl::StrJoin(names, ", "), ")")));
}

}  // namespace

std::optional<std::string> WorkflowContext::ActivityNameOf(
    internal::FunctionKey key,
    const std::shared_ptr<internal::FutureStateBase>& state) const {
  std::optional<std::string> name = run_->registry.ActivityName(key);
  if (!name.has_value()) {
    ResolveNotRegistered(*state, kActivityNotRegisteredFailure,
                         "ExecuteActivity is not registered as an activity",
                         run_->registry.ActivityNames());
  }
  return name;
}

bool WorkflowContext::RejectBeforeIssuing(
    absl::string_view what, const std::string& name,
    const absl::StatusOr<std::vector<v1::Payload>>& arguments,
    internal::FutureStateBase& state) const {
  if (scope_->canceled()) {
    state.Resolve(scope_->status());
    return true;
  }
  if (!arguments.ok()) {
    state.Resolve(FailureStatus(
        kInvalidArgumentFailure,
        absl::StrCat(what, " \"", name, "\": cannot encode arguments: ",
                     arguments.status().message())));
    return true;
  }
  return false;
}

void WorkflowContext::Schedule(
    const ActivityOptions& options, std::string name,
    absl::StatusOr<std::vector<v1::Payload>> arguments,
    std::shared_ptr<internal::FutureStateBase> state) const {
  if (RejectBeforeIssuing("activity", name, arguments, *state)) return;
  const uint32_t seq = run_->next_activity_seq++;
  v1::ScheduleActivity* command =
      run_->AddCommand().mutable_schedule_activity();
  command->set_seq(seq);
  command->set_activity_name(std::move(name));
  for (v1::Payload& payload : *arguments) {
    *command->add_arguments() = std::move(payload);
  }
  command->set_queue(options.queue);
  // Only a policy that sets something is recorded, so option-less calls
  // keep writing the histories they always did.
  if (v1::RetryPolicy policy = options.retry_policy.ToProto();
      policy.ByteSizeLong() > 0) {
    *command->mutable_retry_policy() = std::move(policy);
  }
  command->set_start_to_close_timeout_us(
      internal::DurationMicros(options.start_to_close_timeout));
  command->set_schedule_to_close_timeout_us(
      internal::DurationMicros(options.schedule_to_close_timeout));
  command->set_heartbeat_timeout_us(
      internal::DurationMicros(options.heartbeat_timeout));
  // Not tied to the scope: canceling the context does not interrupt an
  // activity that was scheduled; its result is still delivered.
  run_->pending_activities.emplace(seq, std::move(state));
}

std::optional<std::string> WorkflowContext::WorkflowNameOf(
    internal::FunctionKey key,
    const std::shared_ptr<internal::FutureStateBase>& state) const {
  std::optional<std::string> name = run_->registry.WorkflowName(key);
  if (!name.has_value()) {
    ResolveNotRegistered(
        *state, kWorkflowNotRegisteredFailure,
        "CreateSubWorkflowInstance is not registered as a workflow",
        run_->registry.WorkflowNames());
  }
  return name;
}

void WorkflowContext::StartSubWorkflow(
    const SubWorkflowOptions& options, std::string name,
    absl::StatusOr<std::vector<v1::Payload>> arguments,
    std::shared_ptr<internal::FutureStateBase> state) const {
  if (RejectBeforeIssuing("sub-workflow", name, arguments, *state)) return;
  const uint32_t seq = run_->next_sub_workflow_seq++;
  v1::StartSubWorkflow* command =
      run_->AddCommand().mutable_start_sub_workflow();
  command->set_seq(seq);
  command->set_instance_id(options.instance_id);
  command->set_workflow_name(std::move(name));
  for (v1::Payload& payload : *arguments) {
    *command->add_arguments() = std::move(payload);
  }
  command->set_queue(options.queue);
  command->mutable_metadata()->insert(options.metadata.begin(),
                                      options.metadata.end());
  if (v1::RetryPolicy policy = options.retry_policy.ToProto();
      policy.ByteSizeLong() > 0) {
    *command->mutable_retry_policy() = std::move(policy);
  }
  internal::RunState* run = run_;
  std::weak_ptr<internal::CancelState> weak_scope = scope_;
  const uint64_t listener = scope_->AddListener([run, seq, weak_scope] {
    std::shared_ptr<internal::CancelState> scope = weak_scope.lock();
    run->CancelSubWorkflow(seq, scope != nullptr
                                    ? scope->status()
                                    : absl::CancelledError("context canceled"));
  });
  run_->pending_sub_workflows.emplace(
      seq, internal::RunState::PendingSubWorkflow{std::move(state), scope_,
                                                  listener, run_->activation});
}

absl::Status WorkflowContext::ContinueAsNewStatus(
    const ContinueAsNewOptions& options,
    absl::StatusOr<std::vector<v1::Payload>> arguments) const {
  if (!arguments.ok()) {
    return FailureStatus(
        kInvalidArgumentFailure,
        absl::StrCat("ContinueAsNew: cannot encode arguments: ",
                     arguments.status().message()));
  }
  v1::ContinueAsNew command;
  command.set_workflow_name(options.workflow_name);
  for (v1::Payload& payload : *arguments) {
    *command.add_arguments() = std::move(payload);
  }
  command.set_remove_previous_executions(options.remove_previous_executions);
  absl::Status status = FailureStatus(
      kContinueAsNewFailure,
      absl::StrCat("workflow instance ", run_->instance_id,
                   " continues as a new execution (this status must be "
                   "returned by the workflow)"));
  status.SetPayload(internal::kContinueAsNewPayloadUrl,
                    absl::Cord(command.SerializeAsString()));
  return status;
}

bool WorkflowContext::Patched(std::string_view change_id) const {
  auto [it, inserted] = run_->patches.try_emplace(std::string(change_id));
  if (!inserted) return it->second;
  it->second = !run_->replaying || run_->notified_patches.contains(it->first);
  if (it->second) {
    run_->AddCommand().mutable_set_patch_marker()->set_patch_id(it->first);
  }
  return it->second;
}

void WorkflowContext::DeprecatePatch(std::string_view change_id) const {
  auto [it, inserted] = run_->patches.try_emplace(std::string(change_id));
  if (!inserted) return;
  it->second = true;
  v1::SetPatchMarker* marker = run_->AddCommand().mutable_set_patch_marker();
  marker->set_patch_id(it->first);
  marker->set_deprecated(true);
}

Future<void> WorkflowContext::ScheduleTimer(absl::Duration duration,
                                            absl::string_view name) const {
  auto state = NewFutureState<void>();
  Future<void> future(state);
  if (scope_->canceled()) {
    state->SetResult(scope_->status());
    return future;
  }
  if (duration < absl::ZeroDuration()) {
    state->SetResult(
        FailureStatus(kInvalidArgumentFailure,
                      absl::StrCat("ScheduleTimer: negative duration ",
                                   absl::FormatDuration(duration))));
    return future;
  }
  const int64_t duration_us =
      absl::ToInt64Microseconds(absl::Ceil(duration, absl::Microseconds(1)));
  if (duration_us == 0) {
    // Nothing to wait for; a command would only cost a round trip.
    state->SetResult(absl::OkStatus());
    return future;
  }
  const uint32_t seq = run_->next_timer_seq++;
  v1::StartTimer* command = run_->AddCommand().mutable_start_timer();
  command->set_seq(seq);
  command->set_duration_us(duration_us);
  command->set_name(std::string(name));
  internal::RunState* run = run_;
  std::weak_ptr<internal::CancelState> weak_scope = scope_;
  const uint64_t listener = scope_->AddListener([run, seq, weak_scope] {
    std::shared_ptr<internal::CancelState> scope = weak_scope.lock();
    run->CancelTimer(seq, scope != nullptr
                              ? scope->status()
                              : absl::CancelledError("context canceled"));
  });
  run_->pending_timers.emplace(seq, internal::RunState::PendingTimer{
                                        std::move(state), scope_, listener});
  return future;
}

std::shared_ptr<internal::SignalBuffer> WorkflowContext::SignalBufferOf(
    std::string_view name) const {
  return run_->Signals(std::string(name));
}

Future<void> WorkflowContext::SignalExternal(
    std::string_view instance_id, std::string_view signal_name,
    absl::StatusOr<v1::Payload> input) const {
  auto state = NewFutureState<void>();
  Future<void> future(state);
  if (scope_->canceled()) {
    state->SetResult(scope_->status());
    return future;
  }
  if (!input.ok()) {
    state->SetResult(FailureStatus(
        kInvalidArgumentFailure,
        absl::StrCat(
            "SignalWorkflow \"", std::string(signal_name),
            "\": cannot encode the value: ", input.status().message())));
    return future;
  }
  const uint32_t seq = run_->next_signal_seq++;
  v1::SignalExternalWorkflow* command =
      run_->AddCommand().mutable_signal_external_workflow();
  command->set_seq(seq);
  command->set_instance_id(std::string(instance_id));
  command->set_signal_name(std::string(signal_name));
  *command->mutable_input() = *std::move(input);
  // Not tied to the scope: a sent signal is not withdrawn, and its answer
  // still resolves the future.
  run_->pending_signals.emplace(seq, std::move(state));
  return future;
}

uint32_t WorkflowContext::NextSideEffectSeq() const {
  return run_->next_side_effect_seq++;
}

std::optional<v1::Payload> WorkflowContext::TakeRecordedSideEffect(
    uint32_t seq) const {
  auto it = run_->recorded_side_effects.find(seq);
  if (it == run_->recorded_side_effects.end()) return std::nullopt;
  v1::Payload recorded = std::move(it->second);
  run_->recorded_side_effects.erase(it);
  return recorded;
}

void WorkflowContext::RecordSideEffect(uint32_t seq,
                                       const v1::Payload& result) const {
  v1::RecordSideEffect* command =
      run_->AddCommand().mutable_record_side_effect();
  command->set_seq(seq);
  *command->mutable_result() = result;
}

uint64_t WorkflowContext::RandomUint64() const { return run_->NextRandom(); }

int64_t WorkflowContext::RandomInt(int64_t lo, int64_t hi) const {
  if (hi <= lo) return lo;
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  // Reject the lowest (2^64 mod range) values so every result is equally
  // likely.
  const uint64_t threshold = (0 - range) % range;
  uint64_t x;
  do {
    x = run_->NextRandom();
  } while (x < threshold);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + x % range);
}

double WorkflowContext::RandomDouble() const {
  return static_cast<double>(run_->NextRandom() >> 11) * 0x1.0p-53;
}

std::string WorkflowContext::NewUuid() const {
  uint64_t high = run_->NextRandom();
  uint64_t low = run_->NextRandom();
  high = (high & ~0xf000ULL) | 0x4000ULL;            // version 4
  low = (low & ~(0xc0ULL << 56)) | (0x80ULL << 56);  // variant 10
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", high >> 32,
                         (high >> 16) & 0xffff, high & 0xffff, low >> 48,
                         low & 0xffffffffffffULL);
}

void WorkflowContext::StartCoroutine(
    std::unique_ptr<internal::Coroutine> coroutine) const {
  run_->scheduler.Ready(coroutine->task.handle());
  run_->coroutines.push_back(std::move(coroutine));
}

void WorkflowContext::ReportPanic(std::exception_ptr exception) const {
  if (run_->panic.has_value()) return;
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& e) {
    run_->panic = internal::PanicStatus(e);
  } catch (...) {
    run_->panic = internal::UnknownPanicStatus();
  }
}

bool WorkflowContext::Canceled() const { return scope_->canceled(); }

absl::Status WorkflowContext::Err() const { return scope_->status(); }

Future<void> WorkflowContext::Done() const {
  return Future<void>(scope_->Done());
}

}  // namespace durable
