// Crash recovery across processes on an on-disk SQLite file: a worker
// process is killed with SIGKILL after its first activity completed (while it
// holds the second activity's lease); a new worker process finishes the
// workflow with the right result, and the completed activity is not executed
// again. Runs with the executor cache on and off.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "gtest/gtest.h"

namespace {

std::string worker_binary;  // from argv

pid_t StartWorker(const std::string& uri, const std::string& count_file,
                  int cache_size, bool block_second) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string cache = std::to_string(cache_size);
    execl(worker_binary.c_str(), worker_binary.c_str(), uri.c_str(),
          count_file.c_str(), cache.c_str(), block_second ? "1" : "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
}

int Count(const std::vector<std::string>& lines, const std::string& line) {
  int n = 0;
  for (const auto& l : lines) n += (l == line);
  return n;
}

bool WaitForLine(const std::string& path, const std::string& line,
                 int occurrences, absl::Duration timeout) {
  for (absl::Time deadline = absl::Now() + timeout; absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(20))) {
    if (Count(Lines(path), line) >= occurrences) return true;
  }
  return false;
}

class CrashRecoveryTest : public ::testing::TestWithParam<int> {};

TEST_P(CrashRecoveryTest, KilledWorkerIsReplacedAndNothingRunsTwice) {
  const int cache_size = GetParam();
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string uri =
      absl::StrCat("sqlite://", dir, "/crash-", cache_size, ".db");
  const std::string count_file =
      absl::StrCat(dir, "/crash-", cache_size, ".count");

  absl::StatusOr<durable::Backend> backend = durable::Backend::Open(uri);
  ASSERT_TRUE(backend.ok()) << backend.status();
  durable::Client client(*backend);
  durable::WorkflowInstanceOptions options;
  options.instance_id = absl::StrCat("crash-", cache_size);
  ASSERT_TRUE(client.CreateWorkflowInstance(options, "CrashWorkflow").ok());

  pid_t first = StartWorker(uri, count_file, cache_size, /*block=*/true);
  ASSERT_GT(first, 0);
  // Record2 starting means Record1's result was committed to history and
  // the workflow went on to schedule Record2, which this worker now holds.
  ASSERT_TRUE(WaitForLine(count_file, "Record2-started", 1, absl::Seconds(30)))
      << "the first worker never reached the second activity";
  ASSERT_EQ(kill(first, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(first, &status, 0), first);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  pid_t second = StartWorker(uri, count_file, cache_size, /*block=*/false);
  ASSERT_GT(second, 0);
  absl::StatusOr<int> result =
      client.GetWorkflowResult<int>(options.instance_id, absl::Seconds(60));
  kill(second, SIGTERM);
  ASSERT_EQ(waitpid(second, &status, 0), second);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the second worker did not stop cleanly";

  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 59);
  std::vector<std::string> lines = Lines(count_file);
  EXPECT_EQ(Count(lines, "worker-started"), 2);
  EXPECT_EQ(Count(lines, "Record1"), 1)
      << "the completed activity ran again after the crash";
  EXPECT_EQ(Count(lines, "Record2-started"), 2)
      << "the interrupted activity should run once more, on the new worker";
}

INSTANTIATE_TEST_SUITE_P(Cache, CrashRecoveryTest, ::testing::Values(128, 0),
                         [](const auto& info) {
                           return absl::StrCat("cache", info.param);
                         });

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    fprintf(stderr, "usage: crash_recovery_test <crash_worker binary>\n");
    return 2;
  }
  worker_binary = argv[1];
  return RUN_ALL_TESTS();
}
