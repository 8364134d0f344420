// SQLite's own business: group commit and its savepoints, the WAL sync,
// its cursor format, and files -- opening, sharing, migrating, and damage
// done with raw SQL. What every store must do is the contract suite
// (backends/conformance, run on SQLite by sqlite_contract_test); a test
// belongs here only if another store could not even be asked the question.
#include "backends/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/conformance/history_events.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sqlite {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kLease = absl::Seconds(30);

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs `sql` on `path` through a separate raw SQLite connection.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

// The single integer `sql` yields on `path`, through a separate raw SQLite
// connection; -1 when it yields none.
int64_t RawCount(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  int64_t count = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    count = sqlite3_column_int64(stmt, 0);
  }
  EXPECT_NE(count, -1) << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

using ::durable::testing::ActivityScheduled;
using ::durable::testing::Instance;
using ::durable::testing::Signal;
using ::durable::testing::Started;
using ::durable::testing::TaskStarted;

// The history a first workflow task appends: task started + the consumed
// started event.
std::vector<v1::HistoryEvent> FirstTaskEvents(const core::WorkflowTask& task) {
  return ::durable::testing::TaskEvents(task);
}

class SqliteStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SqliteOptions options;
    options.in_memory = GetParam();
    if (!options.in_memory) {
      // Parameterized test names contain '/', so name the file by a hash.
      path_ = TempPath(absl::StrCat(
          "backend_",
          std::hash<std::string>()(
              ::testing::UnitTest::GetInstance()->current_test_info()->name()),
          ".db"));
      options.path = path_;
    }
    auto backend = SqliteStore::Open(options);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
  }

  std::optional<core::WorkflowTask> Poll(
      std::vector<std::string> queues = {},
      absl::Duration timeout = absl::Milliseconds(50),
      absl::Duration lease = kLease) {
    auto task = backend_->GetWorkflowTask(queues, lease, absl::Now() + timeout,
                                          nullptr);
    EXPECT_TRUE(task.ok()) << task.status();
    return task.ok() ? *task : std::nullopt;
  }

  std::optional<core::ActivityTask> PollActivity(
      absl::Duration timeout = absl::Milliseconds(50)) {
    auto task =
        backend_->GetActivityTask({}, kLease, absl::Now() + timeout, nullptr);
    EXPECT_TRUE(task.ok()) << task.status();
    return task.ok() ? *task : std::nullopt;
  }

  void Create(const std::string& id, const std::string& exec = "e1",
              const std::string& queue = "") {
    ASSERT_TRUE(backend_
                    ->CreateWorkflowInstance(Instance(id, exec),
                                             Started("wf", queue, {{"k", "v"}}))
                    .ok());
  }

  std::string path_;
  std::unique_ptr<SqliteStore> backend_;
};

// Group commit: concurrent callers share transactions, but each caller's
// writes stay all-or-nothing. Sixteen activity completions race, one of
// them with a lost lease: only that one fails (and writes nothing), the
// other fifteen results all arrive.
TEST_P(SqliteStoreTest, GroupCommitFailsOnlyTheCallerWhoseWritesFailed) {
  constexpr int kActivities = 16;
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(*task);
  for (int i = 0; i < kActivities; ++i) {
    core::ActivityTaskSpec spec;
    spec.scheduled_event = ActivityScheduled(
        static_cast<int64_t>(completion.executed_events.size()) + 1, "a");
    spec.queue = "default";
    completion.executed_events.push_back(spec.scheduled_event);
    completion.activities.push_back(std::move(spec));
  }
  ASSERT_TRUE(backend_->CompleteWorkflowTask(*task, completion).ok());
  std::vector<core::ActivityTask> leased;
  for (int i = 0; i < kActivities; ++i) {
    std::optional<core::ActivityTask> activity = PollActivity();
    ASSERT_TRUE(activity.has_value());
    leased.push_back(*activity);
  }
  leased[7].lease_token = "stolen";
  const SqliteStore::CommitStats before = backend_->commit_stats();
  std::atomic<int> ready{0};
  std::vector<absl::Status> results(kActivities);
  std::vector<std::thread> threads;
  for (int i = 0; i < kActivities; ++i) {
    threads.emplace_back([&, i] {
      v1::HistoryEvent result;
      result.mutable_activity_completed()->set_scheduled_event_id(
          leased[i].scheduled_event.id());
      ++ready;
      while (ready.load() < kActivities) {
      }
      results[i] = backend_->CompleteActivityTask(leased[i], result);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kActivities; ++i) {
    if (i == 7) {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kAborted) << results[i];
    } else {
      EXPECT_TRUE(results[i].ok()) << i << ": " << results[i];
    }
  }
  const SqliteStore::CommitStats after = backend_->commit_stats();
  EXPECT_EQ(after.writes - before.writes, kActivities);
  EXPECT_LE(after.commits - before.commits, kActivities - 1);
  std::cout << "group commit: " << after.writes - before.writes << " writes in "
            << after.commits - before.commits << " commits\n";
  // The failed caller's activity is still pending; every other result is in
  // the inbox.
  absl::StatusOr<core::StoreStats> stats = backend_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->pending_activity_tasks["default"], 1);
  std::optional<core::WorkflowTask> next = Poll();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->new_events.size(), static_cast<size_t>(kActivities - 1));
}

