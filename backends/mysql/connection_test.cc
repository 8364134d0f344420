// The MariaDB driver against the contract of backends/sql (connection.h,
// statement.h, transaction.h), on a private mariadbd started for this binary.
#include "backends/mysql/connection.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backends/sql/dialect.h"
#include "backends/sql/statement.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/servers/free_port.h"
#include "testing/servers/mariadb_server.h"
#include "testing/servers/shared_server.h"

namespace durable::backends::mysql {
namespace {

using sql::ValueType;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using testing::MariaDbServer;
using testing::SharedServer;

ConnectOptions ServerOptions() {
  absl::StatusOr<MariaDbServer*> server = SharedServer<MariaDbServer>::Get();
  EXPECT_TRUE(server.ok()) << server.status();
  ConnectOptions options;
  if (!server.ok()) return options;
  options.port = (*server)->port();
  options.user = MariaDbServer::kUser;
  options.database = MariaDbServer::kDatabase;
  return options;
}

std::unique_ptr<Connection> Open(const ConnectOptions& options) {
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return connection.ok() ? *std::move(connection) : nullptr;
}

// A connection and a fresh table `table` (k key text, i bigint, b blob) of
// the dialect's column types, named after the test so tests sharing the
// server never meet.
std::unique_ptr<Connection> OpenWithTable(absl::string_view table) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  if (db == nullptr) return nullptr;
  const sql::Dialect& dialect = db->dialect();
  EXPECT_TRUE(db->Exec(absl::StrCat("DROP TABLE IF EXISTS ", table)).ok());
  absl::Status created = db->Exec(absl::StrCat(
      "CREATE TABLE ", table, " (k ", dialect.key_text_type, " PRIMARY KEY, i ",
      dialect.bigint_type, ", b ", dialect.blob_type, ") ENGINE=InnoDB"));
  EXPECT_TRUE(created.ok()) << created;
  return db;
}

TEST(MysqlConnectionTest, SpeaksTheMysqlDialect) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->dialect().name, "mysql");
}

