// Connection: the SQLite driver of the shared relational layer, one open
// SQLite database handle (sql::Connection over the C API).
//
// A Connection is not thread-safe; its owner (SqliteStore) serializes every
// use with its own mutex, which is why the handle is opened with
// SQLITE_OPEN_NOMUTEX. Statements are compiled on first use with
// SQLITE_PREPARE_PERSISTENT and kept until the connection closes (see
// sql::Connection), so the hot paths never re-parse SQL. Errors map onto
// absl::Status as sqlite_status.h says, which is the mapping
// sql::Connection asks of every driver.
//
// Transactions: kRead is BEGIN (DEFERRED), a snapshot for several reads;
// kWrite is BEGIN IMMEDIATE, which takes the write lock up front so two
// writers never deadlock upgrading read locks (waiting is bounded by the
// busy timeout, then UNAVAILABLE).
//
// The handle itself (db()) stays available for what only SQLite has:
// PRAGMAs' side channels, sqlite3_busy_timeout, autocommit and change
// counters.
#ifndef DURABLE_BACKENDS_SQLITE_CONNECTION_H_
#define DURABLE_BACKENDS_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/sql/connection.h"
#include "backends/sql/transaction.h"
#include "backends/sqlite/statement.h"

namespace durable::backends::sqlite {

// RAII transaction scope (sql/transaction.h): rolls back unless committed.
using Transaction = sql::Transaction;

class Connection final : public sql::Connection {
 public:
  // Opens `filename` (":memory:" for a private in-memory database) with
  // `flags` (SQLITE_OPEN_*; NOMUTEX is added).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& filename, int flags);
  ~Connection() override;

  sqlite3* db() const { return db_; }

  // Runs one or more SQL statements without parameters (DDL, pragmas,
  // BEGIN), discarding rows.
  absl::Status Exec(absl::string_view sql) override;

  int64_t Changes() const override { return sqlite3_changes64(db_); }
  int64_t TotalChanges() const override { return sqlite3_total_changes64(db_); }
  bool InTransaction() const override {
    return sqlite3_get_autocommit(db_) == 0;
  }
  absl::Status Begin(sql::TransactionMode mode) override;
  absl::Status Commit() override { return Exec("COMMIT"); }
  absl::Status Rollback() override { return Exec("ROLLBACK"); }

 protected:
  absl::StatusOr<std::unique_ptr<sql::PreparedStatement>> Compile(
      const sql::RenderedStatement& statement) override;

 private:
  explicit Connection(sqlite3* db);

  sqlite3* db_;
};

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_CONNECTION_H_