// A completion that fails halfway (its second event has the wrong id, after
// the first was already inserted) is rolled back to its savepoint while
// completions of other instances in the same batches commit.
TEST_P(SqliteStoreTest, GroupCommitRollsBackAHalfWrittenCompletion) {
  constexpr int kInstances = 12;
  std::vector<core::WorkflowTask> tasks;
  for (int i = 0; i < kInstances; ++i) {
    Create(absl::StrCat("i", i));
    std::optional<core::WorkflowTask> task = Poll();
    ASSERT_TRUE(task.has_value());
    tasks.push_back(*task);
  }
  std::atomic<int> ready{0};
  std::vector<absl::Status> results(kInstances);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      core::WorkflowTaskCompletion completion;
      completion.executed_events = FirstTaskEvents(tasks[i]);
      if (i % 4 == 0) completion.executed_events[1].set_id(99);
      ++ready;
      while (ready.load() < kInstances) {
      }
      results[i] = backend_->CompleteWorkflowTask(tasks[i], completion);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kInstances; ++i) {
    auto history = backend_->GetWorkflowHistory(tasks[i].instance_id,
                                                tasks[i].execution_id);
    ASSERT_TRUE(history.ok()) << history.status();
    if (i % 4 == 0) {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kInvalidArgument);
      EXPECT_TRUE(history->empty()) << i;  // Not even the first event.
      // Its lease was not released either: it can still complete.
      core::WorkflowTaskCompletion fixed;
      fixed.executed_events = FirstTaskEvents(tasks[i]);
      EXPECT_TRUE(backend_->CompleteWorkflowTask(tasks[i], fixed).ok());
    } else {
      EXPECT_TRUE(results[i].ok()) << i << ": " << results[i];
      EXPECT_EQ(history->size(), 2u) << i;
    }
  }
}

// The cursor is "<created_at_us>:<seq>" (backends/sql/relational_store.h);
// near misses of that format are malformed too. (The contract suite checks
// what every store's cursors share.)
TEST_P(SqliteStoreTest, MalformedSqliteListCursorsAreInvalid) {
  Create("i1");
  for (const char* cursor : {"x", "1", "1:", ":1", "1:2:3", "a:1", "1:b"}) {
    absl::StatusOr<core::WorkflowInstancePage> page =
        backend_->ListWorkflowInstances(cursor, 10);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument)
        << cursor;
    EXPECT_THAT(page.status().message(), HasSubstr("malformed cursor"));
  }
}

