// Three worker processes on one SQLite file run 300 workflows of three
// activities each. Every workflow must complete exactly once with the right
// result, no workflow task may be executed by two workers at the same time
// (the workers record overlaps, see test_worker.cc), every activity runs
// exactly once, and nothing is left behind in the database.
#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "gtest/gtest.h"
#include "testing/worker_process.h"

namespace durable::testing {
namespace {

std::string worker_binary;  // argv[1]

constexpr int kWorkflows = 300;
constexpr int kWorkers = 3;

int64_t CountRows(const std::string& db_path, const std::string& table) {
  sqlite3* db = nullptr;
  int64_t count = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = "SELECT count(*) FROM " + table;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      count = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return count;
}

TEST(MultiProcessLoadTest, ThreeWorkersRunThreeHundredWorkflowsExactlyOnce) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string db_path = dir + "/load.db";
  const std::string uri = "sqlite://" + db_path;

  absl::StatusOr<Backend> backend = Backend::Open(uri);
  ASSERT_TRUE(backend.ok()) << backend.status();
  Client client(*backend);

  std::vector<std::unique_ptr<WorkerProcess>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    // The default leases: a slow machine must not look like a crash.
    workers.push_back(std::make_unique<WorkerProcess>(
        worker_binary, std::vector<std::string>{"uri=" + uri, "dir=" + dir,
                                                "lease_ms=30000"}));
    ASSERT_TRUE(workers.back()->started());
  }

  for (int n = 0; n < kWorkflows; ++n) {
    WorkflowInstanceOptions options;
    options.instance_id = absl::StrCat("load-", n);
    absl::StatusOr<WorkflowInstance> instance =
        client.CreateWorkflowInstance(options, "ThreeSteps", n);
    ASSERT_TRUE(instance.ok()) << instance.status();
  }

  const absl::Time deadline = absl::Now() + absl::Seconds(240);
  for (int n = 0; n < kWorkflows; ++n) {
    const std::string id = absl::StrCat("load-", n);
    absl::StatusOr<int> result =
        client.GetWorkflowResult<int>(id, deadline - absl::Now());
    ASSERT_TRUE(result.ok()) << id << ": " << result.status();
    EXPECT_EQ(*result, n + 6) << id;
  }
  for (auto& worker : workers) EXPECT_TRUE(worker->Stop());

  // Exactly once: one finished event per workflow, three activity runs.
  std::map<std::string, int> steps;
  for (const std::string& line : ReadLines(dir + "/steps.log")) ++steps[line];
  EXPECT_EQ(steps.size(), static_cast<size_t>(kWorkflows));
  for (int n = 0; n < kWorkflows; ++n) {
    const std::string id = absl::StrCat("load-", n);
    EXPECT_EQ(steps[id], 3) << id << " ran " << steps[id] << " activities";
    absl::StatusOr<std::vector<v1::HistoryEvent>> history =
        client.GetWorkflowHistory(id);
    ASSERT_TRUE(history.ok()) << history.status();
    int finished = 0;
    for (const auto& event : *history) {
      finished += event.has_workflow_execution_finished();
    }
    EXPECT_EQ(finished, 1) << id;
  }
  std::vector<std::string> overlaps = ReadLines(dir + "/overlaps.log");
  EXPECT_TRUE(overlaps.empty())
      << overlaps.size()
      << " overlapping workflow task executions, first: " << overlaps.front();
  EXPECT_EQ(CountLines(ReadLines(dir + "/count.log"), "worker-started"),
            kWorkers);

  // Nothing left behind.
  EXPECT_EQ(CountRows(db_path, "inbox"), 0);
  EXPECT_EQ(CountRows(db_path, "activities"), 0);
  EXPECT_EQ(CountRows(db_path, "instances WHERE state != 2"), 0);
  EXPECT_EQ(CountRows(db_path, "instances"), kWorkflows);
}

}  // namespace
}  // namespace durable::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    fprintf(stderr, "usage: multi_process_load_test <test_worker binary>\n");
    return 2;
  }
  durable::testing::worker_binary = argv[1];
  return RUN_ALL_TESTS();
}
