// Connection: one open SQLite database handle with a prepared-statement cache.
//
// A Connection is not thread-safe; its owner (SqliteStore) serializes every
// use with its own mutex, which is why the handle is opened with
// SQLITE_OPEN_NOMUTEX. Statements are compiled on first use and kept until
// the connection closes, keyed by their SQL text, so the hot paths (polling,
// completing tasks) never re-parse SQL.
#ifndef DURABLE_BACKENDS_SQLITE_CONNECTION_H_
#define DURABLE_BACKENDS_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/sqlite/statement.h"

namespace durable::backends::sqlite {

class Connection {
 public:
  // Opens `filename` (":memory:" for a private in-memory database) with
  // `flags` (SQLITE_OPEN_*; NOMUTEX is added).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& filename, int flags);
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }

  // Runs one or more SQL statements without results (DDL, pragmas, BEGIN).
  absl::Status Exec(absl::string_view sql);

  // Returns the cached statement for `sql`, compiling it on first use.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const { return sqlite3_changes64(db_); }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

// Transaction: RAII scope of one SQLite transaction. Rolls back on
// destruction unless Commit() succeeded, so every early `return status`
// inside a transaction leaves the database untouched.
class Transaction {
 public:
  enum class Mode {
    // BEGIN (DEFERRED): a consistent snapshot for multi-statement reads.
    kRead,
    // BEGIN IMMEDIATE: takes the write lock up front, so two writers never
    // deadlock upgrading read locks; waiting is bounded by busy_timeout.
    kWrite,
  };

  static absl::StatusOr<Transaction> Begin(Connection* connection, Mode mode);
  ~Transaction();

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  absl::Status Commit();

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}

  // Null once committed or rolled back (or moved from).
  Connection* connection_;
};

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_CONNECTION_H_