// Completes `task` (an instance's first) scheduling activity "act" (event 3,
// default queue) and returns that activity, leased eagerly.
core::ActivityTask ScheduleEagerActivity(SqliteStore& backend,
                                         core::WorkflowTask& task) {
  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(task);
  core::ActivityTaskSpec spec;
  spec.scheduled_event = ActivityScheduled(3, "act");
  spec.queue = "default";
  completion.executed_events.push_back(spec.scheduled_event);
  completion.activities.push_back(spec);
  completion.eager_activities = 1;
  completion.eager_activity_lease = kLease;
  core::WorkflowTaskCommitResult result;
  absl::Status status = backend.CompleteWorkflowTask(task, completion, &result);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(result.eager_activities.size(), 1u);
  return result.eager_activities.empty() ? core::ActivityTask()
                                         : result.eager_activities[0];
}

// The cached task and completion of a fused step for the activity of
// ScheduleEagerActivity (history 3 events long).
core::WorkflowTask CachedTask(const core::ActivityTask& activity) {
  core::WorkflowTask task;
  task.instance_id = activity.instance_id;
  task.execution_id = activity.execution_id;
  task.queue = "default";
  task.history_length = 3;
  return task;
}

v1::HistoryEvent ActivityResult() {
  v1::HistoryEvent event;
  event.mutable_activity_completed()->set_scheduled_event_id(3);
  return event;
}

core::WorkflowTaskCompletion FusedCompletion() {
  core::WorkflowTaskCompletion completion;
  completion.executed_events = {TaskStarted(4), ActivityResult()};
  completion.executed_events[1].set_id(5);
  return completion;
}

// The fused step is one caller write, where completing the activity, leasing
// the task it wakes and completing that task were three.
TEST_P(SqliteStoreTest, FusedStepIsOneWrite) {
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  core::ActivityTask activity = ScheduleEagerActivity(*backend_, *task);
  const SqliteStore::CommitStats before = backend_->commit_stats();
  core::WorkflowTaskCommitResult result;
  ASSERT_TRUE(backend_
                  ->CompleteActivityWithWorkflowTask(activity, ActivityResult(),
                                                     CachedTask(activity),
                                                     FusedCompletion(), &result)
                  .ok());
  EXPECT_TRUE(result.workflow_task_committed);
  const SqliteStore::CommitStats after = backend_->commit_stats();
  EXPECT_EQ(after.writes - before.writes, 1);
  EXPECT_EQ(after.commits - before.commits, 1);
}

INSTANTIATE_TEST_SUITE_P(FileAndMemory, SqliteStoreTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Memory" : "File";
                         });

// --- File-only behaviour ---------------------------------------------------

absl::StatusOr<std::unique_ptr<SqliteStore>> OpenFile(const std::string& path) {
  SqliteOptions options;
  options.path = path;
  return SqliteStore::Open(options);
}

TEST(SqliteFileTest, DescribeAndReopenKeepData) {
  std::string path = TempPath("reopen.db");
  {
    auto backend = OpenFile(path);
    ASSERT_TRUE(backend.ok()) << backend.status();
    EXPECT_THAT((*backend)->Describe(), HasSubstr("sqlite file="));
    EXPECT_THAT((*backend)->Describe(), HasSubstr("journal=WAL"));
    EXPECT_THAT((*backend)->Describe(), HasSubstr("durability=full"));
    ASSERT_TRUE(
        (*backend)
            ->CreateWorkflowInstance(Instance("i1", "e1"), Started("wf"))
            .ok());
  }
  auto reopened = OpenFile(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto state = (*reopened)->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->workflow_name(), "wf");
}

// The backend syncs the WAL itself, after releasing SQLite's write lock: a
// state-changing write returns only after an fdatasync that covers it, and a
// lease grant costs none.
TEST(SqliteFileTest, EveryDurableWriteWaitsForAWalSync) {
  std::string path = TempPath("walsync.db");
  auto backend = OpenFile(path);
  ASSERT_TRUE(backend.ok()) << backend.status();
  const SqliteStore::CommitStats before = (*backend)->commit_stats();
  constexpr int kCreates = 5;
  for (int i = 0; i < kCreates; ++i) {
    const std::string id = absl::StrCat("w", i);
    ASSERT_TRUE(
        (*backend)
            ->CreateWorkflowInstance(Instance(id, id + "-e"), Started("wf"))
            .ok());
  }
  const SqliteStore::CommitStats created = (*backend)->commit_stats();
  // One at a time, nothing can share a sync.
  EXPECT_EQ(created.synced_commits - before.synced_commits, kCreates);

  auto task = (*backend)->GetWorkflowTask({"default"}, absl::Seconds(30),
                                          absl::Now(), nullptr);
  ASSERT_TRUE(task.ok() && task->has_value());
  EXPECT_EQ((*backend)->commit_stats().synced_commits, created.synced_commits);
}