TEST(MysqlConnectionTest, ValuesRoundTripWithTheirTypes) {
  std::unique_ptr<Connection> db = OpenWithTable("t_values");
  ASSERT_NE(db, nullptr);
  const std::string text_with_nul("a\0b", 3);
  const std::string blob("\x00\xff\x01", 3);
  {
    absl::StatusOr<Statement> insert =
        db->Prepare("INSERT INTO t_values (k, i, b) VALUES (?1, ?2, ?3)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    ASSERT_TRUE(insert->BindText(1, text_with_nul)
                    .BindInt64(2, std::numeric_limits<int64_t>::min())
                    .BindBlob(3, blob)
                    .Run()
                    .ok());
    EXPECT_EQ(db->Changes(), 1);
  }
  {
    absl::StatusOr<Statement> insert =
        db->Prepare("INSERT INTO t_values (k, i, b) VALUES (?1, ?2, ?3)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    // An empty blob is a blob, not NULL.
    ASSERT_TRUE(
        insert->BindText(1, "z").BindNull(2).BindBlob(3, "").Run().ok());
  }
  absl::StatusOr<Statement> rows =
      db->Prepare("SELECT k, i, b, 2.5 FROM t_values ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->ColumnType(0), ValueType::kText);
  EXPECT_EQ(rows->ColumnText(0), text_with_nul);
  EXPECT_EQ(rows->ColumnType(1), ValueType::kInteger);
  EXPECT_EQ(rows->ColumnInt64(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(rows->ColumnText(1), "-9223372036854775808");
  EXPECT_EQ(rows->ColumnType(2), ValueType::kBlob);
  EXPECT_EQ(rows->ColumnBlob(2), blob);
  EXPECT_EQ(rows->ColumnBlobView(2), blob);
  EXPECT_EQ(rows->ColumnType(3), ValueType::kReal);
  EXPECT_EQ(rows->ColumnText(3), "2.5");
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->ColumnText(0), "z");
  EXPECT_TRUE(rows->ColumnIsNull(1));
  EXPECT_EQ(rows->ColumnInt64(1), 0);
  EXPECT_EQ(rows->ColumnText(1), "");
  EXPECT_FALSE(rows->ColumnIsNull(2));
  EXPECT_EQ(rows->ColumnType(2), ValueType::kBlob);
  EXPECT_EQ(rows->ColumnBlob(2), "");
  EXPECT_FALSE(*rows->Step());
}

// Values larger than a column's buffer are read whole, in any order of
// sizes, and the next execution of the statement reads them again.
TEST(MysqlConnectionTest, LargeValuesAreReadWhole) {
  std::unique_ptr<Connection> db = OpenWithTable("t_large");
  ASSERT_NE(db, nullptr);
  const int sizes[] = {10, 300, 5, 70000, 2 << 20, 1};
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<Statement> insert =
        db->Prepare("INSERT INTO t_large (k, b) VALUES (?1, ?2)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    ASSERT_TRUE(insert->BindText(1, absl::StrCat("k", i))
                    .BindBlob(2, std::string(sizes[i], 'a' + i))
                    .Run()
                    .ok());
  }
  for (int pass = 0; pass < 2; ++pass) {
    absl::StatusOr<Statement> rows =
        db->Prepare("SELECT k, b FROM t_large ORDER BY k");
    ASSERT_TRUE(rows.ok()) << rows.status();
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(*rows->Step());
      EXPECT_EQ(rows->ColumnText(0), absl::StrCat("k", i));
      EXPECT_EQ(rows->ColumnBlobView(1), std::string(sizes[i], 'a' + i))
          << "row " << i << " of pass " << pass;
    }
    EXPECT_FALSE(*rows->Step());
  }
}

TEST(MysqlConnectionTest, StatementsAreCachedAndStartClean) {
  std::unique_ptr<Connection> db = OpenWithTable("t_cache");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      db->Exec("INSERT INTO t_cache (k, i) VALUES ('a', 1), ('b', 2)").ok());
  // ?1 twice: the driver binds both positions from one value.
  constexpr char kSelect[] = "SELECT i FROM t_cache WHERE k = ?1 OR ?1 IS NULL";
  {
    absl::StatusOr<Statement> first = db->Prepare(kSelect);
    ASSERT_TRUE(first.ok()) << first.status();
    first->BindText(1, "b");
    ASSERT_TRUE(*first->Step());
    EXPECT_EQ(first->ColumnInt64(0), 2);
    EXPECT_FALSE(*first->Step());
    absl::StatusOr<Statement> second = db->Prepare(kSelect);
    EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  // The same statement again, its binding cleared (NULL matches all rows).
  absl::StatusOr<Statement> again = db->Prepare(kSelect);
  ASSERT_TRUE(again.ok()) << again.status();
  int rows = 0;
  while (*again->Step()) ++rows;
  EXPECT_EQ(rows, 2);
}

// Results are buffered: other statements run while one is being read.
TEST(MysqlConnectionTest, StatementsRunWhileAnotherIsRead) {
  std::unique_ptr<Connection> db = OpenWithTable("t_interleave");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("INSERT INTO t_interleave (k, i) VALUES "
                       "('a', 1), ('b', 2), ('c', 3)")
                  .ok());
  absl::StatusOr<Statement> rows =
      db->Prepare("SELECT k, i FROM t_interleave ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.status();
  int seen = 0;
  while (*rows->Step()) {
    absl::StatusOr<Statement> update =
        db->Prepare("UPDATE t_interleave SET i = ?2 WHERE k = ?1");
    ASSERT_TRUE(update.ok()) << update.status();
    ASSERT_TRUE(update->BindText(1, rows->ColumnText(0))
                    .BindInt64(2, rows->ColumnInt64(1) * 10)
                    .Run()
                    .ok());
    ++seen;
  }
  EXPECT_EQ(seen, 3);
  absl::StatusOr<Statement> sum =
      db->Prepare("SELECT SUM(i) FROM t_interleave");
  ASSERT_TRUE(sum.ok() && *sum->Step());
  EXPECT_EQ(sum->ColumnInt64(0), 60);
}

TEST(MysqlConnectionTest, BindFailuresSurfaceAtStep) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  ASSERT_NE(db, nullptr);
  absl::StatusOr<Statement> stmt = db->Prepare("SELECT ?1");
  ASSERT_TRUE(stmt.ok()) << stmt.status();
  stmt->BindInt64(1, 1).BindText(7, "out of range").BindInt64(1, 2);
  absl::StatusOr<bool> row = stmt->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_THAT(row.status().message(),
              HasSubstr("binding parameter 7 of \"SELECT ?\""));
  EXPECT_EQ(stmt->Run().code(), row.status().code());
}

