// Connection: the small interface a SQL database driver implements for the
// shared relational store (SQLite, MariaDB Connector/C, libpq).
//
// A Connection is one session with the database. It is not thread-safe: its
// owner serializes every use (a store's mutex, or one connection per pool
// slot). It executes SQL in three ways:
//   - Prepare(sql): the hot path. `sql` is a neutral statement (?N
//     parameters, see dialect.h), rendered through the connection's dialect
//     and compiled on first use, then kept until the connection closes, so
//     repeated statements are only bound and stepped: no parsing, no
//     allocation. The cache is keyed by the neutral text; statements built
//     at run time (IN lists) are cached per distinct text.
//   - Exec(sql): one statement without parameters (DDL, PRAGMA, SAVEPOINT);
//     its rows, if any, are discarded. SQLite also accepts several
//     statements separated by ';'; shared code must not rely on that (split
//     scripts with SplitStatements).
//   - Begin/Commit/Rollback, usually through the Transaction guard
//     (transaction.h), and savepoints.
//
// Every driver maps its errors onto the same absl::Status codes, so the
// shared store decides retries and messages without knowing the database:
//   UNAVAILABLE         busy or locked (SQLite BUSY/LOCKED), connection lost,
//                       server unreachable, I/O error: retry later.
//   ABORTED             the server gave up the transaction for a concurrent
//                       one (deadlock, serialization failure, lock wait
//                       timeout): roll back and retry the whole transaction.
//   ALREADY_EXISTS      a constraint (unique key) violation.
//   DATA_LOSS           the database is corrupt or not a database.
//   PERMISSION_DENIED   read-only database, missing privilege, bad login.
//   RESOURCE_EXHAUSTED  disk full, out of memory, too many connections.
//   INVALID_ARGUMENT    a statement that is not neutral SQL (a bug).
//   FAILED_PRECONDITION Prepare of a statement whose Statement is in use.
//   INTERNAL            anything else (SQL errors: bugs).
// Messages name what was being done (the statement) and the database's own
// explanation with its native code.
//
// The drivers: backends/sqlite (SQLite's C API), backends/mysql (MariaDB
// Connector/C: server-side prepared statements, results buffered on the
// client so statements may interleave, CLIENT_FOUND_ROWS) and
// backends/postgres (libpq: statements prepared at their first execution,
// typed from their bindings; binary parameters and results). Each has a
// connection_test that checks this contract against a real database.
#ifndef DURABLE_BACKENDS_SQL_CONNECTION_H_
#define DURABLE_BACKENDS_SQL_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/sql/dialect.h"
#include "backends/sql/statement.h"

namespace durable::backends::sql {

enum class TransactionMode {
  // A consistent snapshot for several reads (SQLite BEGIN DEFERRED; a
  // server's REPEATABLE READ READ ONLY).
  kRead,
  // A transaction that will write. SQLite takes the database write lock up
  // front (BEGIN IMMEDIATE), so two writers never deadlock upgrading read
  // locks; servers lock rows as statements touch them (and SELECT ... FOR
  // UPDATE), so their deadlocks surface as ABORTED.
  kWrite,
};

class Connection {
 public:
  virtual ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const Dialect& dialect() const { return dialect_; }

  // Returns the cached statement for the neutral `sql`, rendering and
  // compiling it on first use.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // Runs one parameterless statement, discarding any rows.
  virtual absl::Status Exec(absl::string_view sql) = 0;

  // Rows matched by the last INSERT/UPDATE/DELETE on this connection (a
  // MySQL driver connects with CLIENT_FOUND_ROWS so that an UPDATE writing
  // the values a row already has still counts it). After an upsert only
  // zero versus non-zero is portable (MySQL counts an update as 2).
  virtual int64_t Changes() const = 0;
  // Rows changed by every statement since the connection opened: a batch
  // wrote something iff this moved.
  virtual int64_t TotalChanges() const = 0;

  // Whether a transaction is open. False after Begin() when the database
  // ended the transaction on its own (SQLite after an I/O error or a full
  // disk, MySQL after a deadlock): what it wrote is gone.
  virtual bool InTransaction() const = 0;
  virtual absl::Status Begin(TransactionMode mode) = 0;
  virtual absl::Status Commit() = 0;
  virtual absl::Status Rollback() = 0;

  // Nested scopes inside a transaction, with the syntax every supported
  // database shares: rolling back to a savepoint undoes only what followed
  // it (one task of a batch) and, on PostgreSQL, clears the error state of
  // the transaction. `name` is an SQL identifier.
  absl::Status Savepoint(absl::string_view name);
  absl::Status ReleaseSavepoint(absl::string_view name);
  absl::Status RollbackToSavepoint(absl::string_view name);

 protected:
  explicit Connection(const Dialect& dialect) : dialect_(dialect) {}

  // Compiles a rendered statement (called once per distinct neutral text).
  virtual absl::StatusOr<std::unique_ptr<PreparedStatement>> Compile(
      const RenderedStatement& statement) = 0;

  // Finalizes every cached statement; drivers call it before closing the
  // database handle the statements belong to.
  void ClearStatementCache() { statements_.clear(); }

 private:
  const Dialect& dialect_;
  absl::flat_hash_map<std::string, std::unique_ptr<PreparedStatement>>
      statements_;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_CONNECTION_H_
