// Cancellation: a client cancels a workflow waiting on a long timer; the
// workflow cleans up through a disconnected context. Shown in
// docs/cancellation.md.
#include "durable/cancellation.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "examples/primitives/primitives.h"

namespace examples {
namespace {

std::string ReleaseRoom(durable::ActivityContext& ctx, std::string room) {
  return room + " released";
}

// Holds a room for ten seconds; if canceled first, releases it anyway.
durable::Task<absl::StatusOr<std::string>> HoldRoomWorkflow(
    durable::WorkflowContext& ctx) {
  absl::Status held = co_await ctx.Sleep(absl::Seconds(10));
  if (held.ok()) co_return std::string("held for 10s");
  // CANCELLED: the instance was canceled. New work on ctx fails at once...
  absl::StatusOr<std::string> refused =
      co_await ctx.ExecuteActivity(ReleaseRoom, std::string("room 1"));
  if (!absl::IsCancelled(refused.status())) co_return refused;
  // ...but a disconnected context still runs cleanup.
  durable::WorkflowContext cleanup = durable::NewDisconnectedContext(ctx);
  absl::StatusOr<std::string> released =
      co_await cleanup.ExecuteActivity(ReleaseRoom, std::string("room 1"));
  if (!released.ok()) co_return released.status();
  co_return absl::StatusCodeToString(held.code()) + ": " + *released;
}

}  // namespace

absl::Status RunCancellationExample(const durable::Backend& backend,
                                    const durable::WorkerOptions& options) {
  durable::Registry registry;
  absl::Status status = registry.RegisterActivity("ReleaseRoom", ReleaseRoom);
  status.Update(
      registry.RegisterWorkflow("HoldRoomWorkflow", HoldRoomWorkflow));
  if (!status.ok()) return status;
  durable::Worker worker(backend, registry, options);
  if (status = worker.Start(); !status.ok()) return status;
  durable::Client client(backend, &registry);

  absl::StatusOr<durable::WorkflowInstance> instance =
      client.CreateWorkflowInstance({}, HoldRoomWorkflow);
  if (!instance.ok()) return instance.status();
  absl::SleepFor(absl::Milliseconds(200));
  status =
      client.CancelWorkflowInstance(instance->instance_id, "meeting moved");
  if (!status.ok()) return status;
  status = Expect("canceled workflow",
                  client.GetWorkflowResult<std::string>(instance->instance_id,
                                                        absl::Seconds(5)),
                  std::string("CANCELLED: room 1 released"));
  if (!status.ok()) return status;
  status = client.CancelWorkflowInstance(instance->instance_id);
  if (!absl::IsNotFound(status)) {
    return absl::InternalError(
        absl::StrCat("canceling a finished instance: got ", status.ToString(),
                     ", want NOT_FOUND"));
  }
  return worker.Stop();
}

}  // namespace examples