TEST(MysqlConnectionTest, PrepareRefusesWhatIsNotNeutral) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  ASSERT_NE(db, nullptr);
  for (const char* sql : {"SELECT ?", "SELECT $1", "SELECT ?2"}) {
    SCOPED_TRACE(sql);
    EXPECT_EQ(db->Prepare(sql).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  absl::Status syntax = db->Prepare("SELEKT 1").status();
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(syntax.message(), HasSubstr("preparing \"SELEKT 1\""));
  EXPECT_THAT(syntax.message(), HasSubstr("mysql error 1064"));
}

TEST(MysqlConnectionTest, ConstraintViolationIsAlreadyExists) {
  std::unique_ptr<Connection> db = OpenWithTable("t_unique");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("INSERT INTO t_unique (k) VALUES ('a')").ok());
  absl::StatusOr<Statement> insert =
      db->Prepare("INSERT INTO t_unique (k) VALUES (?1)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  absl::Status status = insert->BindText(1, "a").Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("Duplicate entry"));
}

// CLIENT_FOUND_ROWS: an UPDATE that writes a row's own values counts it, so
// "did this update find its row" reads the same on every database.
TEST(MysqlConnectionTest, ChangesCountMatchedRows) {
  std::unique_ptr<Connection> db = OpenWithTable("t_changes");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      db->Exec("INSERT INTO t_changes (k, i) VALUES ('a', 1), ('b', 1)").ok());
  const int64_t before = db->TotalChanges();
  absl::StatusOr<Statement> update =
      db->Prepare("UPDATE t_changes SET i = ?2 WHERE k = ?1");
  ASSERT_TRUE(update.ok());
  ASSERT_TRUE(update->BindText(1, "a").BindInt64(2, 1).Run().ok());
  EXPECT_EQ(db->Changes(), 1);
  EXPECT_EQ(db->TotalChanges() - before, 1);
  // A SELECT leaves Changes() alone.
  ASSERT_TRUE(db->Exec("SELECT * FROM t_changes").ok());
  EXPECT_EQ(db->Changes(), 1);
  ASSERT_TRUE(db->Exec("UPDATE t_changes SET i = 5 WHERE k = 'none'").ok());
  EXPECT_EQ(db->Changes(), 0);
}

