// Another process holds SQLite's write lock for longer than a lease: a worker
// stopped or stalled in the middle of a write transaction (simulated by
// //testing:sqlite_lock_helper, a raw connection in BEGIN IMMEDIATE).
//   - A lease granted by a call that had to wait for the lock still runs for
//     its full length from the grant: a second poller does not get the task
//     the moment the first got it (every way a lease is granted: workflow
//     task, activity task, eager dispatch, eager dispatch in the fused step).
//   - Pollers that find nothing never wait for the write lock: while it is
//     held beyond the busy timeout, idle pollers in another process keep
//     returning empty polls without errors, and work resumes once it is
//     released.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/conformance/history_events.h"
#include "backends/sqlite/sqlite_store.h"
#include "core/storage/store.h"
#include "gtest/gtest.h"
#include "testing/worker_process.h"

namespace durable::testing {
namespace {

using backends::sqlite::SqliteOptions;
using backends::sqlite::SqliteStore;

std::string helper_binary;  // argv[1]

// The lease granted while the lock is held, and how long the lock is held:
// well past the lease, well within SQLite's busy timeout (5 s).
constexpr absl::Duration kShortLease = absl::Milliseconds(400);
constexpr absl::Duration kHold = absl::Milliseconds(1500);
constexpr absl::Duration kLongLease = absl::Seconds(30);
const std::vector<std::string> kQueues = {"q"};

class SqliteWriteLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* test =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::getenv("TEST_TMPDIR");
    db_ = absl::StrCat(dir_, "/", test->name(), ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove((db_ + suffix).c_str());
    }
    first_ = OpenBackend();
    second_ = OpenBackend();
    ASSERT_NE(first_, nullptr);
    ASSERT_NE(second_, nullptr);
  }

  std::unique_ptr<SqliteStore> OpenBackend() {
    SqliteOptions options;
    options.path = db_;
    auto backend = SqliteStore::Open(options);
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? *std::move(backend) : nullptr;
  }

  // Starts the helper process holding the write lock; returns once it holds
  // it. Killing the process releases it.
  std::unique_ptr<WorkerProcess> HoldWriteLock() {
    const std::string log = absl::StrCat(db_, ".hold.log");
    auto holder = std::make_unique<WorkerProcess>(
        helper_binary,
        std::vector<std::string>{"mode=hold", "db=" + db_, "log=" + log});
    EXPECT_TRUE(holder->started());
    EXPECT_TRUE(WaitForLine(log, "locked", 1, absl::Seconds(10)))
        << "the helper did not take the write lock";
    return holder;
  }

  void Create(const std::string& id) {
    absl::Status status = first_->CreateWorkflowInstance(
        Instance(id, id + "-e1"), Started("wf", "q"));
    ASSERT_TRUE(status.ok()) << status;
  }

  std::optional<core::WorkflowTask> PollWorkflow(core::Store& backend,
                                                 absl::Duration lease,
                                                 absl::Duration wait) {
    auto task =
        backend.GetWorkflowTask(kQueues, lease, absl::Now() + wait, nullptr);
    EXPECT_TRUE(task.ok()) << task.status();
    return task.ok() ? *task : std::nullopt;
  }

  std::optional<core::ActivityTask> PollActivity(core::Store& backend,
                                                 absl::Duration lease,
                                                 absl::Duration wait) {
    auto task =
        backend.GetActivityTask(kQueues, lease, absl::Now() + wait, nullptr);
    EXPECT_TRUE(task.ok()) << task.status();
    return task.ok() ? *task : std::nullopt;
  }

  // The first task of `id`, completed with one activity (event 3 on "q")
  // scheduled; with `eager`, leased to the caller for kShortLease.
  core::WorkflowTaskCompletion ScheduleOne(const core::WorkflowTask& task,
                                           bool eager) {
    core::WorkflowTaskCompletion completion;
    completion.executed_events = TaskEvents(task);
    core::ActivityTaskSpec spec;
    spec.scheduled_event = ActivityScheduled(
        task.history_length + 1 +
            static_cast<int64_t>(completion.executed_events.size()),
        "act", "q");
    spec.queue = "q";
    completion.executed_events.push_back(spec.scheduled_event);
    completion.activities.push_back(spec);
    if (eager) {
      completion.eager_activities = 1;
      completion.eager_activity_lease = kShortLease;
    }
    return completion;
  }

