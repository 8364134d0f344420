#include "backends/sqlite/connection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/sql/dialect.h"
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

Connection::Connection(sqlite3* db)
    : sql::Connection(sql::SqliteDialect()), db_(db) {}

Connection::~Connection() {
  // Statements belong to the handle: finalize them before closing it.
  ClearStatementCache();
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

absl::Status Connection::Begin(sql::TransactionMode mode) {
  return Exec(mode == sql::TransactionMode::kWrite ? "BEGIN IMMEDIATE"
                                                   : "BEGIN");
}

absl::StatusOr<std::unique_ptr<sql::PreparedStatement>> Connection::Compile(
    const sql::RenderedStatement& statement) {
  const std::string& sql = statement.text;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteStatus(rc, db_, absl::StrCat("preparing \"", sql, "\""));
  }
  if (stmt == nullptr) {  // Only whitespace or comments: nothing to run.
    return absl::InvalidArgumentError(
        absl::StrCat("preparing \"", sql, "\": no statement"));
  }
  return std::make_unique<SqliteStatement>(db_, stmt);
}

}  // namespace durable::backends::sqlite
