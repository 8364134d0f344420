// Crash recovery across processes on an on-disk SQLite file. A worker
// process is killed with SIGKILL in the middle of the workflow:
//  - holding an activity lease (after the first activity completed), or
//  - holding a workflow task lease (its workflow code is running).
// A new worker process takes the task over once the lease expires and
// finishes the workflow with the right result; the activity that completed
// before the crash is not executed again. Cache on and off.
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "gtest/gtest.h"
#include "testing/worker_process.h"

namespace durable::testing {
namespace {

std::string worker_binary;  // argv[1]

// (kill point: "activity" or "workflow", executor cache size)
class CrashRecoveryTest
    : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(CrashRecoveryTest, KilledWorkerIsReplacedAndNothingRunsTwice) {
  const auto& [kill_point, cache] = GetParam();
  const std::string dir =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/", kill_point, "-", cache);
  ASSERT_EQ(system(absl::StrCat("mkdir -p ", dir).c_str()), 0);
  const std::string uri = absl::StrCat("sqlite://", dir, "/durable.db");
  const std::string count_file = dir + "/count.log";

  absl::StatusOr<Backend> backend = Backend::Open(uri);
  ASSERT_TRUE(backend.ok()) << backend.status();
  Client client(*backend);
  WorkflowInstanceOptions options;
  options.instance_id = "crash";
  ASSERT_TRUE(client.CreateWorkflowInstance(options, "CrashWorkflow").ok());

  const std::vector<std::string> common = {"uri=" + uri, "dir=" + dir,
                                           absl::StrCat("cache=", cache)};
  std::vector<std::string> first_args = common;
  first_args.push_back("block=" + kill_point);
  WorkerProcess first(worker_binary, first_args);
  ASSERT_TRUE(first.started());
  // Record2 starting means Record1's result is in history and this worker
  // now holds Record2's lease; "workflow-task-blocked" means it holds the
  // first workflow task's lease.
  const std::string holding =
      kill_point == "activity" ? "Record2-started" : "workflow-task-blocked";
  ASSERT_TRUE(WaitForLine(count_file, holding, 1, absl::Seconds(30)))
      << "the first worker never reached the kill point";
  ASSERT_TRUE(first.Kill());

  WorkerProcess second(worker_binary, common);
  ASSERT_TRUE(second.started());
  absl::StatusOr<int> result =
      client.GetWorkflowResult<int>("crash", absl::Seconds(60));
  EXPECT_TRUE(second.Stop()) << "the second worker did not stop cleanly";

  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 59);
  std::vector<std::string> lines = ReadLines(count_file);
  EXPECT_EQ(CountLines(lines, "worker-started"), 2);
  EXPECT_EQ(CountLines(lines, "Record1"), 1)
      << "a completed activity ran again after the crash";
  if (kill_point == "activity") {
    EXPECT_EQ(CountLines(lines, "Record2-started"), 2)
        << "the interrupted activity runs once more, on the new worker";
  } else {
    EXPECT_EQ(CountLines(lines, "Record2-started"), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Sqlite, CrashRecoveryTest,
                         ::testing::Combine(::testing::Values("activity",
                                                              "workflow"),
                                            ::testing::Values(128, 0)),
                         [](const auto& info) {
                           return absl::StrCat(
                               "kill_in_", std::get<0>(info.param), "_cache",
                               std::get<1>(info.param));
                         });

}  // namespace
}  // namespace durable::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    fprintf(stderr, "usage: crash_recovery_test <test_worker binary>\n");
    return 2;
  }
  durable::testing::worker_binary = argv[1];
  return RUN_ALL_TESTS();
}
