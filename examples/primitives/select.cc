// Select: wait for the first of several futures and channels. Shown in
// docs/select.md.
#include "durable/select.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

int Square(durable::ActivityContext& ctx, int x) { return x * x; }

// An activity against a one-minute timeout: the first ready case wins.
durable::Task<std::string> RaceWorkflow(durable::WorkflowContext& ctx) {
  std::string winner;
  durable::Select select;
  select
      .Await(ctx.Sleep(absl::Minutes(1)),
             [&](absl::Status) { winner = "timeout"; })
      .Await(ctx.ExecuteActivity(Square, 7), [&](absl::StatusOr<int> result) {
        winner = result.ok() ? std::to_string(*result) : "failed";
      });
  co_await select.Wait();
  co_return winner;
}

// With a Default case, Wait() never blocks.
durable::Task<std::string> PollWorkflow(durable::WorkflowContext& ctx) {
  durable::SignalChannel<std::string> commands =
      ctx.SignalChannel<std::string>("command");
  std::string seen = "nothing yet";
  durable::Select select;
  select
      .Receive(commands,
               [&](absl::StatusOr<std::string> command) {
                 seen = command.value_or("?");
               })
      .Default([&] { seen = "no command"; });
  co_await select.Wait();
  co_return seen;
}

// Consumes 100 activity results in the order they complete.
durable::Task<int> SumAsTheyComeWorkflow(durable::WorkflowContext& ctx) {
  durable::Select select;
  int sum = 0;
  for (int i = 1; i <= 100; ++i) {
    select.Await(
        ctx.ExecuteActivity(Square, i),
        [&](absl::StatusOr<int> square) { sum += square.value_or(0); });
  }
  // Each Wait() runs one case; it returns false once every future fired.
  while (co_await select.Wait()) {
  }
  co_return sum;
}

}  // namespace

absl::Status RunSelectExample(const durable::Backend& backend,
                              const durable::WorkerOptions& options) {
  durable::Registry registry;
  absl::Status status = registry.RegisterActivity("Square", Square);
  status.Update(registry.RegisterWorkflow("RaceWorkflow", RaceWorkflow));
  status.Update(registry.RegisterWorkflow("PollWorkflow", PollWorkflow));
  status.Update(registry.RegisterWorkflow("SumAsTheyComeWorkflow",
                                          SumAsTheyComeWorkflow));
  if (!status.ok()) return status;
  durable::Worker worker(backend, registry, options);
  if (status = worker.Start(); !status.ok()) return status;
  durable::Client client(backend, &registry);

  absl::StatusOr<durable::WorkflowInstance> race =
      client.CreateWorkflowInstance({}, RaceWorkflow);
  if (!race.ok()) return race.status();
  status = Expect(
      "race",
      client.GetWorkflowResult<std::string>(race->instance_id, kResultTimeout),
      std::string("49"));
  if (!status.ok()) return status;

  absl::StatusOr<durable::WorkflowInstance> poll =
      client.CreateWorkflowInstance({}, PollWorkflow);
  if (!poll.ok()) return poll.status();
  status = Expect(
      "poll",
      client.GetWorkflowResult<std::string>(poll->instance_id, kResultTimeout),
      std::string("no command"));
  if (!status.ok()) return status;

  absl::StatusOr<durable::WorkflowInstance> sum =
      client.CreateWorkflowInstance({}, SumAsTheyComeWorkflow);
  if (!sum.ok()) return sum.status();
  // 1^2 + ... + 100^2
  status = Expect(
      "sum of squares",
      client.GetWorkflowResult<int>(sum->instance_id, kResultTimeout), 338350);
  if (!status.ok()) return status;
  return worker.Stop();
}

}  // namespace examples
