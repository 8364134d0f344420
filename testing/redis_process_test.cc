// Worker processes on Redis (//testing:test_worker), with real process
// boundaries and a real redis-server:
//  - crash recovery: a worker SIGKILLed while it holds an activity lease or a
//    workflow task lease is replaced; the new worker takes the task over
//    once the lease expires, and nothing that completed runs again (cache on
//    and off);
//  - load: three workers run 300 workflows of three activities; each
//    completes exactly once, no workflow task runs in two processes at once,
//    every activity runs exactly once, and nothing is left in the store;
//  - restart: the server (append-only file, appendfsync always) restarts in
//    the middle of a run; every workflow still finishes, exactly once, with
//    the right result.
// Each test has its own key prefix (or its own server).
#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "gtest/gtest.h"
#include "testing/servers/redis_server.h"
#include "testing/servers/shared_server.h"
#include "testing/worker_process.h"

namespace durable::testing {
namespace {

std::string worker_binary;  // argv[1]

std::string TestDir(const std::string& name) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  EXPECT_EQ(system(absl::StrCat("mkdir -p ", dir).c_str()), 0);
  return dir;
}

std::string SharedUri(const std::string& prefix) {
  absl::StatusOr<RedisServer*> server = SharedServer<RedisServer>::Get();
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return "redis://127.0.0.1:1";
  return absl::StrCat((*server)->uri(), "/?prefix=", prefix, "-", getpid());
}

// (kill point: "activity" or "workflow", executor cache size)
class RedisCrashRecoveryTest
    : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(RedisCrashRecoveryTest, KilledWorkerIsReplacedAndNothingRunsTwice) {
  const auto& [kill_point, cache] = GetParam();
  const std::string name = absl::StrCat("crash-", kill_point, "-", cache);
  const std::string dir = TestDir(name);
  const std::string uri = SharedUri(name);
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

INSTANTIATE_TEST_SUITE_P(Redis, RedisCrashRecoveryTest,
                         ::testing::Combine(::testing::Values("activity",
                                                              "workflow"),
                                            ::testing::Values(128, 0)),
                         [](const auto& info) {
                           return absl::StrCat(
                               "kill_in_", std::get<0>(info.param), "_cache",
                               std::get<1>(info.param));
                         });

// Runs `workflows` ThreeSteps workflows on `workers` worker processes;
// `during` runs once a third of the activities ran. Checks every workflow
// finished once with the right result and no workflow task overlapped;
// returns how often each workflow's activities ran.
std::map<std::string, int> RunThreeSteps(const std::string& uri,
                                         const std::string& dir, int workflows,
                                         int workers,
                                         const std::string& lease_ms,
                                         const std::function<void()>& during) {
  absl::StatusOr<Backend> backend = Backend::Open(uri);
  EXPECT_TRUE(backend.ok()) << backend.status();
  if (!backend.ok()) return {};
  Client client(*backend);
  std::vector<std::unique_ptr<WorkerProcess>> processes;
  for (int i = 0; i < workers; ++i) {
    processes.push_back(std::make_unique<WorkerProcess>(
        worker_binary, std::vector<std::string>{"uri=" + uri, "dir=" + dir,
                                                "lease_ms=" + lease_ms}));
    EXPECT_TRUE(processes.back()->started());
  }
  for (int n = 0; n < workflows; ++n) {
    WorkflowInstanceOptions options;
    options.instance_id = absl::StrCat("load-", n);
    absl::StatusOr<WorkflowInstance> instance =
        client.CreateWorkflowInstance(options, "ThreeSteps", n);
    EXPECT_TRUE(instance.ok()) << instance.status();
  }
  if (during) {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (static_cast<int>(ReadLines(dir + "/steps.log").size()) < workflows &&
           absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    during();
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(240);
  for (int n = 0; n < workflows; ++n) {
    const std::string id = absl::StrCat("load-", n);
    absl::StatusOr<int> result =
        client.GetWorkflowResult<int>(id, deadline - absl::Now());
    EXPECT_TRUE(result.ok()) << id << ": " << result.status();
    if (result.ok()) EXPECT_EQ(*result, n + 6) << id;
  }
  for (auto& process : processes) EXPECT_TRUE(process->Stop());
  for (int n = 0; n < workflows; ++n) {
    const std::string id = absl::StrCat("load-", n);
    absl::StatusOr<std::vector<v1::HistoryEvent>> history =
        client.GetWorkflowHistory(id);
    EXPECT_TRUE(history.ok()) << history.status();
    if (!history.ok()) continue;
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
  std::map<std::string, int> steps;
  for (const std::string& line : ReadLines(dir + "/steps.log")) ++steps[line];
  EXPECT_EQ(steps.size(), static_cast<size_t>(workflows));
  return steps;
}

TEST(RedisProcessTest, ThreeWorkersRunThreeHundredWorkflowsExactlyOnce) {
  constexpr int kWorkflows = 300;
  const std::string dir = TestDir("load");
  const std::string uri = SharedUri("load");
  // The default leases: a slow machine must not look like a crash.
  std::map<std::string, int> steps =
      RunThreeSteps(uri, dir, kWorkflows, 3, "30000", nullptr);
  for (int n = 0; n < kWorkflows; ++n) {
    const std::string id = absl::StrCat("load-", n);
    EXPECT_EQ(steps[id], 3) << id << " ran " << steps[id] << " activities";
  }
  EXPECT_EQ(CountLines(ReadLines(dir + "/count.log"), "worker-started"), 3);
  // Nothing left behind: no active instance, no queued workflow or activity
  // task (key layout of backends/redis/scripts.h).
  absl::StatusOr<RedisServer*> server = SharedServer<RedisServer>::Get();
  ASSERT_TRUE(server.ok());
  redisContext* context =
      redisConnectWithTimeout("127.0.0.1", (*server)->port(), timeval{5, 0});
  ASSERT_NE(context, nullptr);
  ASSERT_EQ(context->err, 0) << context->errstr;
  const std::string prefix = absl::StrCat("{load-", getpid(), "}:");
  for (const std::string& command :
       {"SCARD " + prefix + "act", "ZCARD " + prefix + "wq:default",
        "ZCARD " + prefix + "aq:default", "ZCARD " + prefix + "list"}) {
    auto* reply =
        static_cast<redisReply*>(redisCommand(context, command.c_str()));
    ASSERT_NE(reply, nullptr);
    ASSERT_EQ(reply->type, REDIS_REPLY_INTEGER) << command;
    EXPECT_EQ(reply->integer,
              command.find("list") != std::string::npos ? kWorkflows : 0)
        << command;
    freeReplyObject(reply);
  }
  redisFree(context);
}

TEST(RedisProcessTest, EveryWorkflowFinishesOnceWhenTheServerRestarts) {
  constexpr int kWorkflows = 60;
  RedisServer::Options options;
  options.extra_args = {"--appendonly", "yes", "--appendfsync", "always"};
  RedisServer server(options);
  absl::Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::string dir = TestDir("restart");
  const std::string uri = server.uri() + "/?prefix=restart";
  // Short leases: a task whose completion was lost with the connection is
  // taken over soon.
  std::map<std::string, int> steps =
      RunThreeSteps(uri, dir, kWorkflows, 2, "3000", [&] {
        absl::Status restarted = server.Restart(absl::Milliseconds(300));
        ASSERT_TRUE(restarted.ok()) << restarted;
      });
  // An activity whose completion was lost with the connection runs again
  // (at least once); none is lost.
  for (int n = 0; n < kWorkflows; ++n) {
    const std::string id = absl::StrCat("load-", n);
    EXPECT_GE(steps[id], 3) << id << " ran " << steps[id] << " activities";
  }
}

}  // namespace
}  // namespace durable::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    fprintf(stderr, "usage: redis_process_test <test_worker binary>\n");
    return 2;
  }
  durable::testing::worker_binary = argv[1];
  return RUN_ALL_TESTS();
}