  // Calls `grant` (which leases something for kShortLease) while another
  // process holds the write lock for kHold, well past the lease, and
  // returns once it returned.
  void GrantWhileLocked(const std::function<void()>& grant) {
    std::unique_ptr<WorkerProcess> holder = HoldWriteLock();
    absl::Time returned;
    std::thread granting([&] {
      grant();
      returned = absl::Now();
    });
    absl::SleepFor(kHold);
    const absl::Time releasing = absl::Now();
    holder->Kill();  // Releases the lock.
    granting.join();
    // The grant had to wait for the lock.
    EXPECT_GE(returned, releasing);
  }

  std::string dir_;
  std::string db_;
  std::unique_ptr<SqliteStore> first_;
  std::unique_ptr<SqliteStore> second_;
};

TEST_F(SqliteWriteLockTest, WorkflowTaskLeaseRunsFromTheGrant) {
  Create("i1");
  std::optional<core::WorkflowTask> task;
  GrantWhileLocked(
      [&] { task = PollWorkflow(*first_, kShortLease, absl::Seconds(10)); });
  ASSERT_TRUE(task.has_value());
  // Right after the grant, the lease holds: the task has one owner.
  ASSERT_FALSE(
      PollWorkflow(*second_, kLongLease, absl::ZeroDuration()).has_value())
      << "the lease was granted already expired";
  // Once it expired, another poller takes the task over.
  std::optional<core::WorkflowTask> taken_over =
      PollWorkflow(*second_, kLongLease, absl::Seconds(10));
  ASSERT_TRUE(taken_over.has_value());
  EXPECT_EQ(taken_over->instance_id, "i1");
  EXPECT_NE(taken_over->lease_token, task->lease_token);
}

TEST_F(SqliteWriteLockTest, ActivityTaskLeaseRunsFromTheGrant) {
  Create("i1");
  std::optional<core::WorkflowTask> task =
      PollWorkflow(*first_, kLongLease, absl::Seconds(10));
  ASSERT_TRUE(task.has_value());
  absl::Status scheduled =
      first_->CompleteWorkflowTask(*task, ScheduleOne(*task, false));
  ASSERT_TRUE(scheduled.ok()) << scheduled;
  std::optional<core::ActivityTask> activity;
  GrantWhileLocked([&] {
    activity = PollActivity(*first_, kShortLease, absl::Seconds(10));
  });
  ASSERT_TRUE(activity.has_value());
  ASSERT_FALSE(
      PollActivity(*second_, kLongLease, absl::ZeroDuration()).has_value())
      << "the lease was granted already expired";
  std::optional<core::ActivityTask> taken_over =
      PollActivity(*second_, kLongLease, absl::Seconds(10));
  ASSERT_TRUE(taken_over.has_value());
  EXPECT_EQ(taken_over->activity_id, activity->activity_id);
}

TEST_F(SqliteWriteLockTest, EagerActivityLeaseRunsFromTheCommit) {
  Create("i1");
  std::optional<core::WorkflowTask> task =
      PollWorkflow(*first_, kLongLease, absl::Seconds(10));
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCommitResult result;
  GrantWhileLocked([&] {
    absl::Status status = first_->CompleteWorkflowTask(
        *task, ScheduleOne(*task, /*eager=*/true), &result);
    EXPECT_TRUE(status.ok()) << status;
  });
  ASSERT_EQ(result.eager_activities.size(), 1u);
  ASSERT_FALSE(
      PollActivity(*second_, kLongLease, absl::ZeroDuration()).has_value())
      << "the eager lease was granted already expired";
  std::optional<core::ActivityTask> taken_over =
      PollActivity(*second_, kLongLease, absl::Seconds(10));
  ASSERT_TRUE(taken_over.has_value());
  EXPECT_EQ(taken_over->activity_id, result.eager_activities[0].activity_id);
}

