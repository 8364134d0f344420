// A task that runs longer than its lease keeps it: the worker extends the
// lease while the task is in flight, so a second worker polling the same
// store (a SQLite file, or a Redis server) never takes it over. Leases here
// are 600 ms; the workflow task and the activity each take several times
// that.
#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "gtest/gtest.h"
#include "testing/servers/redis_server.h"
#include "testing/servers/shared_server.h"

namespace durable {
namespace {

std::atomic<int> slow_activity_runs{0};
std::atomic<int> first_task_runs{0};

int SlowActivity(ActivityContext&) {
  ++slow_activity_runs;
  absl::SleepFor(absl::Milliseconds(2500));
  return 7;
}

Task<absl::StatusOr<int>> SlowWorkflow(WorkflowContext& ctx) {
  if (!ctx.IsReplaying()) {
    ++first_task_runs;
    // Blocks this worker's workflow poller while it holds the task's lease.
    absl::SleepFor(absl::Milliseconds(2000));
  }
  co_return co_await ctx.ExecuteActivity(SlowActivity);
}

// The store's URI, by name.
std::string StoreUri(const std::string& store) {
  if (store == "redis") {
    absl::StatusOr<testing::RedisServer*> server =
        testing::SharedServer<testing::RedisServer>::Get();
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? (*server)->uri() + "/?prefix=lease"
                       : "redis://127.0.0.1:1";
  }
  return absl::StrCat("sqlite://", std::getenv("TEST_TMPDIR"), "/lease.db");
}

class LeaseRenewalTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LeaseRenewalTest, LongTasksKeepTheirLeases) {
  slow_activity_runs = 0;
  first_task_runs = 0;
  const std::string uri = StoreUri(GetParam());
  Registry registry;
  ASSERT_TRUE(registry.RegisterWorkflow("SlowWorkflow", SlowWorkflow).ok());
  ASSERT_TRUE(registry.RegisterActivity("SlowActivity", SlowActivity).ok());

  WorkerOptions options;
  options.workflow_task_lease = absl::Milliseconds(600);
  options.activity_task_lease = absl::Milliseconds(600);
  // Two workers with their own connections to one store, as two processes
  // would have.
  absl::StatusOr<Backend> backend_a = Backend::Open(uri);
  absl::StatusOr<Backend> backend_b = Backend::Open(uri);
  ASSERT_TRUE(backend_a.ok() && backend_b.ok());
  Worker worker_a(*backend_a, registry, options);
  ASSERT_TRUE(worker_a.Start().ok());

  Client client(*backend_a, &registry);
  absl::StatusOr<WorkflowInstance> instance =
      client.CreateWorkflowInstance({}, SlowWorkflow);
  ASSERT_TRUE(instance.ok()) << instance.status();
  // Let worker A take the first workflow task before B starts competing.
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       first_task_runs == 0 && absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(5))) {
  }
  ASSERT_EQ(first_task_runs, 1);
  Worker worker_b(*backend_b, registry, options);
  ASSERT_TRUE(worker_b.Start().ok());

  absl::StatusOr<int> result =
      client.GetWorkflowResult<int>(instance->instance_id, absl::Seconds(60));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 7);
  EXPECT_EQ(first_task_runs, 1) << "the workflow task was taken over";
  EXPECT_EQ(slow_activity_runs, 1) << "the activity was taken over";
  EXPECT_TRUE(worker_a.Stop().ok());
  EXPECT_TRUE(worker_b.Stop().ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, LeaseRenewalTest,
                         ::testing::Values("sqlite", "redis"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace durable
