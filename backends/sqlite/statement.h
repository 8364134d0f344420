// The SQLite driver's statements: SqliteStatement implements
// sql::PreparedStatement over one compiled sqlite3_stmt, which Connection
// keeps in its cache; stores use it through sql::Statement (named Statement
// here, as it always was).
//
// Values map onto SQLite's own types one to one (int64 INTEGER, TEXT, BLOB,
// NULL, and REAL for ColumnType); ColumnType reports the stored value's
// type, as typeof() does.
#ifndef DURABLE_BACKENDS_SQLITE_STATEMENT_H_
#define DURABLE_BACKENDS_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/sql/statement.h"

namespace durable::backends::sqlite {

using Statement = sql::Statement;

class SqliteStatement final : public sql::PreparedStatement {
 public:
  // Takes ownership of `stmt` (finalized on destruction); `db` is its
  // connection, used for error messages.
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement() override;

  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Text and blobs are copied by SQLite (SQLITE_TRANSIENT).
  absl::Status BindInt64(int index, int64_t value) override;
  absl::Status BindText(int index, absl::string_view value) override;
  absl::Status BindBlob(int index, absl::string_view value) override;
  absl::Status BindNull(int index) override;

  absl::StatusOr<bool> Step() override;

  sql::ValueType ColumnType(int column) const override;
  int64_t ColumnInt64(int column) const override {
    return sqlite3_column_int64(stmt_, column);
  }
  absl::string_view ColumnText(int column) const override;
  absl::string_view ColumnBlob(int column) const override;

  // Also ends the implicit read transaction of a read that stopped early.
  void Reset() override;

 private:
  absl::Status BindResult(int rc, int index) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_STATEMENT_H_
