#include "backends/sqlite/statement.h"

#include "absl/strings/str_cat.h"
#include "backends/sqlite/sqlite_status.h"

namespace durable::backends::sqlite {

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

absl::Status SqliteStatement::BindResult(int rc, int index) const {
  if (rc == SQLITE_OK) return absl::OkStatus();
  return SqliteStatus(rc, db_,
                      absl::StrCat("binding parameter ", index, " of \"",
                                   sqlite3_sql(stmt_), "\""));
}

absl::Status SqliteStatement::BindInt64(int index, int64_t value) {
  return BindResult(sqlite3_bind_int64(stmt_, index, value), index);
}

absl::Status SqliteStatement::BindText(int index, absl::string_view value) {
  return BindResult(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                          SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
}

absl::Status SqliteStatement::BindBlob(int index, absl::string_view value) {
  // A zero-length blob with a null pointer would bind NULL; "" keeps it a
  // blob.
  return BindResult(
      sqlite3_bind_blob64(stmt_, index,
                          value.data() != nullptr ? value.data() : "",
                          value.size(), SQLITE_TRANSIENT),
      index);
}

absl::Status SqliteStatement::BindNull(int index) {
  return BindResult(sqlite3_bind_null(stmt_, index), index);
}

absl::StatusOr<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, db_,
                      absl::StrCat("executing \"", sqlite3_sql(stmt_), "\""));
}

sql::ValueType SqliteStatement::ColumnType(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER:
      return sql::ValueType::kInteger;
    case SQLITE_FLOAT:
      return sql::ValueType::kReal;
    case SQLITE_TEXT:
      return sql::ValueType::kText;
    case SQLITE_BLOB:
      return sql::ValueType::kBlob;
    default:
      return sql::ValueType::kNull;
  }
}

absl::string_view SqliteStatement::ColumnText(int column) const {
  // The pointer first, then the size: sqlite3_column_text may convert the
  // value, which changes its size.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(text),
                           sqlite3_column_bytes(stmt_, column));
}

absl::string_view SqliteStatement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return {};
  return absl::string_view(static_cast<const char*>(blob),
                           sqlite3_column_bytes(stmt_, column));
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

}  // namespace durable::backends::sqlite