TEST(SqliteFileTest, TwoBackendsOnOneFileShareWork) {
  std::string path = TempPath("shared.db");
  auto worker = OpenFile(path);
  auto client = OpenFile(path);
  ASSERT_TRUE(worker.ok() && client.ok());
  std::optional<core::WorkflowTask> got;
  std::thread poller([&] {
    auto task = (*worker)->GetWorkflowTask(
        {}, kLease, absl::Now() + absl::Seconds(20), nullptr);
    ASSERT_TRUE(task.ok()) << task.status();
    got = *task;
  });
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE((*client)
                  ->CreateWorkflowInstance(Instance("i1", "e1"), Started("wf"))
                  .ok());
  poller.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->instance_id, "i1");
}

TEST(SqliteFileTest, RefusesForeignSqliteDatabaseUntouched) {
  std::string path = TempPath("foreign.db");
  RawExec(path,
          "CREATE TABLE customers (id INTEGER); "
          "INSERT INTO customers VALUES (1);");
  std::string before = ReadFile(path);
  auto backend = OpenFile(path);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(backend.status().message(),
              HasSubstr("is not a durable database"));
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteFileTest, RefusesNonSqliteFileUntouched) {
  std::string path = TempPath("garbage.db");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(4096, 'x');
  }
  std::string before = ReadFile(path);
  auto backend = OpenFile(path);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(backend.status().message(),
              HasSubstr("is not a durable database"));
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteFileTest, RefusesNewerSchemaVersion) {
  std::string path = TempPath("newer.db");
  ASSERT_TRUE(OpenFile(path).ok());
  RawExec(path, "UPDATE durable_schema_version SET version = 99");
  auto backend = OpenFile(path);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(backend.status().message(), HasSubstr("version 99"));
  EXPECT_THAT(backend.status().message(), HasSubstr("version 4 "));
}

TEST(SqliteFileTest, ReadOnlyFileIsAnError) {
  std::string path = TempPath("readonly.db");
  ASSERT_TRUE(OpenFile(path).ok());
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  auto backend = OpenFile(path);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(backend.status().message(), HasSubstr("read-only"));
  chmod(path.c_str(), 0644);
}

