// Connection: the MariaDB/MySQL driver of the shared relational layer, one
// session with the server over MariaDB Connector/C (sql::Connection).
//
// A Connection is not thread-safe; its owner serializes every use (one
// connection per pool slot). Statements are prepared on the server on first
// use and kept until the connection closes (see sql::Connection), so hot
// paths only bind and execute. Errors map onto absl::Status as
// mysql_status.h says, which is the mapping sql::Connection asks of every
// driver; messages name the statement or, when connecting, host:port.
//
// The session: utf8mb4, CLIENT_FOUND_ROWS (an UPDATE that rewrites a row's
// own values still counts it in Changes()), no automatic reconnect (a lost
// connection is UNAVAILABLE and its transaction gone; the owner opens a new
// one). Transactions: kRead is START TRANSACTION READ ONLY at REPEATABLE
// READ (one snapshot for all its statements, whatever the session's
// level), kWrite START TRANSACTION READ WRITE at the session's isolation
// level (InnoDB's REPEATABLE READ unless `init_statements` change it). The
// server rolls a transaction back on its own after a deadlock or a lost
// connection; InTransaction() is false from then on.
#ifndef DURABLE_BACKENDS_MYSQL_CONNECTION_H_
#define DURABLE_BACKENDS_MYSQL_CONNECTION_H_

#include <mariadb/mysql.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backends/mysql/statement.h"
#include "backends/sql/connection.h"
#include "backends/sql/transaction.h"

namespace durable::backends::mysql {

using Transaction = sql::Transaction;

struct ConnectOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  // When set, connects through this Unix socket instead of host:port.
  std::string unix_socket;
  std::string user;
  std::string password;
  std::string database;
  // Bounds connecting (TCP connect and the handshake).
  absl::Duration connect_timeout = absl::Seconds(10);
  // Run once, in order, right after connecting (e.g. "SET SESSION
  // transaction_isolation = 'READ-COMMITTED'").
  std::vector<std::string> init_statements;
};

class Connection final : public sql::Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const ConnectOptions& options);
  ~Connection() override;

  // The Connector/C handle, for what only MySQL has.
  MYSQL* mysql() const { return mysql_; }
  // "host:port" (or "unix socket <path>"), for messages.
  const std::string& address() const { return address_; }

  // Runs one statement without parameters, discarding its rows.
  absl::Status Exec(absl::string_view sql) override;

  int64_t Changes() const override { return changes_; }
  int64_t TotalChanges() const override { return total_changes_; }
  bool InTransaction() const override;
  absl::Status Begin(sql::TransactionMode mode) override;
  absl::Status Commit() override;
  absl::Status Rollback() override;

  // The status for the connection's last error, after doing `context`;
  // notes a transaction the server ended on its own.
  absl::Status LastError(unsigned int error_number, absl::string_view message,
                         absl::string_view context);
  // The server's (or Connector/C's) number of the last error LastError saw
  // since the last Begin, 0 if none: tells a transaction the server gave up
  // (deadlock 1213, lock wait timeout 1205) from an ABORTED of the caller's
  // own (a lost lease).
  unsigned int last_error_number() const { return last_error_number_; }
  // Called by statements after an execution that changed `rows` rows.
  void NoteChanges(int64_t rows, bool changes_rows);

 protected:
  absl::StatusOr<std::unique_ptr<sql::PreparedStatement>> Compile(
      const sql::RenderedStatement& statement) override;

 private:
  Connection(MYSQL* mysql, std::string address);

  MYSQL* mysql_;
  std::string address_;
  int64_t changes_ = 0;
  int64_t total_changes_ = 0;
  // Set by Begin, cleared by Commit, Rollback and errors that end the
  // transaction on the server (the server's status flags are not sent with
  // an error, so they cannot say so).
  bool in_transaction_ = false;
  unsigned int last_error_number_ = 0;
};

// Whether `sql` is an INSERT, UPDATE, DELETE or REPLACE (its first keyword).
bool ChangesRows(absl::string_view sql);

}  // namespace durable::backends::mysql

#endif  // DURABLE_BACKENDS_MYSQL_CONNECTION_H_
