// The classic go-workflows sample on durable's C++ facade: a workflow that
// calls two activities and returns the sum of their results.
//
//   bazel run //examples/simple -- sqlite:///tmp/simple.db
//
// The worker and the client share one backend (in-memory SQLite unless a URI
// is given); in production they are usually separate processes.
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"

int Activity1(durable::ActivityContext& ctx, int a, int b) { return a + b; }

int Activity2(durable::ActivityContext& ctx) { return 12; }

durable::Task<absl::StatusOr<int>> Workflow1(durable::WorkflowContext& ctx,
                                             std::string input) {
  absl::StatusOr<int> r1 = co_await ctx.ExecuteActivity(Activity1, 35, 12);
  if (!r1.ok()) co_return r1.status();
  ctx.Logf("Activity1 returned %d", *r1);

  absl::StatusOr<int> r2 = co_await ctx.ExecuteActivity(Activity2);
  if (!r2.ok()) co_return r2.status();
  ctx.Logf("Activity2 returned %d", *r2);

  co_return *r1 + *r2;
}

absl::Status Run(const std::string& uri) {
  absl::StatusOr<durable::Backend> backend = durable::Backend::Open(uri);
  if (!backend.ok()) return backend.status();

  durable::Registry registry;
  absl::Status status = registry.RegisterWorkflow("Workflow1", Workflow1);
  status.Update(registry.RegisterActivity("Activity1", Activity1));
  status.Update(registry.RegisterActivity("Activity2", Activity2));
  if (!status.ok()) return status;

  durable::Worker worker(*backend, registry);
  if (status = worker.Start(); !status.ok()) return status;

  durable::Client client(*backend, &registry);
  // An empty instance id asks the engine for a fresh UUID.
  absl::StatusOr<durable::WorkflowInstance> instance =
      client.CreateWorkflowInstance({}, Workflow1, "hello world");
  if (!instance.ok()) return instance.status();

  absl::StatusOr<int> result =
      client.GetWorkflowResult<int>(instance->instance_id, absl::Seconds(30));
  if (!result.ok()) return result.status();
  std::cout << "workflow " << instance->instance_id
            << " finished: result=" << *result << std::endl;

  return worker.Stop();
}

int main(int argc, char** argv) {
  const std::string uri = argc > 1 ? argv[1] : "sqlite::memory:";
  if (absl::Status status = Run(uri); !status.ok()) {
    std::cerr << "simple: " << status << std::endl;
    return 1;
  }
  return 0;
}
