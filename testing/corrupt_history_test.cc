// Bad data on SQLite: a history row that cannot be decoded makes that one
// instance fail with an error naming the instance and the event, while other
// instances on the same database keep running.
#include <sqlite3.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable {
namespace {

using ::testing::HasSubstr;

int Step(ActivityContext&, int value) { return value + 1; }

Task<absl::StatusOr<int>> TwoSteps(WorkflowContext& ctx, int n) {
  absl::StatusOr<int> a = co_await ctx.ExecuteActivity(Step, n);
  if (!a.ok()) co_return a.status();
  co_return co_await ctx.ExecuteActivity(Step, *a);
}

void Execute(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

class CorruptHistoryTest : public ::testing::TestWithParam<int> {};

TEST_P(CorruptHistoryTest, OnlyTheDamagedInstanceFails) {
  const int cache = GetParam();
  const std::string db_path =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/corrupt-", cache, ".db");
  absl::StatusOr<Backend> backend = Backend::Open("sqlite://" + db_path);
  ASSERT_TRUE(backend.ok()) << backend.status();
  Registry registry;
  ASSERT_TRUE(registry.RegisterWorkflow("TwoSteps", TwoSteps).ok());
  ASSERT_TRUE(registry.RegisterActivity("Step", Step).ok());
  Client client(*backend, &registry);

  // Run the first workflow task of both instances (no activity pollers, so
  // they stop there, with three events of history each).
  WorkerOptions options;
  options.max_cached_workflows = cache;
  options.activity_pollers = 0;
  {
    Worker first(*backend, registry, options);
    ASSERT_TRUE(first.Start().ok());
    for (const char* id : {"damaged", "healthy"}) {
      WorkflowInstanceOptions instance;
      instance.instance_id = id;
      ASSERT_TRUE(client.CreateWorkflowInstance(instance, TwoSteps, 1).ok());
    }
    for (const char* id : {"damaged", "healthy"}) {
      size_t events = 0;
      for (absl::Time deadline = absl::Now() + absl::Seconds(30);
           events < 3 && absl::Now() < deadline;
           absl::SleepFor(absl::Milliseconds(5))) {
        events = client.GetWorkflowHistory(id)->size();
      }
      ASSERT_EQ(events, 3u) << id;
    }
    ASSERT_TRUE(first.Stop().ok());
  }

  // Damage the "damaged" instance's second history event.
  Execute(db_path,
          "UPDATE history SET event = x'ffffffff' "
          "WHERE instance_id = 'damaged' AND event_id = 2");

  options.activity_pollers = 2;
  Worker second(*backend, registry, options);
  ASSERT_TRUE(second.Start().ok());
  absl::StatusOr<int> healthy =
      client.GetWorkflowResult<int>("healthy", absl::Seconds(30));
  ASSERT_TRUE(healthy.ok()) << healthy.status();
  EXPECT_EQ(*healthy, 3);

  absl::StatusOr<int> damaged =
      client.GetWorkflowResult<int>("damaged", absl::Seconds(30));
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(FailureType(damaged.status()), "HistoryCorrupted")
      << damaged.status();
  EXPECT_THAT(damaged.status().message(), HasSubstr("\"damaged\""));
  EXPECT_THAT(damaged.status().message(), HasSubstr("event 2"));
  EXPECT_TRUE(second.Stop().ok());

  // Reading the damaged history back reports the damage too.
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      client.GetWorkflowHistory("damaged");
  EXPECT_EQ(history.status().code(), absl::StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(Cache, CorruptHistoryTest, ::testing::Values(128, 0),
                         [](const auto& info) {
                           return absl::StrCat("cache", info.param);
                         });

}  // namespace
}  // namespace durable
