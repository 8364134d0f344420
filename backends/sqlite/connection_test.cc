// The SQLite driver against the contract of backends/sql (connection.h,
// statement.h, transaction.h).
#include "backends/sqlite/connection.h"

#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backends/sql/dialect.h"
#include "backends/sql/statement.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sqlite {
namespace {

using sql::ValueType;
using ::testing::HasSubstr;

constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::unique_ptr<Connection> Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(path, kOpenFlags);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return *std::move(connection);
}

std::unique_ptr<Connection> OpenMemory() {
  std::unique_ptr<Connection> db = Open(":memory:");
  EXPECT_TRUE(
      db->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, i INTEGER, b BLOB)").ok());
  return db;
}

TEST(SqliteConnectionTest, SpeaksTheSqliteDialect) {
  EXPECT_EQ(OpenMemory()->dialect().name, "sqlite");
}

TEST(SqliteConnectionTest, ValuesRoundTripWithTheirTypes) {
  std::unique_ptr<Connection> db = OpenMemory();
  const std::string text_with_nul("a\0b", 3);
  const std::string blob("\x00\xff\x01", 3);
  {
    absl::StatusOr<Statement> insert =
        db->Prepare("INSERT INTO t (k, i, b) VALUES (?1, ?2, ?3)");
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
        db->Prepare("INSERT INTO t (k, i, b) VALUES (?1, ?2, ?3)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    // An empty blob is a blob, not NULL.
    ASSERT_TRUE(
        insert->BindText(1, "z").BindNull(2).BindBlob(3, "").Run().ok());
  }
  absl::StatusOr<Statement> rows =
      db->Prepare("SELECT k, i, b, 2.5 FROM t ORDER BY k");
  ASSERT_TRUE(rows.ok());
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->ColumnType(0), ValueType::kText);
  EXPECT_EQ(rows->ColumnText(0), text_with_nul);
  EXPECT_EQ(rows->ColumnType(1), ValueType::kInteger);
  EXPECT_EQ(rows->ColumnInt64(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(rows->ColumnType(2), ValueType::kBlob);
  EXPECT_EQ(rows->ColumnBlob(2), blob);
  EXPECT_EQ(rows->ColumnBlobView(2), blob);
  EXPECT_EQ(rows->ColumnType(3), ValueType::kReal);
  EXPECT_EQ(rows->ColumnText(3), "2.5");
  ASSERT_TRUE(*rows->Step());
  EXPECT_TRUE(rows->ColumnIsNull(1));
  EXPECT_EQ(rows->ColumnInt64(1), 0);
  EXPECT_EQ(rows->ColumnText(1), "");
  EXPECT_FALSE(rows->ColumnIsNull(2));
  EXPECT_EQ(rows->ColumnType(2), ValueType::kBlob);
  EXPECT_EQ(rows->ColumnBlob(2), "");
  EXPECT_FALSE(*rows->Step());
}

TEST(SqliteConnectionTest, StatementsAreCachedAndStartClean) {
  std::unique_ptr<Connection> db = OpenMemory();
  ASSERT_TRUE(db->Exec("INSERT INTO t (k, i) VALUES ('a', 1), ('b', 2)").ok());
  constexpr char kSelect[] = "SELECT i FROM t WHERE k = ?1 OR ?1 IS NULL";
  {
    absl::StatusOr<Statement> first = db->Prepare(kSelect);
    ASSERT_TRUE(first.ok());
    first->BindText(1, "b");
    ASSERT_TRUE(*first->Step());
    EXPECT_EQ(first->ColumnInt64(0), 2);
    // One execution at a time: a second use would reset this one.
    absl::StatusOr<Statement> second = db->Prepare(kSelect);
    EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(second.status().message(), HasSubstr("already executing"));
    // Other statements may run meanwhile.
    EXPECT_TRUE(db->Prepare("SELECT 1").ok());
  }
  // The same statement again, its binding cleared (NULL matches all rows).
  absl::StatusOr<Statement> again = db->Prepare(kSelect);
  ASSERT_TRUE(again.ok()) << again.status();
  int rows = 0;
  while (*again->Step()) ++rows;
  EXPECT_EQ(rows, 2);
}

TEST(SqliteConnectionTest, BindFailuresSurfaceAtStep) {
  std::unique_ptr<Connection> db = OpenMemory();
  absl::StatusOr<Statement> stmt = db->Prepare("SELECT ?1");
  ASSERT_TRUE(stmt.ok());
  stmt->BindInt64(1, 1).BindText(7, "out of range").BindInt64(1, 2);
  absl::StatusOr<bool> row = stmt->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_THAT(row.status().message(),
              HasSubstr("binding parameter 7 of \"SELECT ?1\""));
  EXPECT_EQ(stmt->Run().code(), row.status().code());
}

TEST(SqliteConnectionTest, PrepareRefusesWhatIsNotNeutral) {
  std::unique_ptr<Connection> db = OpenMemory();
  for (const char* sql : {"SELECT ?", "SELECT $1", "SELECT ?2"}) {
    SCOPED_TRACE(sql);
    EXPECT_EQ(db->Prepare(sql).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(db->Prepare("   -- nothing\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status syntax = db->Prepare("SELEKT 1").status();
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(syntax.message(), HasSubstr("preparing \"SELEKT 1\""));
}

TEST(SqliteConnectionTest, ConstraintViolationIsAlreadyExists) {
  std::unique_ptr<Connection> db = OpenMemory();
  ASSERT_TRUE(db->Exec("INSERT INTO t (k) VALUES ('a')").ok());
  absl::StatusOr<Statement> insert =
      db->Prepare("INSERT INTO t (k) VALUES (?1)");
  ASSERT_TRUE(insert.ok());
  absl::Status status = insert->BindText(1, "a").Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("UNIQUE constraint failed"));
}

TEST(SqliteConnectionTest, TransactionsCommitOrRollBack) {
  std::unique_ptr<Connection> db = OpenMemory();
  EXPECT_FALSE(db->InTransaction());
  {
    absl::StatusOr<Transaction> txn =
        Transaction::Begin(db.get(), Transaction::Mode::kWrite);
    ASSERT_TRUE(txn.ok());
    EXPECT_TRUE(db->InTransaction());
    ASSERT_TRUE(db->Exec("INSERT INTO t (k) VALUES ('dropped')").ok());
  }  // Rolled back.
  EXPECT_FALSE(db->InTransaction());
  const int64_t before = db->TotalChanges();
  {
    absl::StatusOr<Transaction> txn =
        Transaction::Begin(db.get(), Transaction::Mode::kWrite);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t (k) VALUES ('kept')").ok());
    ASSERT_TRUE(db->Savepoint("task").ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t (k) VALUES ('undone')").ok());
    ASSERT_TRUE(db->RollbackToSavepoint("task").ok());
    ASSERT_TRUE(db->ReleaseSavepoint("task").ok());
    ASSERT_TRUE(db->Savepoint("task").ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t (k) VALUES ('released')").ok());
    ASSERT_TRUE(db->ReleaseSavepoint("task").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(db->TotalChanges() - before, 3);
  absl::StatusOr<Statement> keys = db->Prepare(
      "SELECT group_concat(k) FROM "
      "(SELECT k FROM t ORDER BY k)");
  ASSERT_TRUE(keys.ok() && *keys->Step());
  EXPECT_EQ(keys->ColumnText(0), "kept,released");
}

TEST(SqliteConnectionTest, BusyIsUnavailableAndAnEarlyStopReleasesTheRead) {
  const std::string path = TempPath("busy.db");
  std::remove(path.c_str());
  std::unique_ptr<Connection> reader = Open(path);
  std::unique_ptr<Connection> writer = Open(path);
  ASSERT_TRUE(reader
                  ->Exec("CREATE TABLE t (k TEXT); "
                         "INSERT INTO t VALUES ('a'), ('b')")
                  .ok());
  {
    absl::StatusOr<Statement> rows = reader->Prepare("SELECT k FROM t");
    ASSERT_TRUE(rows.ok() && *rows->Step());
    // The unfinished read holds a shared lock: no exclusive lock for others
    // (busy timeout 0, so at once).
    absl::Status busy = writer->Exec("BEGIN EXCLUSIVE");
    EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable) << busy;
    EXPECT_THAT(busy.message(), HasSubstr("database is locked"));
  }
  // Destroying the statement ended the read.
  ASSERT_TRUE(writer->Exec("BEGIN EXCLUSIVE").ok());
  ASSERT_TRUE(writer->Commit().ok());
}

}  // namespace
}  // namespace durable::backends::sqlite