TEST_F(SqliteWriteLockTest, FusedStepEagerLeaseRunsFromTheCommit) {
  Create("i1");
  std::optional<core::WorkflowTask> task =
      PollWorkflow(*first_, kLongLease, absl::Seconds(10));
  ASSERT_TRUE(task.has_value());
  // The first activity, leased for long; the instance is then not leased.
  core::WorkflowTaskCompletion first_step = ScheduleOne(*task, true);
  first_step.eager_activity_lease = kLongLease;
  core::WorkflowTaskCommitResult scheduled;
  ASSERT_TRUE(first_->CompleteWorkflowTask(*task, first_step, &scheduled).ok());
  ASSERT_EQ(scheduled.eager_activities.size(), 1u);
  const core::ActivityTask activity = scheduled.eager_activities[0];

  // The fused step: the activity's result, and the workflow task it wakes
  // (run on the caller's cached copy) scheduling the next activity eagerly.
  const int64_t length = first_step.executed_events.back().id();
  core::WorkflowTask cached;
  cached.instance_id = "i1";
  cached.execution_id = "i1-e1";
  cached.queue = "q";
  cached.history_length = length;
  v1::HistoryEvent activity_result;
  activity_result.mutable_activity_completed()->set_scheduled_event_id(length);
  core::WorkflowTaskCompletion fused;
  fused.executed_events = {TaskStarted(length + 1), activity_result};
  fused.executed_events[1].set_id(length + 2);
  core::ActivityTaskSpec next;
  next.scheduled_event = ActivityScheduled(length + 3, "act2", "q");
  next.queue = "q";
  fused.executed_events.push_back(next.scheduled_event);
  fused.activities.push_back(next);
  fused.eager_activities = 1;
  fused.eager_activity_lease = kShortLease;
  core::WorkflowTaskCommitResult result;
  GrantWhileLocked([&] {
    absl::Status status = first_->CompleteActivityWithWorkflowTask(
        activity, activity_result, cached, fused, &result);
    EXPECT_TRUE(status.ok()) << status;
  });
  ASSERT_TRUE(result.workflow_task_committed);
  ASSERT_EQ(result.eager_activities.size(), 1u);
  ASSERT_FALSE(
      PollActivity(*second_, kLongLease, absl::ZeroDuration()).has_value())
      << "the eager lease was granted already expired";
  std::optional<core::ActivityTask> taken_over =
      PollActivity(*second_, kLongLease, absl::Seconds(10));
  ASSERT_TRUE(taken_over.has_value());
  EXPECT_EQ(taken_over->activity_id, result.eager_activities[0].activity_id);
}

TEST_F(SqliteWriteLockTest, IdlePollersDoNotWaitForTheWriteLock) {
  const std::string log = absl::StrCat(db_, ".poll.log");
  WorkerProcess pollers(helper_binary,
                        {"mode=poll", "db=" + db_, "log=" + log});
  ASSERT_TRUE(pollers.started());
  ASSERT_TRUE(WaitForLine(log, "empty", 4, absl::Seconds(10)));

  // Held past SQLite's busy timeout (5 s), after which a poll that waited
  // for the lock would fail with "database is locked".
  std::unique_ptr<WorkerProcess> holder = HoldWriteLock();
  const int empty_before = CountLines(ReadLines(log), "empty");
  absl::SleepFor(absl::Seconds(6));
  const std::vector<std::string> during = ReadLines(log);
  holder->Kill();

  // Both pollers (100 ms per empty poll) kept answering the whole time.
  EXPECT_GE(CountLines(during, "empty") - empty_before, 20);
  for (const std::string& line : during) {
    EXPECT_FALSE(absl::StartsWith(line, "error")) << line;
  }

  // Work resumes: the other process takes and finishes a new instance.
  Create("after");
  auto finished = first_->WaitForWorkflowInstanceFinished(
      "after", absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_TRUE(WaitForLine(log, "finished after", 1, absl::Seconds(5)));
  EXPECT_TRUE(pollers.Stop());
  for (const std::string& line : ReadLines(log)) {
    EXPECT_FALSE(absl::StartsWith(line, "error")) << line;
  }
}

}  // namespace
}  // namespace durable::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    fprintf(stderr, "usage: %s <path to sqlite_lock_helper>\n", argv[0]);
    return 2;
  }
  durable::testing::helper_binary = argv[1];
  return RUN_ALL_TESTS();
}
