// Statement: one use of a prepared SQLite statement.
//
// Prepared statements are compiled once per connection and kept in the
// Connection's cache; a Statement borrows one of them for a single execution.
// Its destructor resets the statement and clears its bindings, so a read that
// stops early never leaves an implicit read transaction open and the next
// user always starts from a clean statement. A cached statement must not be
// borrowed twice at the same time (do not run the same SQL text while
// iterating over its rows).
//
// Bind indexes are 1-based and column indexes 0-based, as in SQLite's API.
// Bind failures are remembered and reported by the next Step()/Run(), so call
// sites can bind without checking every call.
#ifndef DURABLE_BACKENDS_SQLITE_STATEMENT_H_
#define DURABLE_BACKENDS_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace durable::backends::sqlite {

class Statement {
 public:
  // Borrows `stmt`, which must outlive this object. `db` is used for error
  // messages.
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();

  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& BindInt64(int index, int64_t value);
  // Text and blobs are copied by SQLite (SQLITE_TRANSIENT), so temporaries
  // are fine.
  Statement& BindText(int index, absl::string_view value);
  Statement& BindBlob(int index, absl::string_view value);
  Statement& BindNull(int index);

  // Advances to the next row: true when a row is available, false when the
  // statement is done.
  absl::StatusOr<bool> Step();
  // Runs a statement that returns no rows (or whose rows are ignored) to
  // completion.
  absl::Status Run();

  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;

 private:
  void NoteBind(int rc, int index);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  absl::Status bind_status_;
};

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_STATEMENT_H_
