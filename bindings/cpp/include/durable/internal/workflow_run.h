// WorkflowRun: executes the workflow code of one run, one activation at a
// time. Internal to the facade (the Worker uses it); public only so that it
// can be tested without the engine.
//
// Activate() implements the language side of the protocol in
// core/proto/protocol.proto:
//  1. apply the activation's jobs in order: StartWorkflow creates the root
//     coroutine (and seeds the random sequence); ResolveActivity{seq} and
//     FireTimer{seq} resolve the future of that command; SignalWorkflow
//     buffers the signal under its name; CancelWorkflow cancels the root
//     context (which may issue CancelTimer commands); ResolveSideEffect
//     {seq} stores the recorded value for SideEffect() to return;
//     ResolveSubWorkflow{seq} resolves a sub-workflow's future;
//     ResolveSignalExternal{seq} resolves SignalWorkflow's future (OK, or
//     the failure it carries); NotifyHasPatch
//     tells Patched() that history has the marker. Each
//     resolution queues the coroutines waiting for it on the scheduler;
//  2. resume queued coroutines, first in first out, until none is runnable
//     (coroutines started with Go() queue up behind the ones already
//     runnable);
//  3. answer with the commands issued meanwhile, in issue order, with seq
//     1, 2, ... per command kind and run, then CompleteWorkflow,
//     FailWorkflow or ContinueAsNew (the root returned ctx.ContinueAsNew())
//     once the root coroutine returned (or a coroutine threw).
// All state of the run (sequence numbers, pending futures, buffered signals,
// coroutine frames) lives in this object, so a fresh WorkflowRun fed the
// same activations issues the same commands: that is what makes replay
// after eviction work.
//
// Not thread-safe; the engine never activates one run on two threads.
#ifndef DURABLE_INTERNAL_WORKFLOW_RUN_H_
#define DURABLE_INTERNAL_WORKFLOW_RUN_H_

#include <coroutine>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/proto/protocol.pb.h"
#include "durable/internal/run_state.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/workflow_context.h"

namespace durable::internal {

class WorkflowRun {
 public:
  WorkflowRun(const Registry& registry, std::string execution_id);
  ~WorkflowRun();

  WorkflowRun(const WorkflowRun&) = delete;
  WorkflowRun& operator=(const WorkflowRun&) = delete;

  // Never throws. A completion with `failed` set means the activation could
  // not be processed (a protocol violation); the engine then evicts the run.
  v1::WorkflowActivationCompletion Activate(
      const v1::WorkflowActivation& activation);

  // True once CompleteWorkflow or FailWorkflow was issued.
  bool finished() const { return finished_; }

 private:
  absl::Status ApplyJob(const v1::WorkflowActivationJob& job);
  absl::Status Start(const v1::StartWorkflow& start);
  absl::Status ResolveActivity(const v1::ResolveActivity& resolve);
  absl::Status FireTimer(const v1::FireTimer& fire);
  absl::Status ResolveSubWorkflow(const v1::ResolveSubWorkflow& resolve);
  absl::Status ResolveSignalExternal(const v1::ResolveSignalExternal& resolve);
  // Resumes queued coroutines until none is runnable.
  void RunUntilBlocked();
  // Issues the workflow's final command if the root coroutine returned.
  void FinishIfDone();
  void Finish(absl::StatusOr<v1::Payload> result);
  // Hands the signals the code never received to the next execution.
  void AddUnreceivedSignals(v1::ContinueAsNew& command) const;

  RunState run_;
  // The workflow's own context, canceled by CancelWorkflow.
  WorkflowContext ctx_;
  // Declared after run_ and ctx_ so coroutine frames, which refer to them,
  // are destroyed first.
  std::optional<Task<absl::StatusOr<v1::Payload>>> root_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace durable::internal

#endif  // DURABLE_INTERNAL_WORKFLOW_RUN_H_
