// A program in another Bazel workspace that depends on durable's C++ facade
// (@durable//bindings/cpp:durable) and runs a workflow on in-memory SQLite.
#include <iostream>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"

int Add(durable::ActivityContext&, int a, int b) { return a + b; }

durable::Task<absl::StatusOr<int>> AddTwice(durable::WorkflowContext& ctx,
                                            int a, int b) {
  absl::StatusOr<int> first = co_await ctx.ExecuteActivity(Add, a, b);
  if (!first.ok()) co_return first.status();
  co_return co_await ctx.ExecuteActivity(Add, *first, 12);
}

int main() {
  absl::StatusOr<durable::Backend> backend =
      durable::Backend::Open("sqlite::memory:");
  if (!backend.ok()) {
    std::cerr << backend.status() << "\n";
    return 1;
  }
  durable::Registry registry;
  if (!registry.RegisterWorkflow("AddTwice", AddTwice).ok() ||
      !registry.RegisterActivity("Add", Add).ok()) {
    return 1;
  }
  durable::Worker worker(*backend, registry);
  if (!worker.Start().ok()) return 1;
  durable::Client client(*backend, &registry);
  absl::StatusOr<durable::WorkflowInstance> instance =
      client.CreateWorkflowInstance({}, AddTwice, 35, 12);
  if (!instance.ok()) {
    std::cerr << instance.status() << "\n";
    return 1;
  }
  absl::StatusOr<int> result =
      client.GetWorkflowResult<int>(instance->instance_id, absl::Seconds(30));
  if (!result.ok()) {
    std::cerr << result.status() << "\n";
    return 1;
  }
  std::cout << "consumer workflow result: " << *result << std::endl;
  return worker.Stop().ok() ? 0 : 1;
}
