// What is the MySQL store's own business, on a private MariaDB: a lock
// wait timeout injected by a second connection holding a row lock is
// retried transparently, and connections the server killed are replaced.
// The contract every store keeps is mysql_contract_test.
#include "backends/mysql/mysql_store.h"

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/conformance/history_events.h"
#include "backends/mysql/test_database.h"
#include "gtest/gtest.h"
#include "testing/servers/mariadb_server.h"
#include "testing/servers/shared_server.h"

namespace durable::backends::mysql {
namespace {

using ::durable::testing::Instance;
using ::durable::testing::Started;
using ::durable::testing::TaskEvents;

constexpr absl::Duration kLease = absl::Seconds(30);

std::unique_ptr<Connection> Open(const ConnectOptions& options) {
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return connection.ok() ? *std::move(connection) : nullptr;
}

// A store whose lock waits time out after one second (the server's
// default is 50).
std::unique_ptr<MysqlStore> OpenStore(const ConnectOptions& database) {
  MysqlOptions options;
  options.connect = database;
  options.connect.init_statements.push_back(
      "SET SESSION innodb_lock_wait_timeout = 1");
  absl::StatusOr<std::unique_ptr<MysqlStore>> store = MysqlStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

TEST(MysqlStoreTest, LockWaitTimeoutIsRetriedTransparently) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  std::unique_ptr<MysqlStore> store = OpenStore(*database);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->CreateWorkflowInstance(Instance("i1", "e1"), Started("wf", "", {}))
          .ok());
  absl::StatusOr<std::optional<core::WorkflowTask>> task =
      store->GetWorkflowTask({}, kLease, absl::Now() + absl::Seconds(10),
                             nullptr);
  ASSERT_TRUE(task.ok() && task->has_value()) << task.status();

  // A second connection locks the execution's row, longer than one lock
  // wait timeout.
  std::unique_ptr<Connection> holder = Open(*database);
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(holder->Begin(sql::TransactionMode::kWrite).ok());
  {
    absl::StatusOr<sql::Statement> lock = holder->Prepare(
        "SELECT state FROM instances WHERE instance_id = ?1 FOR UPDATE");
    ASSERT_TRUE(lock.ok()) << lock.status();
    ASSERT_TRUE(lock->BindText(1, "i1").Step().ok());
  }
  std::thread release([&] {
    absl::SleepFor(absl::Milliseconds(2500));
    EXPECT_TRUE(holder->Rollback().ok());
  });
  core::WorkflowTaskCompletion completion;
  completion.executed_events = TaskEvents(**task);
  const absl::Status completed =
      store->CompleteWorkflowTask(**task, completion);
  release.join();
  EXPECT_TRUE(completed.ok()) << completed;
  EXPECT_GE(store->retried_transactions(), 1)
      << "the row lock should have timed out at least one attempt";
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      store->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), completion.executed_events.size());
}

TEST(MysqlStoreTest, KilledConnectionsAreReplaced) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  std::unique_ptr<MysqlStore> store = OpenStore(*database);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->GetStats().ok());
  // The server kills every connection to this database but the admin's.
  std::unique_ptr<Connection> admin = Open(*database);
  ASSERT_NE(admin, nullptr);
  std::vector<int64_t> victims;
  {
    absl::StatusOr<sql::Statement> list = admin->Prepare(
        "SELECT id FROM information_schema.processlist "
        "WHERE db = ?1 AND id <> CONNECTION_ID()");
    ASSERT_TRUE(list.ok()) << list.status();
    list->BindText(1, database->database);
    while (true) {
      absl::StatusOr<bool> row = list->Step();
      ASSERT_TRUE(row.ok()) << row.status();
      if (!*row) break;
      victims.push_back(list->ColumnInt64(0));
    }
  }
  ASSERT_FALSE(victims.empty());
  for (int64_t id : victims) {
    ASSERT_TRUE(admin->Exec(absl::StrCat("KILL CONNECTION ", id)).ok());
  }
  // The first use of a killed connection may fail (UNAVAILABLE); it is
  // closed and the next call opens a new one.
  absl::Status first = store->CreateWorkflowInstance(Instance("i1", "e1"),
                                                     Started("wf", "", {}));
  if (!first.ok()) {
    EXPECT_TRUE(absl::IsUnavailable(first)) << first;
    first = store->CreateWorkflowInstance(Instance("i1", "e1"),
                                          Started("wf", "", {}));
  }
  EXPECT_TRUE(first.ok()) << first;
  absl::StatusOr<v1::WorkflowInstanceState> state =
      store->GetWorkflowInstanceState("i1");
  EXPECT_TRUE(state.ok()) << state.status();
}

// Another process's commit cannot bump this process's notifier; a blocked
// poller finds it by its re-check. Two stores reach the same database by
// different addresses (TCP and the Unix socket), so they share no notifier,
// as if in two processes.
TEST(MysqlStoreTest, PollerSeesWorkCommittedElsewhereByItsRecheck) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  std::unique_ptr<MysqlStore> poller = OpenStore(*database);
  ASSERT_NE(poller, nullptr);
  absl::StatusOr<testing::MariaDbServer*> server =
      testing::SharedServer<testing::MariaDbServer>::Get();
  ASSERT_TRUE(server.ok()) << server.status();
  ConnectOptions by_socket = *database;
  by_socket.unix_socket = (*server)->socket_path();
  std::unique_ptr<MysqlStore> other = OpenStore(by_socket);
  ASSERT_NE(other, nullptr);
  std::thread creator([&] {
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_TRUE(other
                    ->CreateWorkflowInstance(Instance("i1", "e1"),
                                             Started("wf", "", {}))
                    .ok());
  });
  absl::StatusOr<std::optional<core::WorkflowTask>> task =
      poller->GetWorkflowTask({}, kLease, absl::Now() + absl::Seconds(20),
                              nullptr);
  creator.join();
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE(task->has_value());
  EXPECT_EQ((*task)->instance_id, "i1");
}

}  // namespace
}  // namespace durable::backends::mysql
