// SideEffect: run a non-deterministic function once, replay its recorded
// value. Shown in docs/side_effects.md.
#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "examples/primitives/primitives.h"

namespace examples {
namespace {

// Outside the workflow's control: replaying the code must not touch it.
std::atomic<int> counter{2};

// Two side effects with a sleep between them: 3 + 4 = 7, however often the
// code is replayed (with cache size 0, after every task).
durable::Task<absl::StatusOr<int>> CounterWorkflow(
    durable::WorkflowContext& ctx) {
  absl::StatusOr<int> first = ctx.SideEffect([] { return ++counter; });
  if (!first.ok()) co_return first.status();
  absl::Status slept = co_await ctx.Sleep(absl::Milliseconds(100));
  if (!slept.ok()) co_return slept;
  absl::StatusOr<int> second = ctx.SideEffect([] { return ++counter; });
  if (!second.ok()) co_return second.status();
  co_return *first + *second;
}

// Deterministic helpers: the same values on every replay.
durable::Task<std::string> RandomWorkflow(durable::WorkflowContext& ctx) {
  const std::string order_id = ctx.NewUuid();
  const int64_t shard = ctx.RandomInt(0, 16);
  absl::Status slept = co_await ctx.Sleep(absl::Milliseconds(10));
  ctx.Logf("order %s goes to shard %d", order_id, shard);
  co_return order_id;
}

}  // namespace

absl::Status RunSideEffectsExample(const durable::Backend& backend,
                                   const durable::WorkerOptions& options) {
  durable::Registry registry;
  absl::Status status =
      registry.RegisterWorkflow("CounterWorkflow", CounterWorkflow);
  status.Update(registry.RegisterWorkflow("RandomWorkflow", RandomWorkflow));
  if (!status.ok()) return status;
  durable::Worker worker(backend, registry, options);
  if (status = worker.Start(); !status.ok()) return status;
  durable::Client client(backend, &registry);

  counter = 2;
  absl::StatusOr<durable::WorkflowInstance> instance =
      client.CreateWorkflowInstance({}, CounterWorkflow);
  if (!instance.ok()) return instance.status();
  status = Expect(
      "side effects",
      client.GetWorkflowResult<int>(instance->instance_id, kResultTimeout), 7);
  if (!status.ok()) return status;
  if (counter != 4) {
    return absl::InternalError(
        absl::StrCat("the side effects ran ", counter - 2, " times, want 2"));
  }

  absl::StatusOr<durable::WorkflowInstance> random =
      client.CreateWorkflowInstance({}, RandomWorkflow);
  if (!random.ok()) return random.status();
  absl::StatusOr<std::string> uuid = client.GetWorkflowResult<std::string>(
      random->instance_id, kResultTimeout);
  if (!uuid.ok()) return uuid.status();
  if (uuid->size() != 36 || (*uuid)[14] != '4') {
    return absl::InternalError(absl::StrCat("not a v4 UUID: ", *uuid));
  }
  return worker.Stop();
}

}  // namespace examples
