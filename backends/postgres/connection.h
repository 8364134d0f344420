// Connection: the PostgreSQL driver of the shared relational layer, one
// session with the server over libpq (sql::Connection).
//
// A Connection is not thread-safe; its owner serializes every use (one
// connection per pool slot). Statements are prepared on the server (see
// statement.h) and kept until the connection closes, so hot paths only bind
// and execute. Errors map onto absl::Status as postgres_status.h says, which
// is the mapping sql::Connection asks of every driver; messages name the
// statement or, when connecting, host:port and the user.
//
// Transactions: kRead is BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY (one
// snapshot for several reads); kWrite is BEGIN READ WRITE at the session's
// isolation level (READ COMMITTED unless `init_statements` change it), with
// row locks taken as statements touch rows. After an error inside a
// transaction PostgreSQL refuses every statement until the transaction or a
// savepoint is rolled back: InTransaction() stays true until then. A lost
// connection ends it (InTransaction() false, UNAVAILABLE); the owner opens a
// new one.
#ifndef DURABLE_BACKENDS_POSTGRES_CONNECTION_H_
#define DURABLE_BACKENDS_POSTGRES_CONNECTION_H_

#include <postgresql/libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backends/postgres/statement.h"
#include "backends/sql/connection.h"
#include "backends/sql/transaction.h"

namespace durable::backends::postgres {

using Transaction = sql::Transaction;

struct ConnectOptions {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string user;
  std::string password;
  std::string database;
  // Bounds connecting (libpq's connect_timeout, in whole seconds, >= 2).
  absl::Duration connect_timeout = absl::Seconds(10);
  // Run once, in order, right after connecting (e.g. "SET lock_timeout =
  // '5s'").
  std::vector<std::string> init_statements;
};

class Connection final : public sql::Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const ConnectOptions& options);
  ~Connection() override;

  // The libpq handle, for what only PostgreSQL has (LISTEN/NOTIFY).
  PGconn* pg() const { return pg_; }
  // "host:port", for messages.
  const std::string& address() const { return address_; }

  // Runs SQL without parameters, discarding rows.
  absl::Status Exec(absl::string_view sql) override;

  int64_t Changes() const override { return changes_; }
  int64_t TotalChanges() const override { return total_changes_; }
  bool InTransaction() const override;
  absl::Status Begin(sql::TransactionMode mode) override;
  absl::Status Commit() override { return Exec("COMMIT"); }
  absl::Status Rollback() override { return Exec("ROLLBACK"); }

  // The status of a failed `result` (null: the connection's error) after
  // doing `context`.
  absl::Status ResultError(const PGresult* result,
                           absl::string_view context) const;
  // Notes the rows a finished command changed (PQcmdTuples).
  void NoteChanges(const PGresult* result);
  // A fresh name for a server-side prepared statement.
  std::string NextStatementName();

 protected:
  absl::StatusOr<std::unique_ptr<sql::PreparedStatement>> Compile(
      const sql::RenderedStatement& statement) override;

 private:
  Connection(PGconn* pg, std::string address);

  PGconn* pg_;
  std::string address_;
  int64_t changes_ = 0;
  int64_t total_changes_ = 0;
  int64_t statement_names_ = 0;
};

}  // namespace durable::backends::postgres

#endif  // DURABLE_BACKENDS_POSTGRES_CONNECTION_H_