TEST(SqliteFileTest, UndecodableHistoryRowIsDataLoss) {
  std::string path = TempPath("corrupt.db");
  auto backend = OpenFile(path);
  ASSERT_TRUE(backend.ok());
  ASSERT_TRUE((*backend)
                  ->CreateWorkflowInstance(Instance("i1", "e1"), Started("wf"))
                  .ok());
  RawExec(path, "INSERT INTO history VALUES ('i1', 'e1', 1, x'ffffffff')");
  auto history = (*backend)->GetWorkflowHistory("i1", "e1");
  EXPECT_EQ(history.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(history.status().message(),
              HasSubstr("history of workflow instance \"i1\": event 1 cannot "
                        "be decoded"));
}

// An execution that ends keeps no inbox rows: what its last task did not
// consume (a timer firing later, a signal that arrived while the task was in
// flight) is deleted in the same commit, and so is what a continue-as-new
// does not carry over. Nothing reads such rows -- polls and counters look at
// active executions only -- so only the file shows them.
TEST(SqliteFileTest, EndedExecutionsKeepNoInboxRows) {
  std::string path = TempPath("ended_inbox.db");
  auto backend = OpenFile(path);
  ASSERT_TRUE(backend.ok()) << backend.status();
  SqliteStore& store = **backend;
  for (const bool continue_as_new : {false, true}) {
    SCOPED_TRACE(continue_as_new ? "continued as new" : "finished");
    const std::string id = continue_as_new ? "continued" : "finished";
    ASSERT_TRUE(
        store.CreateWorkflowInstance(Instance(id, "e1"), Started("wf")).ok());
    auto task = store.GetWorkflowTask({}, kLease,
                                      absl::Now() + absl::Seconds(10), nullptr);
    ASSERT_TRUE(task.ok() && task->has_value()) << task.status();
    core::WorkflowTaskCompletion waiting;
    waiting.executed_events = FirstTaskEvents(**task);
    v1::HistoryEvent fired;
    fired.mutable_timer_fired()->set_scheduled_event_id(1);
    waiting.outbound_events = {
        core::OutboundEvent{id, "e1", fired, absl::Now() + absl::Hours(1)}};
    ASSERT_TRUE(store.CompleteWorkflowTask(**task, waiting).ok());
    ASSERT_TRUE(store.DeliverWorkflowEvent(id, Signal("wake")).ok());
    task = store.GetWorkflowTask({}, kLease, absl::Now() + absl::Seconds(10),
                                 nullptr);
    ASSERT_TRUE(task.ok() && task->has_value()) << task.status();
    ASSERT_TRUE(store.DeliverWorkflowEvent(id, Signal("in flight")).ok());

    core::WorkflowTaskCompletion last;
    last.executed_events = FirstTaskEvents(**task);
    if (continue_as_new) {
      last.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
      last.next_execution_id = "e2";
      last.outbound_events = {core::OutboundEvent{id, "e2", Started("wf"),
                                                  absl::InfinitePast()}};
    } else {
      last.state = v1::WORKFLOW_STATE_FINISHED;
    }
    ASSERT_TRUE(store.CompleteWorkflowTask(**task, last).ok());
    EXPECT_EQ(RawCount(path, absl::StrCat("SELECT count(*) FROM inbox "
                                          "WHERE instance_id = '",
                                          id, "' AND execution_id = 'e1'")),
              0);
  }
}

TEST(SqliteFileTest, ListingBreaksCreationTimeTiesByInsertionOrder) {
  std::string path = TempPath("ties.db");
  auto backend = OpenFile(path);
  ASSERT_TRUE(backend.ok()) << backend.status();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*backend)
                    ->CreateWorkflowInstance(
                        Instance(absl::StrCat("i", i), "e1"), Started("wf"))
                    .ok());
  }
  RawExec(path, "UPDATE instances SET created_at = 1000");
  std::vector<std::string> ids;
  std::string cursor;
  do {
    auto page = (*backend)->ListWorkflowInstances(cursor, 2);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& state : page->instances) {
      ids.push_back(state.instance_id());
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(ids, (std::vector<std::string>{"i4", "i3", "i2", "i1", "i0"}));
}

// Takes a current file back to version 3: instances.seq was its implicit
// rowid, and (instance_id, execution_id) its primary key.
constexpr char kUndoVersion4[] =
    "CREATE TABLE instances_v3 ("
    "instance_id TEXT NOT NULL, execution_id TEXT NOT NULL, "
    "workflow_name TEXT NOT NULL, queue TEXT NOT NULL, "
    "state INTEGER NOT NULL, created_at INTEGER NOT NULL, "
    "finished_at INTEGER, metadata BLOB, result BLOB, "
    "last_task_failure BLOB, lease_token TEXT, lease_expires_at INTEGER, "
    "ready_at INTEGER NOT NULL DEFAULT 0, "
    "history_length INTEGER NOT NULL DEFAULT 0, parent BLOB, "
    "PRIMARY KEY (instance_id, execution_id)); "
    "INSERT INTO instances_v3 (rowid, instance_id, execution_id, "
    "workflow_name, queue, state, created_at, finished_at, metadata, result, "
    "last_task_failure, lease_token, lease_expires_at, ready_at, "
    "history_length, parent) SELECT seq, instance_id, execution_id, "
    "workflow_name, queue, state, created_at, finished_at, metadata, result, "
    "last_task_failure, lease_token, lease_expires_at, ready_at, "
    "history_length, parent FROM instances; "
    "DROP TABLE instances; "
    "ALTER TABLE instances_v3 RENAME TO instances; "
    "CREATE INDEX instances_by_creation ON instances (instance_id, "
    "created_at); "
    "CREATE INDEX instances_by_state ON instances (state, queue); "
    "CREATE INDEX instances_by_created_at ON instances (created_at); "
    "CREATE INDEX instances_by_finished_at ON instances (finished_at) "
    "WHERE finished_at IS NOT NULL; "
    "CREATE INDEX instances_by_ready_at ON instances (state, ready_at); "
    "CREATE INDEX instances_by_lease_expiry ON instances "
    "(state, lease_expires_at) WHERE lease_token IS NOT NULL; "
    "UPDATE durable_schema_version SET version = 3; ";

