// One unreadable row fails its own instance or activity, never a queue: an
// inbox entry, an activity's scheduled event and a history that does not
// add up (an extra row, a wrong length, renumbered event ids) each fail
// exactly the instance (HistoryCorrupted) or activity (ActivityTaskCorrupted)
// they belong to, at once and for good, while every other instance on the
// same queue finishes normally, across a worker restart.
#include <sqlite3.h>

#include <cstdlib>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/registry.h"
#include "durable/signal_channel.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(30);

std::string Echo(ActivityContext& ctx, std::string text) { return text; }

// Waits for "go", then echoes its own name through an activity.
Task<absl::StatusOr<std::string>> WaitThenEcho(WorkflowContext& ctx,
                                               std::string name) {
  absl::StatusOr<std::string> go =
      co_await ctx.SignalChannel<std::string>("go").Receive();
  if (!go.ok()) co_return go.status();
  co_return co_await ctx.ExecuteActivity<std::string>("Echo", name);
}

// Runs `sql` on the database file through a connection of its own.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
  EXPECT_GT(sqlite3_changes(db), 0) << "nothing damaged by: " << sql;
  sqlite3_free(error);
  sqlite3_close(db);
}

bool WaitUntil(const std::function<bool()>& done) {
  for (absl::Time deadline = absl::Now() + kTimeout; absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(10))) {
    if (done()) return true;
  }
  return done();
}

bool HistoryHas(Client& client, const std::string& id,
                bool (v1::HistoryEvent::*has)() const) {
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      client.GetWorkflowHistory(id);
  if (!history.ok()) return false;
  for (const v1::HistoryEvent& event : *history) {
    if ((event.*has)()) return true;
  }
  return false;
}

TEST(SqliteDamagedRowsTest, ABadRowFailsOnlyItsOwnInstanceOrActivity) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string path = absl::StrCat(tmp, "/damaged.db");
  absl::StatusOr<Backend> backend = Backend::Open("sqlite://" + path);
  ASSERT_TRUE(backend.ok()) << backend.status();
  Registry registry;
  ASSERT_TRUE(registry.RegisterWorkflow("WaitThenEcho", WaitThenEcho).ok());
  ASSERT_TRUE(registry.RegisterActivity("Echo", Echo).ok());
  Client client(*backend, &registry);
  const std::vector<std::string> ids = {"inbox",     "activity", "healthy",
                                        "extra-row", "length",   "renumbered"};
  for (const std::string& id : ids) {
    ASSERT_TRUE(
        client.CreateWorkflowInstance({.instance_id = id}, "WaitThenEcho", id)
            .ok());
  }
  for (const char* id : {"inbox", "activity", "healthy"}) {
    ASSERT_TRUE(client.SignalWorkflow(id, "go", std::string("now")).ok());
  }
  // The signal to "inbox" cannot be read back any more.
  RawExec(path,
          "UPDATE inbox SET event = x'ffff' WHERE id = (SELECT max(id) FROM "
          "inbox WHERE instance_id = 'inbox')");

  {
    // Workflows only: the activities wait in their queue.
    WorkerOptions workflows_only;
    workflows_only.activity_pollers = 0;
    Worker worker(*backend, registry, workflows_only);
    ASSERT_TRUE(worker.Start().ok());
    ASSERT_TRUE(WaitUntil([&] {
      return HistoryHas(client, "activity",
                        &v1::HistoryEvent::has_activity_scheduled) &&
             HistoryHas(client, "healthy",
                        &v1::HistoryEvent::has_activity_scheduled) &&
             HistoryHas(client, "extra-row",
                        &v1::HistoryEvent::has_workflow_task_started) &&
             HistoryHas(client, "length",
                        &v1::HistoryEvent::has_workflow_task_started) &&
             HistoryHas(client, "renumbered",
                        &v1::HistoryEvent::has_workflow_task_started);
    }));
    absl::StatusOr<std::string> inbox =
        client.GetWorkflowResult<std::string>("inbox", kTimeout);
    ASSERT_FALSE(inbox.ok());
    EXPECT_EQ(FailureType(inbox.status()), "HistoryCorrupted");
    EXPECT_THAT(std::string(inbox.status().message()),
                HasSubstr("cannot be decoded"));
    ASSERT_TRUE(worker.Stop().ok());
  }

  // Damage the rest while no worker runs.
  RawExec(path,
          "UPDATE activities SET scheduled_event = x'ffff' "
          "WHERE instance_id = 'activity'");
  RawExec(path,
          "INSERT INTO history (instance_id, execution_id, event_id, event) "
          "SELECT instance_id, execution_id, event_id + 1000, event "
          "FROM history WHERE instance_id = 'extra-row' AND event_id = 1");
  RawExec(path,
          "UPDATE instances SET history_length = history_length + 1 "
          "WHERE instance_id = 'length'");
  RawExec(path,
          "UPDATE history SET event_id = event_id + 1000 "
          "WHERE instance_id = 'renumbered'");
  for (const char* id : {"extra-row", "length", "renumbered"}) {
    ASSERT_TRUE(client.SignalWorkflow(id, "go", std::string("now")).ok());
  }

  // A restarted worker, replaying every run from history.
  WorkerOptions options;
  options.max_cached_workflows = 0;
  Worker worker(*backend, registry, options);
  ASSERT_TRUE(worker.Start().ok());
  absl::StatusOr<std::string> healthy =
      client.GetWorkflowResult<std::string>("healthy", kTimeout);
  ASSERT_TRUE(healthy.ok()) << healthy.status();
  EXPECT_EQ(*healthy, "healthy");

  absl::StatusOr<std::string> activity =
      client.GetWorkflowResult<std::string>("activity", kTimeout);
  ASSERT_FALSE(activity.ok());
  EXPECT_EQ(FailureType(activity.status()), "ActivityTaskCorrupted")
      << activity.status();
  EXPECT_THAT(std::string(activity.status().message()),
              HasSubstr("its scheduled event cannot be decoded"));

  for (const char* id : {"extra-row", "length", "renumbered"}) {
    SCOPED_TRACE(id);
    absl::StatusOr<std::string> result =
        client.GetWorkflowResult<std::string>(id, kTimeout);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(FailureType(result.status()), "HistoryCorrupted")
        << result.status();
  }

  // Work created after all that runs as usual.
  ASSERT_TRUE(client
                  .CreateWorkflowInstance({.instance_id = "later"},
                                          "WaitThenEcho", std::string("later"))
                  .ok());
  ASSERT_TRUE(client.SignalWorkflow("later", "go", std::string("now")).ok());
  absl::StatusOr<std::string> later =
      client.GetWorkflowResult<std::string>("later", kTimeout);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(*later, "later");
  ASSERT_TRUE(worker.Stop().ok());
}

}  // namespace
}  // namespace durable
