// The PostgreSQL driver against the contract of backends/sql (connection.h,
// statement.h, transaction.h), on a private postgres started for this
// binary.
#include "backends/postgres/connection.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/sql/dialect.h"
#include "backends/sql/statement.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/servers/free_port.h"
#include "testing/servers/postgres_server.h"
#include "testing/servers/shared_server.h"

namespace durable::backends::postgres {
namespace {

using sql::ValueType;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using testing::PostgresServer;
using testing::SharedServer;

ConnectOptions ServerOptions() {
  absl::StatusOr<PostgresServer*> server = SharedServer<PostgresServer>::Get();
  EXPECT_TRUE(server.ok()) << server.status();
  ConnectOptions options;
  if (!server.ok()) return options;
  options.port = (*server)->port();
  options.user = PostgresServer::kUser;
  options.database = PostgresServer::kDatabase;
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
      dialect.bigint_type, ", b ", dialect.blob_type, ")"));
  EXPECT_TRUE(created.ok()) << created;
  return db;
}

TEST(PostgresConnectionTest, SpeaksThePostgresDialect) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->dialect().name, "postgres");
}

TEST(PostgresConnectionTest, ValuesRoundTripWithTheirTypes) {
  std::unique_ptr<Connection> db = OpenWithTable("t_values");
  ASSERT_NE(db, nullptr);
  const std::string blob("\x00\xff\x01", 3);
  {
    absl::StatusOr<Statement> insert =
        db->Prepare("INSERT INTO t_values (k, i, b) VALUES (?1, ?2, ?3)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    ASSERT_TRUE(insert->BindText(1, "a\xc3\xa9")
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
    absl::Status inserted =
        insert->BindText(1, "z").BindNull(2).BindBlob(3, "").Run();
    ASSERT_TRUE(inserted.ok()) << inserted;
  }
  absl::StatusOr<Statement> rows = db->Prepare(
      "SELECT k, i, b, 2.5, 1, SUM(i) OVER () FROM t_values ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.status();
  absl::StatusOr<bool> row = rows->Step();
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_TRUE(*row);
  EXPECT_EQ(rows->ColumnType(0), ValueType::kText);
  EXPECT_EQ(rows->ColumnText(0), "a\xc3\xa9");
  EXPECT_EQ(rows->ColumnType(1), ValueType::kInteger);
  EXPECT_EQ(rows->ColumnInt64(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(rows->ColumnText(1), "-9223372036854775808");
  EXPECT_EQ(rows->ColumnType(2), ValueType::kBlob);
  EXPECT_EQ(rows->ColumnBlob(2), blob);
  EXPECT_EQ(rows->ColumnBlobView(2), blob);
  EXPECT_EQ(rows->ColumnType(3), ValueType::kReal);
  EXPECT_EQ(rows->ColumnText(3), "2.5");
  EXPECT_EQ(rows->ColumnType(4), ValueType::kInteger);  // int4
  EXPECT_EQ(rows->ColumnInt64(4), 1);
  // SUM of bigints is a numeric: readable as an integer all the same.
  EXPECT_EQ(rows->ColumnType(5), ValueType::kReal);
  EXPECT_EQ(rows->ColumnInt64(5), std::numeric_limits<int64_t>::min());
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

// Numerics of every shape read as their decimal text.
TEST(PostgresConnectionTest, NumericsReadAsDecimalText) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  ASSERT_NE(db, nullptr);
  absl::StatusOr<Statement> rows = db->Prepare(
      "SELECT 0::numeric, -12345678.9012::numeric, 0.00042::numeric, "
      "100000000::numeric, 1.5::float8, 'NaN'::numeric");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->ColumnText(0), "0");
  EXPECT_EQ(rows->ColumnText(1), "-12345678.9012");
  EXPECT_EQ(rows->ColumnText(2), "0.00042");
  EXPECT_EQ(rows->ColumnText(3), "100000000");
  EXPECT_EQ(rows->ColumnInt64(3), 100000000);
  EXPECT_EQ(rows->ColumnText(4), "1.5");
  EXPECT_EQ(rows->ColumnText(5), "NaN");
}

// PostgreSQL text cannot hold NUL: a clear INVALID_ARGUMENT, not a bug.
TEST(PostgresConnectionTest, NulInTextIsInvalidArgument) {
  std::unique_ptr<Connection> db = OpenWithTable("t_nul");
  ASSERT_NE(db, nullptr);
  absl::StatusOr<Statement> insert =
      db->Prepare("INSERT INTO t_nul (k) VALUES (?1)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  absl::Status status = insert->BindText(1, std::string("a\0b", 3)).Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("0x00"));
}

TEST(PostgresConnectionTest, LargeValuesAreReadWhole) {
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
  absl::StatusOr<Statement> rows =
      db->Prepare("SELECT k, b FROM t_large ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.status();
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(*rows->Step());
    EXPECT_EQ(rows->ColumnText(0), absl::StrCat("k", i));
    EXPECT_EQ(rows->ColumnBlobView(1), std::string(sizes[i], 'a' + i));
  }
  EXPECT_FALSE(*rows->Step());
}

TEST(PostgresConnectionTest, StatementsAreCachedAndStartClean) {
  std::unique_ptr<Connection> db = OpenWithTable("t_cache");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      db->Exec("INSERT INTO t_cache (k, i) VALUES ('a', 1), ('b', 2)").ok());
  constexpr char kSelect[] = "SELECT i FROM t_cache WHERE k = ?1 OR ?1 IS NULL";
  {
    absl::StatusOr<Statement> first = db->Prepare(kSelect);
    ASSERT_TRUE(first.ok()) << first.status();
    first->BindText(1, "b");
    absl::StatusOr<bool> row = first->Step();
    ASSERT_TRUE(row.ok()) << row.status();
    ASSERT_TRUE(*row);
    EXPECT_EQ(first->ColumnInt64(0), 2);
    EXPECT_FALSE(*first->Step());
    absl::StatusOr<Statement> second = db->Prepare(kSelect);
    EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  // The same statement again, its binding cleared (NULL matches all rows).
  absl::StatusOr<Statement> again = db->Prepare(kSelect);
  ASSERT_TRUE(again.ok()) << again.status();
  int rows = 0;
  while (true) {
    absl::StatusOr<bool> row = again->Step();
    ASSERT_TRUE(row.ok()) << row.status();
    if (!*row) break;
    ++rows;
  }
  EXPECT_EQ(rows, 2);
}

// A NULL whose type nothing in the statement tells is sent as text.
TEST(PostgresConnectionTest, UntypedNullsAreText) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  ASSERT_NE(db, nullptr);
  for (int pass = 0; pass < 2; ++pass) {
    absl::StatusOr<Statement> stmt = db->Prepare("SELECT ?1 IS NULL");
    ASSERT_TRUE(stmt.ok()) << stmt.status();
    if (pass == 1) stmt->BindInt64(1, 7);  // Another combination of types.
    absl::StatusOr<bool> row = stmt->Step();
    ASSERT_TRUE(row.ok()) << row.status();
    ASSERT_TRUE(*row);
    EXPECT_EQ(stmt->ColumnInt64(0), pass == 0 ? 1 : 0);
  }
}

TEST(PostgresConnectionTest, StatementsRunWhileAnotherIsRead) {
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

TEST(PostgresConnectionTest, BindFailuresSurfaceAtStep) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  ASSERT_NE(db, nullptr);
  absl::StatusOr<Statement> stmt = db->Prepare("SELECT ?1");
  ASSERT_TRUE(stmt.ok()) << stmt.status();
  stmt->BindInt64(1, 1).BindText(7, "out of range").BindInt64(1, 2);
  absl::StatusOr<bool> row = stmt->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_THAT(row.status().message(),
              HasSubstr("binding parameter 7 of \"SELECT $1\""));
  EXPECT_EQ(stmt->Run().code(), row.status().code());
}

// Statements are prepared on the server at their first execution, so SQL
// errors surface there.
TEST(PostgresConnectionTest, BadSqlFailsAtItsFirstStep) {
  std::unique_ptr<Connection> db = Open(ServerOptions());
  ASSERT_NE(db, nullptr);
  for (const char* sql : {"SELECT ?", "SELECT $1", "SELECT ?2"}) {
    SCOPED_TRACE(sql);
    EXPECT_EQ(db->Prepare(sql).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  absl::StatusOr<Statement> stmt = db->Prepare("SELEKT 1");
  ASSERT_TRUE(stmt.ok()) << stmt.status();
  absl::Status syntax = stmt->Run();
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(syntax.message(), HasSubstr("preparing \"SELEKT 1\""));
  EXPECT_THAT(syntax.message(), HasSubstr("SQLSTATE 42601"));
}

TEST(PostgresConnectionTest, ConstraintViolationIsAlreadyExists) {
  std::unique_ptr<Connection> db = OpenWithTable("t_unique");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("INSERT INTO t_unique (k) VALUES ('a')").ok());
  absl::StatusOr<Statement> insert =
      db->Prepare("INSERT INTO t_unique (k) VALUES (?1)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  absl::Status status = insert->BindText(1, "a").Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("duplicate key value"));
}

TEST(PostgresConnectionTest, ChangesCountMatchedRows) {
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
  ASSERT_TRUE(db->Exec("SELECT * FROM t_changes").ok());
  EXPECT_EQ(db->Changes(), 1);
  ASSERT_TRUE(db->Exec("UPDATE t_changes SET i = 5 WHERE k = 'none'").ok());
  EXPECT_EQ(db->Changes(), 0);
}

TEST(PostgresConnectionTest, TransactionsCommitOrRollBack) {
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
    // An error inside the transaction: PostgreSQL refuses everything until
    // the savepoint is rolled back, then goes on.
    ASSERT_TRUE(db->Savepoint("task").ok());
    EXPECT_FALSE(db->Exec("INSERT INTO t_txn (k) VALUES ('kept')").ok());
    EXPECT_TRUE(db->InTransaction());
    absl::Status refused = db->Exec("INSERT INTO t_txn (k) VALUES ('x')");
    EXPECT_THAT(refused.message(), HasSubstr("SQLSTATE 25P02"));
    ASSERT_TRUE(db->RollbackToSavepoint("task").ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t_txn (k) VALUES ('released')").ok());
    ASSERT_TRUE(db->ReleaseSavepoint("task").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(db->TotalChanges() - before, 3);
  absl::StatusOr<Statement> keys =
      db->Prepare("SELECT string_agg(k, ',' ORDER BY k) FROM t_txn");
  ASSERT_TRUE(keys.ok() && *keys->Step());
  EXPECT_EQ(keys->ColumnText(0), "kept,released");
  absl::StatusOr<Transaction> read =
      Transaction::Begin(db.get(), Transaction::Mode::kRead);
  ASSERT_TRUE(read.ok());
  absl::Status write = db->Exec("INSERT INTO t_txn (k) VALUES ('no')");
  EXPECT_FALSE(write.ok());
  EXPECT_THAT(write.message(), HasSubstr("read-only transaction"));
}

// Two transactions that each wait for the other's row: the server picks a
// victim (ABORTED); its transaction must be rolled back before anything
// else runs on it; the other one goes on.
TEST(PostgresConnectionTest, DeadlockIsAborted) {
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
  absl::SleepFor(absl::Milliseconds(200));
  absl::Status b_second = b->Exec("UPDATE t_deadlock SET i = 2 WHERE k = 'x'");
  Connection* victim = nullptr;
  Connection* survivor = nullptr;
  if (b_second.ok()) {
    // b got past: a was the victim.
    a_waits.join();
    EXPECT_EQ(a_second.code(), absl::StatusCode::kAborted) << a_second;
    EXPECT_THAT(a_second.message(), HasSubstr("SQLSTATE 40P01"));
    victim = a.get();
    survivor = b.get();
  } else {
    EXPECT_EQ(b_second.code(), absl::StatusCode::kAborted) << b_second;
    EXPECT_THAT(b_second.message(), HasSubstr("SQLSTATE 40P01"));
    ASSERT_TRUE(b->Rollback().ok());  // Releases b's locks for a.
    a_waits.join();
    EXPECT_TRUE(a_second.ok()) << a_second;
    victim = b.get();
    survivor = a.get();
  }
  EXPECT_TRUE(survivor->InTransaction());
  ASSERT_TRUE(survivor->Commit().ok());
  if (victim == a.get()) {
    EXPECT_TRUE(victim->InTransaction());  // Failed, not yet rolled back.
    ASSERT_TRUE(victim->Rollback().ok());
  }
  EXPECT_FALSE(victim->InTransaction());
}

TEST(PostgresConnectionTest, LockTimeoutIsAborted) {
  std::unique_ptr<Connection> setup = OpenWithTable("t_lock_wait");
  ASSERT_NE(setup, nullptr);
  ASSERT_TRUE(
      setup->Exec("INSERT INTO t_lock_wait (k, i) VALUES ('x', 0)").ok());
  ConnectOptions impatient = ServerOptions();
  impatient.init_statements = {"SET lock_timeout = '300ms'"};
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
  EXPECT_THAT(waited.message(), HasSubstr("SQLSTATE 55P03"));
  ASSERT_TRUE(waiter->Rollback().ok());
  ASSERT_TRUE(holder->Rollback().ok());
}

TEST(PostgresConnectionTest, TerminatedConnectionIsUnavailable) {
  std::unique_ptr<Connection> victim = Open(ServerOptions());
  std::unique_ptr<Connection> admin = Open(ServerOptions());
  ASSERT_NE(victim, nullptr);
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(victim->Begin(sql::TransactionMode::kRead).ok());
  ASSERT_TRUE(admin
                  ->Exec(absl::StrCat("SELECT pg_terminate_backend(",
                                      PQbackendPID(victim->pg()), ")"))
                  .ok());
  absl::Status lost = absl::OkStatus();
  // The backend may take a moment to go.
  for (int i = 0; i < 50 && lost.ok(); ++i) {
    absl::StatusOr<Statement> select = victim->Prepare("SELECT 1");
    lost = select.ok() ? select->Run() : select.status();
    if (lost.ok()) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  EXPECT_FALSE(victim->InTransaction());
}

TEST(PostgresConnectionTest, UnreachableServerNamesHostAndPort) {
  absl::StatusOr<int> port = testing::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  ConnectOptions options;
  options.port = *port;  // Nothing listens there.
  options.user = "postgres";
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(connection.status().message(),
              HasSubstr(absl::StrCat("127.0.0.1:", *port)));
}

// The test server trusts every login; this test makes the server check
// passwords for one role of its own (pg_hba.conf is read top-down).
TEST(PostgresConnectionTest, WrongPasswordIsPermissionDenied) {
  std::unique_ptr<Connection> admin = Open(ServerOptions());
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->Exec("DROP ROLE IF EXISTS durable_pw").ok());
  ASSERT_TRUE(
      admin->Exec("CREATE ROLE durable_pw LOGIN PASSWORD 'right'").ok());
  absl::StatusOr<Statement> hba = admin->Prepare("SHOW hba_file");
  ASSERT_TRUE(hba.ok() && *hba->Step());
  const std::string hba_file = hba->ColumnText(0);
  std::stringstream rules;
  {
    std::ifstream in(hba_file);
    ASSERT_TRUE(in.good()) << hba_file;
    rules << in.rdbuf();
  }
  {
    std::ofstream out(hba_file, std::ios::trunc);
    out << "host all durable_pw 127.0.0.1/32 scram-sha-256\n" << rules.str();
    ASSERT_TRUE(out.good()) << hba_file;
  }
  ASSERT_TRUE(admin->Exec("SELECT pg_reload_conf()").ok());

  ConnectOptions options = ServerOptions();
  options.user = "durable_pw";
  options.password = "wrong";
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options);
  // The postmaster rereads the file when it gets to the signal.
  for (int i = 0; i < 100 && connection.ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    connection = Connection::Open(options);
  }
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kPermissionDenied)
      << connection.status();
  EXPECT_THAT(connection.status().message(), HasSubstr("'durable_pw'"));
  EXPECT_THAT(connection.status().message(),
              AnyOf(HasSubstr("password authentication failed"),
                    HasSubstr("authentication failed")));
  options.password = "right";
  EXPECT_TRUE(Connection::Open(options).ok());
}

}  // namespace
}  // namespace durable::backends::postgres