// Builds a database as version 1 wrote it (no inbox.event_key, no later
// indexes) holding one instance, then opens it with this library.
TEST(SqliteFileTest, VersionOneFilesAreMigratedKeepingTheirData) {
  std::string path = TempPath("old_v1.db");
  {
    auto backend = OpenFile(path);
    ASSERT_TRUE(backend.ok()) << backend.status();
    ASSERT_TRUE(
        (*backend)
            ->CreateWorkflowInstance(Instance("kept", "e1"), Started("wf"))
            .ok());
  }
  RawExec(path, kUndoVersion4);
  RawExec(path,
          "DROP INDEX inbox_by_key; "
          "DROP INDEX instances_by_created_at; "
          "DROP INDEX instances_by_finished_at; "
          "DROP INDEX activities_by_instance; "
          "ALTER TABLE inbox DROP COLUMN event_key; "
          "ALTER TABLE instances DROP COLUMN parent; "
          "ALTER TABLE activities DROP COLUMN activity_name; "
          "DROP TABLE workers; "
          "UPDATE durable_schema_version SET version = 1;");
  auto backend = OpenFile(path);
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto state = (*backend)->GetWorkflowInstanceState("kept");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    int n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
  };
  EXPECT_EQ(count("SELECT max(version) FROM durable_schema_version"), 4);
  EXPECT_EQ(count("SELECT count(*) FROM pragma_table_info('inbox') "
                  "WHERE name = 'event_key'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM pragma_table_info('instances') "
                  "WHERE name = 'parent'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                  "AND name IN ('instances_by_created_at', "
                  "'instances_by_finished_at', 'activities_by_instance', "
                  "'inbox_by_key')"),
            4);
  sqlite3_close(db);
  // The migrated inbox still serves the instance's first workflow task.
  auto task = (*backend)->GetWorkflowTask(
      {"default"}, absl::Seconds(30), absl::Now() + absl::Seconds(5), nullptr);
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE(task->has_value());
  EXPECT_EQ((*task)->instance_id, "kept");
}

