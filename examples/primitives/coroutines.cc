// Workflow coroutines: Go, channels and a wait group. Shown in
// docs/coroutines.md.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "durable/activity_context.h"
#include "durable/channel.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/wait_group.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "examples/primitives/primitives.h"

namespace examples {
namespace {

std::string Greet(durable::ActivityContext& ctx, std::string name) {
  return "hello " + name;
}

// A coroutine produces greetings and sends them to the main coroutine.
durable::Task<std::string> PipelineWorkflow(durable::WorkflowContext& ctx) {
  durable::Channel<std::string> greetings = ctx.NewChannel<std::string>();
  ctx.Go([greetings](durable::WorkflowContext& ctx) -> durable::Task<void> {
    for (const char* name : {"ann", "bob", "cy"}) {
      absl::StatusOr<std::string> greeting =
          co_await ctx.ExecuteActivity(Greet, std::string(name));
      co_await greetings.Send(greeting.value_or("?"));
    }
    greetings.Close();
  });
  std::vector<std::string> received;
  while (std::optional<std::string> greeting = co_await greetings.Receive()) {
    received.push_back(*greeting);
  }
  co_return absl::StrJoin(received, ", ");
}

// Fans out one coroutine per name and waits for all of them.
durable::Task<int> FanOutWorkflow(durable::WorkflowContext& ctx) {
  durable::Channel<int> lengths = ctx.NewChannel<int>(/*capacity=*/3);
  durable::WaitGroup workers = ctx.NewWaitGroup();
  for (const char* name : {"ann", "bob", "cy"}) {
    workers.Add(1);
    ctx.Go([=](durable::WorkflowContext& ctx) -> durable::Task<void> {
      absl::StatusOr<std::string> greeting =
          co_await ctx.ExecuteActivity(Greet, std::string(name));
      co_await lengths.Send(static_cast<int>(greeting.value_or("").size()));
      workers.Done();
    });
  }
  co_await workers.Wait();
  lengths.Close();
  int total = 0;
  while (std::optional<int> length = co_await lengths.Receive()) {
    total += *length;
  }
  co_return total;
}

}  // namespace

absl::Status RunCoroutinesExample(const durable::Backend& backend,
                                  const durable::WorkerOptions& options) {
  durable::Registry registry;
  absl::Status status = registry.RegisterActivity("Greet", Greet);
  status.Update(
      registry.RegisterWorkflow("PipelineWorkflow", PipelineWorkflow));
  status.Update(registry.RegisterWorkflow("FanOutWorkflow", FanOutWorkflow));
  if (!status.ok()) return status;
  durable::Worker worker(backend, registry, options);
  if (status = worker.Start(); !status.ok()) return status;
  durable::Client client(backend, &registry);

  absl::StatusOr<durable::WorkflowInstance> pipeline =
      client.CreateWorkflowInstance({}, PipelineWorkflow);
  if (!pipeline.ok()) return pipeline.status();
  status = Expect("pipeline",
                  client.GetWorkflowResult<std::string>(pipeline->instance_id,
                                                        kResultTimeout),
                  std::string("hello ann, hello bob, hello cy"));
  if (!status.ok()) return status;

  absl::StatusOr<durable::WorkflowInstance> fan_out =
      client.CreateWorkflowInstance({}, FanOutWorkflow);
  if (!fan_out.ok()) return fan_out.status();
  // "hello ann" + "hello bob" + "hello cy"
  status = Expect(
      "fan-out",
      client.GetWorkflowResult<int>(fan_out->instance_id, kResultTimeout),
      9 + 9 + 8);
  if (!status.ok()) return status;
  return worker.Stop();
}

}  // namespace examples
