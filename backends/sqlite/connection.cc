#include "backends/sqlite/connection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/sqlite/sqlite_status.h"

namespace durable::backends::sqlite {

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& filename, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(filename.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteStatus(
        rc, db, absl::StrCat("opening sqlite database \"", filename, "\""));
    sqlite3_close_v2(db);  // Accepts null; a failed open still allocates.
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status Connection::Exec(absl::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteStatus(rc, db_, absl::StrCat("executing \"", sql, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteStatus(rc, db_, absl::StrCat("preparing \"", sql, "\""));
    }
    it = statements_.emplace(std::string(sql), stmt).first;
  }
  return Statement(db_, it->second);
}

absl::StatusOr<Transaction> Transaction::Begin(Connection* connection,
                                               Mode mode) {
  absl::Status status =
      connection->Exec(mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!status.ok()) return status;
  return Transaction(connection);
}

Transaction::Transaction(Transaction&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)) {}

Transaction::~Transaction() {
  if (connection_ != nullptr) {
    // Nothing useful can be done with a failed rollback here: SQLite rolls
    // back by itself when the connection closes or the next BEGIN fails.
    connection_->Exec("ROLLBACK").IgnoreError();
  }
}

absl::Status Transaction::Commit() {
  absl::Status status = connection_->Exec("COMMIT");
  if (status.ok()) connection_ = nullptr;
  return status;
}

}  // namespace durable::backends::sqlite