// Builds a database as version 2 wrote it -- no instances.parent, no
// activities.activity_name, no workers table -- holding a child execution
// whose only record of its parent is its (pending) started event, and a
// pending activity task whose name is only in its scheduled event; then
// opens it with this library, which must fill both in.
TEST(SqliteFileTest, VersionTwoFilesAreMigratedKeepingTheirData) {
  std::string path = TempPath("old_v2.db");
  {
    auto backend = OpenFile(path);
    ASSERT_TRUE(backend.ok()) << backend.status();
    ASSERT_TRUE((*backend)
                    ->CreateWorkflowInstance(Instance("parent", "p1"),
                                             Started("ParentWorkflow"))
                    .ok());
    auto task = (*backend)->GetWorkflowTask(
        {}, kLease, absl::Now() + absl::Seconds(5), nullptr);
    ASSERT_TRUE(task.ok() && task->has_value()) << task.status();
    core::WorkflowTaskCompletion completion;
    completion.executed_events = FirstTaskEvents(**task);
    completion.executed_events.push_back(ActivityScheduled(3, "Charge"));
    core::ActivityTaskSpec& activity = completion.activities.emplace_back();
    activity.scheduled_event = completion.executed_events.back();
    activity.queue = "default";
    core::OutboundEvent& subwf = completion.outbound_events.emplace_back();
    subwf.instance_id = "child";
    subwf.execution_id = "c1";
    subwf.event = Started("SubWorkflow");
    v1::WorkflowParent* parent =
        subwf.event.mutable_workflow_execution_started()->mutable_parent();
    parent->set_instance_id("parent");
    parent->set_execution_id("p1");
    parent->set_scheduled_event_id(4);
    ASSERT_TRUE((*backend)->CompleteWorkflowTask(**task, completion).ok());
  }
  RawExec(path, kUndoVersion4);
  RawExec(path,
          "ALTER TABLE instances DROP COLUMN parent; "
          "ALTER TABLE activities DROP COLUMN activity_name; "
          "DROP TABLE workers; "
          "UPDATE durable_schema_version SET version = 2;");

  auto backend = OpenFile(path);
  ASSERT_TRUE(backend.ok()) << backend.status();
  // The child's task names its parent, read from the migrated row.
  auto task = (*backend)->GetWorkflowTask(
      {"default"}, kLease, absl::Now() + absl::Seconds(5), nullptr);
  ASSERT_TRUE(task.ok() && task->has_value()) << task.status();
  EXPECT_EQ((*task)->instance_id, "child");
  EXPECT_EQ((*task)->workflow_name, "SubWorkflow");
  EXPECT_EQ((*task)->parent.instance_id(), "parent");
  EXPECT_EQ((*task)->parent.execution_id(), "p1");
  EXPECT_EQ((*task)->parent.scheduled_event_id(), 4);
  // The activity task is found by its migrated name.
  core::TaskNameFilter someone_else;
  someone_else.restricted = true;
  someone_else.names = {"Other"};
  someone_else.claimed["default"].names = {"Charge"};
  auto skipped = (*backend)->GetActivityTask({"default"}, someone_else, kLease,
                                             absl::Now(), nullptr);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_FALSE(skipped->has_value()) << "another live worker runs Charge";
  core::TaskNameFilter runs_charge = someone_else;
  runs_charge.names = {"Charge"};
  auto leased =
      (*backend)->GetActivityTask({"default"}, runs_charge, kLease,
                                  absl::Now() + absl::Seconds(5), nullptr);
  ASSERT_TRUE(leased.ok() && leased->has_value()) << leased.status();
  EXPECT_EQ((*leased)->scheduled_event.activity_scheduled().activity_name(),
            "Charge");
  // And the worker registry exists.
  v1::WorkerInfo worker;
  worker.set_worker_id("w1");
  EXPECT_TRUE((*backend)->RecordWorker(worker).ok());
}

// A version-3 file listed its instances by rowid, and its cursors hold
// one: after the migration to version 4 the listing keeps its order, a
// cursor handed out before goes on where it stopped, and instances created
// afterwards come in insertion order too.
TEST(SqliteFileTest, VersionThreeListingCursorsStayValid) {
  std::string path = TempPath("old_v3.db");
  {
    auto backend = OpenFile(path);
    ASSERT_TRUE(backend.ok()) << backend.status();
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE((*backend)
                      ->CreateWorkflowInstance(
                          Instance(absl::StrCat("i", i), "e1"), Started("wf"))
                      .ok());
    }
  }
  RawExec(path, kUndoVersion4);
  // Out of insertion order on purpose: rowid, not the id, is the order.
  RawExec(path,
          "UPDATE instances SET created_at = 1000; "
          "UPDATE instances SET rowid = rowid + 10 WHERE instance_id = 'i0';");
  // What version 3 handed out after a first page of one: i0 (newest by
  // rowid) at "<created_at>:<rowid>".
  const std::string cursor =
      absl::StrCat("1000:", RawCount(path,
                                     "SELECT rowid FROM instances "
                                     "WHERE instance_id = 'i0'"));
  auto backend = OpenFile(path);
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto first = (*backend)->ListWorkflowInstances("", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->instances.size(), 1u);
  EXPECT_EQ(first->instances[0].instance_id(), "i0");
  EXPECT_EQ(first->next_cursor, cursor);
  auto rest = (*backend)->ListWorkflowInstances(cursor, 10);
  ASSERT_TRUE(rest.ok()) << rest.status();
  std::vector<std::string> ids;
  for (const auto& state : rest->instances) ids.push_back(state.instance_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"i3", "i2", "i1"}));
  // A new instance in the same microsecond lists after (newer than) them all.
  ASSERT_TRUE((*backend)
                  ->CreateWorkflowInstance(Instance("i4", "e1"), Started("wf"))
                  .ok());
  RawExec(path, "UPDATE instances SET created_at = 1000");
  auto all = (*backend)->ListWorkflowInstances("", 10);
  ASSERT_TRUE(all.ok()) << all.status();
  ids.clear();
  for (const auto& state : all->instances) ids.push_back(state.instance_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"i4", "i0", "i3", "i2", "i1"}));
}

