// Signals: a workflow waits on a signal channel; a client signals it; a
// workflow signals another instance. Shown in docs/signals.md.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/registry.h"
#include "durable/signal_channel.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "examples/primitives/primitives.h"

namespace examples {
namespace {

// Blocks until someone sends the "approval" signal.
durable::Task<absl::StatusOr<std::string>> ApprovalWorkflow(
    durable::WorkflowContext& ctx) {
  durable::SignalChannel<std::string> approvals =
      ctx.SignalChannel<std::string>("approval");
  absl::StatusOr<std::string> approver = co_await approvals.Receive();
  if (!approver.ok()) co_return approver.status();
  co_return "approved by " + *approver;
}

// Reads `count` "item" signals, but only after a while: the signals sent
// meanwhile wait in the run's buffer, in send order.
durable::Task<std::string> CollectWorkflow(durable::WorkflowContext& ctx,
                                           int count) {
  absl::Status slept = co_await ctx.Sleep(absl::Milliseconds(300));
  durable::SignalChannel<std::string> items =
      ctx.SignalChannel<std::string>("item");
  std::vector<std::string> received;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<std::string> item = co_await items.Receive();
    received.push_back(item.value_or("?"));
  }
  co_return absl::StrJoin(received, ",");
}

// Approves another instance and waits until the signal was delivered: the
// status is type "InstanceNotFound" if the instance is unknown or finished.
durable::Task<absl::Status> ApproverWorkflow(durable::WorkflowContext& ctx,
                                             std::string instance_id) {
  co_return co_await ctx.SignalWorkflow(instance_id, "approval",
                                        std::string("bot"));
}

}  // namespace

absl::Status RunSignalsExample(const durable::Backend& backend,
                               const durable::WorkerOptions& options) {
  durable::Registry registry;
  absl::Status status =
      registry.RegisterWorkflow("ApprovalWorkflow", ApprovalWorkflow);
  status.Update(registry.RegisterWorkflow("CollectWorkflow", CollectWorkflow));
  status.Update(
      registry.RegisterWorkflow("ApproverWorkflow", ApproverWorkflow));
  if (!status.ok()) return status;
  durable::Worker worker(backend, registry, options);
  if (status = worker.Start(); !status.ok()) return status;
  durable::Client client(backend, &registry);

  absl::StatusOr<durable::WorkflowInstance> instance =
      client.CreateWorkflowInstance({}, ApprovalWorkflow);
  if (!instance.ok()) return instance.status();
  status = client.SignalWorkflow(instance->instance_id, "approval",
                                 std::string("ann"));
  if (!status.ok()) return status;
  absl::StatusOr<std::string> result = client.GetWorkflowResult<std::string>(
      instance->instance_id, kResultTimeout);
  if (status = Expect("approval", result, std::string("approved by ann"));
      !status.ok()) {
    return status;
  }
  // The instance finished: signaling it fails.
  status = client.SignalWorkflow(instance->instance_id, "approval",
                                 std::string("late"));
  if (!absl::IsNotFound(status)) {
    return absl::InternalError(
        absl::StrCat("signaling a finished instance: got ", status.ToString(),
                     ", want NOT_FOUND"));
  }
  status =
      client.SignalWorkflow("no-such-instance", "approval", std::string("x"));
  if (!absl::IsNotFound(status)) {
    return absl::InternalError(
        absl::StrCat("signaling an unknown instance: got ", status.ToString(),
                     ", want NOT_FOUND"));
  }

  absl::StatusOr<durable::WorkflowInstance> collector =
      client.CreateWorkflowInstance({}, CollectWorkflow, 3);
  if (!collector.ok()) return collector.status();
  for (const char* item : {"first", "second", "third"}) {
    status = client.SignalWorkflow(collector->instance_id, "item",
                                   std::string(item));
    if (!status.ok()) return status;
  }
  status = Expect("collected signals",
                  client.GetWorkflowResult<std::string>(collector->instance_id,
                                                        kResultTimeout),
                  std::string("first,second,third"));
  if (!status.ok()) return status;

  // One workflow signals another.
  absl::StatusOr<durable::WorkflowInstance> waiting =
      client.CreateWorkflowInstance({}, ApprovalWorkflow);
  if (!waiting.ok()) return waiting.status();
  absl::StatusOr<durable::WorkflowInstance> approver =
      client.CreateWorkflowInstance({}, ApproverWorkflow, waiting->instance_id);
  if (!approver.ok()) return approver.status();
  status = Expect("signal from a workflow",
                  client.GetWorkflowResult<std::string>(waiting->instance_id,
                                                        kResultTimeout),
                  std::string("approved by bot"));
  if (!status.ok()) return status;
  status = client.WaitForWorkflowResult(approver->instance_id, kResultTimeout)
               .status();
  if (!status.ok()) return status;
  // A workflow that waits for the delivery learns that the target is gone.
  absl::StatusOr<durable::WorkflowInstance> lost =
      client.CreateWorkflowInstance({}, ApproverWorkflow,
                                    std::string("no-such-instance"));
  if (!lost.ok()) return lost.status();
  status =
      client.WaitForWorkflowResult(lost->instance_id, kResultTimeout).status();
  if (!durable::IsInstanceNotFound(status)) {
    return absl::InternalError(
        absl::StrCat("signaling an unknown instance from a workflow: got ",
                     status.ToString(), ", want InstanceNotFound"));
  }
  return worker.Stop();
}

}  // namespace examples