TEST(MysqlConnectionTest, TransactionsCommitOrRollBack) {
  std::unique_ptr<Connection> db = OpenWithTable("t_txn");
  ASSERT_NE(db, nullptr);
  EXPECT_FALSE(db->InTransaction());
  {
    absl::StatusOr<Transaction> txn =
        Transaction::Begin(db.get(), Transaction::Mode::kWrite);
    ASSERT_TRUE(txn.ok()) << txn.status();
    EXPECT_TRUE(db->InTransaction());
    ASSERT_TRUE(db->Exec("INSERT INTO t_txn (k) VALUES ('dropped')").ok());
  }  // Rolled back.
  EXPECT_FALSE(db->InTransaction());
  const int64_t before = db->TotalChanges();
  {
    absl::StatusOr<Transaction> txn =
        Transaction::Begin(db.get(), Transaction::Mode::kWrite);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t_txn (k) VALUES ('kept')").ok());
    ASSERT_TRUE(db->Savepoint("task").ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t_txn (k) VALUES ('undone')").ok());
    ASSERT_TRUE(db->RollbackToSavepoint("task").ok());
    ASSERT_TRUE(db->ReleaseSavepoint("task").ok());
    ASSERT_TRUE(db->Savepoint("task").ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t_txn (k) VALUES ('released')").ok());
    ASSERT_TRUE(db->ReleaseSavepoint("task").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(db->TotalChanges() - before, 3);
  absl::StatusOr<Statement> keys =
      db->Prepare("SELECT GROUP_CONCAT(k ORDER BY k) FROM t_txn");
  ASSERT_TRUE(keys.ok() && *keys->Step());
  EXPECT_EQ(keys->ColumnText(0), "kept,released");
  // A read transaction refuses writes.
  absl::StatusOr<Transaction> read =
      Transaction::Begin(db.get(), Transaction::Mode::kRead);
  ASSERT_TRUE(read.ok());
  absl::Status write = db->Exec("INSERT INTO t_txn (k) VALUES ('no')");
  EXPECT_FALSE(write.ok());
  EXPECT_THAT(write.message(), HasSubstr("READ ONLY"));
}

// Two transactions that each wait for the other's row: the server picks a
// victim, whose transaction is gone (ABORTED, no longer in a transaction);
// the other one goes on.
TEST(MysqlConnectionTest, DeadlockIsAbortedAndEndsTheTransaction) {
  std::unique_ptr<Connection> setup = OpenWithTable("t_deadlock");
  ASSERT_NE(setup, nullptr);
  ASSERT_TRUE(
      setup->Exec("INSERT INTO t_deadlock (k, i) VALUES ('x', 0), ('y', 0)")
          .ok());
  std::unique_ptr<Connection> a = Open(ServerOptions());
  std::unique_ptr<Connection> b = Open(ServerOptions());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Begin(sql::TransactionMode::kWrite).ok());
  ASSERT_TRUE(b->Begin(sql::TransactionMode::kWrite).ok());
  ASSERT_TRUE(a->Exec("UPDATE t_deadlock SET i = 1 WHERE k = 'x'").ok());
  ASSERT_TRUE(b->Exec("UPDATE t_deadlock SET i = 2 WHERE k = 'y'").ok());
  absl::Status a_second;
  std::thread a_waits(
      [&] { a_second = a->Exec("UPDATE t_deadlock SET i = 1 WHERE k = 'y'"); });
  // Let a's statement reach its lock wait; if b comes first, a is the one
  // that closes the cycle instead. Either way exactly one is the victim.
  absl::SleepFor(absl::Milliseconds(200));
  absl::Status b_second = b->Exec("UPDATE t_deadlock SET i = 2 WHERE k = 'x'");
  if (b_second.ok()) {
    // b got past: a was the victim. Release b so that nothing waits.
    a_waits.join();
    EXPECT_TRUE(b->InTransaction());
    ASSERT_TRUE(b->Commit().ok());
    EXPECT_EQ(a_second.code(), absl::StatusCode::kAborted) << a_second;
    EXPECT_THAT(a_second.message(), HasSubstr("mysql error 1213"));
    EXPECT_FALSE(a->InTransaction());
  } else {
    EXPECT_EQ(b_second.code(), absl::StatusCode::kAborted) << b_second;
    EXPECT_THAT(b_second.message(), HasSubstr("mysql error 1213"));
    EXPECT_FALSE(b->InTransaction());
    a_waits.join();  // b's locks are gone with its transaction.
    EXPECT_TRUE(a_second.ok()) << a_second;
    EXPECT_TRUE(a->InTransaction());
    ASSERT_TRUE(a->Commit().ok());
  }
}

// A lock wait timeout gives up the statement, not the transaction.
TEST(MysqlConnectionTest, LockWaitTimeoutIsAborted) {
  std::unique_ptr<Connection> setup = OpenWithTable("t_lock_wait");
  ASSERT_NE(setup, nullptr);
  ASSERT_TRUE(
      setup->Exec("INSERT INTO t_lock_wait (k, i) VALUES ('x', 0)").ok());
  ConnectOptions impatient = ServerOptions();
  impatient.init_statements = {"SET SESSION innodb_lock_wait_timeout = 1"};
  std::unique_ptr<Connection> holder = Open(ServerOptions());
  std::unique_ptr<Connection> waiter = Open(impatient);
  ASSERT_NE(holder, nullptr);
  ASSERT_NE(waiter, nullptr);
  ASSERT_TRUE(holder->Begin(sql::TransactionMode::kWrite).ok());
  ASSERT_TRUE(holder->Exec("UPDATE t_lock_wait SET i = 1 WHERE k = 'x'").ok());
  ASSERT_TRUE(waiter->Begin(sql::TransactionMode::kWrite).ok());
  absl::Status waited =
      waiter->Exec("UPDATE t_lock_wait SET i = 2 WHERE k = 'x'");
  EXPECT_EQ(waited.code(), absl::StatusCode::kAborted) << waited;
  EXPECT_THAT(waited.message(), HasSubstr("mysql error 1205"));
  EXPECT_TRUE(waiter->InTransaction());
  ASSERT_TRUE(waiter->Rollback().ok());
  ASSERT_TRUE(holder->Rollback().ok());
}

// A connection the server dropped is UNAVAILABLE, with its transaction gone.
TEST(MysqlConnectionTest, KilledConnectionIsUnavailable) {
  std::unique_ptr<Connection> victim = Open(ServerOptions());
  std::unique_ptr<Connection> admin = Open(ServerOptions());
  ASSERT_NE(victim, nullptr);
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(victim->Begin(sql::TransactionMode::kRead).ok());
  ASSERT_TRUE(
      admin->Exec(absl::StrCat("KILL ", mysql_thread_id(victim->mysql())))
          .ok());
  absl::StatusOr<Statement> select = victim->Prepare("SELECT 1");
  absl::Status lost = select.ok() ? select->Run() : select.status();
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  EXPECT_FALSE(victim->InTransaction());
}

TEST(MysqlConnectionTest, UnreachableServerNamesHostAndPort) {
  absl::StatusOr<int> port = testing::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  ConnectOptions options;
  options.port = *port;  // Nothing listens there.
  options.user = "root";
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(connection.status().message(),
              HasSubstr(absl::StrCat("127.0.0.1:", *port)));
}

TEST(MysqlConnectionTest, WrongPasswordIsPermissionDenied) {
  std::unique_ptr<Connection> admin = Open(ServerOptions());
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin
                  ->Exec("CREATE USER IF NOT EXISTS 'durable_pw'@'127.0.0.1' "
                         "IDENTIFIED BY 'right'")
                  .ok());
  ConnectOptions options = ServerOptions();
  options.user = "durable_pw";
  options.password = "wrong";
  options.database.clear();
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kPermissionDenied)
      << connection.status();
  EXPECT_THAT(connection.status().message(), HasSubstr("'durable_pw'"));
  EXPECT_THAT(connection.status().message(),
              AnyOf(HasSubstr("mysql error 1045"), HasSubstr("1698")));
  options.password = "right";
  EXPECT_TRUE(Connection::Open(options).ok());
}

}  // namespace
}  // namespace durable::backends::mysql