TEST(SqliteFileTest, EmptyPathIsInvalid) {
  EXPECT_EQ(OpenFile("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SqliteFileTest, PathsThatCannotHoldADatabaseSaySo) {
  const std::string missing = TempPath("no/such/dir/x.db");
  absl::Status status = OpenFile(missing).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(),
              HasSubstr("directory \"" + TempPath("no/such/dir") +
                        "\" does not exist"));

  const std::string link = TempPath("dangling.db");
  ASSERT_EQ(symlink(TempPath("gone/target.db").c_str(), link.c_str()), 0);
  status = OpenFile(link).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("is a symbolic link to \"" +
                                          TempPath("gone/target.db") +
                                          "\", which does not exist"));

  status = OpenFile(TempPath(std::string(300, 'n') + ".db")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("has a name of 303 bytes"));
  status = OpenFile("/" + std::string(5000, 'p')).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("5001 bytes long"));
}

TEST(SqliteFileTest, UnwritableDirectoryIsPermissionDenied) {
  if (geteuid() == 0) {
    GTEST_SKIP() << "running as root, which may write to any directory, so "
                    "an unwritable directory cannot be made here";
  }
  const std::string dir = TempPath("locked");
  ASSERT_EQ(mkdir(dir.c_str(), 0555), 0);
  absl::Status status = OpenFile(dir + "/x.db").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_THAT(status.message(), HasSubstr("is not writable"));
}

TEST(SqliteFileTest, TruncatedDatabaseIsDamagedNotForeign) {
  const std::string path = TempPath("truncated.db");
  {
    auto backend = OpenFile(path);
    ASSERT_TRUE(backend.ok()) << backend.status();
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE((*backend)
                      ->CreateWorkflowInstance(
                          Instance(absl::StrCat("i", i), "e"), Started("wf"))
                      .ok());
    }
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  ASSERT_GT(st.st_size, 8 * 4096) << "the test needs a file of many pages";
  ASSERT_EQ(truncate(path.c_str(), 4096 * 2), 0);
  absl::Status status = OpenFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("is damaged (truncated or corrupt)"));
}

TEST(SqliteFileTest, BadSchemaVersionValuesAreRefusedNotRewritten) {
  for (const char* damage :
       {"UPDATE durable_schema_version SET version = 0",
        "UPDATE durable_schema_version SET version = -1",
        "UPDATE durable_schema_version SET version = 'two'",
        "UPDATE durable_schema_version SET version = 2.5",
        "DELETE FROM durable_schema_version",
        "INSERT INTO durable_schema_version (version) VALUES (1)"}) {
    SCOPED_TRACE(damage);
    const std::string path = TempPath(
        absl::StrCat("version-", std::hash<std::string>()(damage), ".db"));
    ASSERT_TRUE(OpenFile(path).ok());
    RawExec(path, damage);
    absl::Status status = OpenFile(path).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_THAT(status.message(),
                HasSubstr("in durable_schema_version (expected one positive "
                          "integer); refusing to modify it"));
    // Refused, not rewritten: opening again says the same.
    EXPECT_EQ(OpenFile(path).status().message(), status.message());
  }
}

}  // namespace
}  // namespace durable::backends::sqlite
