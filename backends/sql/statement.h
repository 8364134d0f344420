// Statement: one execution of a prepared SQL statement, and
// PreparedStatement, what a database driver implements behind it.
//
// A store asks its Connection for a statement (Connection::Prepare), binds
// the parameters, steps through the rows and reads columns:
//
//   DURABLE_ASSIGN_OR_RETURN(
//       Statement stmt,
//       connection.Prepare("SELECT event FROM inbox WHERE instance_id = ?1"));
//   stmt.BindText(1, instance_id);
//   while (true) {
//     DURABLE_ASSIGN_OR_RETURN(bool row, stmt.Step());
//     if (!row) break;
//     Use(stmt.ColumnBlob(0));
//   }
//
// Contract, identical for every driver:
//   - Parameters are bound by their neutral number (the N of ?N, 1-based;
//     see dialect.h), columns are read by 0-based position. Values are
//     int64, text, blob or NULL; bound text and blobs are copied, so
//     temporaries are fine. A failed bind is remembered and reported by the
//     next Step()/Run(), so call sites can bind without checking each call.
//   - The first Step() executes the statement; it returns true while a row
//     is available and false once the statement is done (at once for a
//     statement without rows). Column accessors are valid only while Step()
//     last returned true; the views they return only until the next Step()
//     or the end of the Statement.
//   - Destroying the Statement ends the execution (a read that stops early
//     releases what it holds) and clears the bindings, so the next use of
//     the same SQL starts clean. A prepared statement has one execution at a
//     time: Prepare() of SQL whose Statement is still alive is an error.
//     Different statements may be open at once: a driver whose protocol
//     streams rows (MySQL) buffers a result before another statement runs.
//   - Failures are absl::Status with the codes listed in connection.h.
//
// A Statement is a borrowed handle: it costs no allocation, and its
// PreparedStatement (compiled once, owned by the connection's cache) must
// outlive it.
#ifndef DURABLE_BACKENDS_SQL_STATEMENT_H_
#define DURABLE_BACKENDS_SQL_STATEMENT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace durable::backends::sql {

// The type of a column's value in the current row. SQLite reports the
// stored value's type; servers report the column's declared type (an
// integer column is kInteger, a text/varchar one kText, a bytea/blob one
// kBlob, any floating or decimal one kReal), and kNull for a NULL value.
enum class ValueType { kNull, kInteger, kReal, kText, kBlob };

// "null", "integer", "real", "text", "blob" (SQLite's typeof() names).
absl::string_view ValueTypeName(ValueType type);

// What a driver implements: one statement compiled on one connection.
// Methods are called only through Statement, which enforces the order
// (binds, steps, column reads, Reset) described above.
class PreparedStatement {
 public:
  virtual ~PreparedStatement() = default;

  virtual absl::Status BindInt64(int index, int64_t value) = 0;
  virtual absl::Status BindText(int index, absl::string_view value) = 0;
  virtual absl::Status BindBlob(int index, absl::string_view value) = 0;
  virtual absl::Status BindNull(int index) = 0;

  // Executes on the first call after Reset(), then advances.
  virtual absl::StatusOr<bool> Step() = 0;

  virtual ValueType ColumnType(int column) const = 0;
  // Integer value; 0 for NULL.
  virtual int64_t ColumnInt64(int column) const = 0;
  // The value's bytes as text / as a blob; empty for NULL. Valid until the
  // next Step() or Reset().
  virtual absl::string_view ColumnText(int column) const = 0;
  virtual absl::string_view ColumnBlob(int column) const = 0;

  // Ends the execution (discarding unread rows) and clears the bindings.
  virtual void Reset() = 0;

 private:
  friend class Connection;
  friend class Statement;

  // Whether a Statement is using this one (Connection refuses a second).
  bool in_use_ = false;
};

class Statement {
 public:
  ~Statement();

  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& BindInt64(int index, int64_t value) {
    return Note(prepared_->BindInt64(index, value));
  }
  Statement& BindText(int index, absl::string_view value) {
    return Note(prepared_->BindText(index, value));
  }
  Statement& BindBlob(int index, absl::string_view value) {
    return Note(prepared_->BindBlob(index, value));
  }
  Statement& BindNull(int index) { return Note(prepared_->BindNull(index)); }

  // Advances to the next row: true when a row is available, false when the
  // statement is done.
  absl::StatusOr<bool> Step() {
    if (!bind_status_.ok()) return bind_status_;
    return prepared_->Step();
  }
  // Runs a statement that returns no rows (or whose rows are ignored) to
  // completion.
  absl::Status Run();

  bool ColumnIsNull(int column) const {
    return prepared_->ColumnType(column) == ValueType::kNull;
  }
  ValueType ColumnType(int column) const {
    return prepared_->ColumnType(column);
  }
  int64_t ColumnInt64(int column) const {
    return prepared_->ColumnInt64(column);
  }
  std::string ColumnText(int column) const {
    return std::string(prepared_->ColumnText(column));
  }
  std::string ColumnBlob(int column) const {
    return std::string(prepared_->ColumnBlob(column));
  }
  // Without a copy, for values parsed at once (protos); valid until the
  // next Step().
  absl::string_view ColumnTextView(int column) const {
    return prepared_->ColumnText(column);
  }
  absl::string_view ColumnBlobView(int column) const {
    return prepared_->ColumnBlob(column);
  }

 private:
  friend class Connection;

  // Borrows `prepared`, marked in use until this Statement is destroyed.
  explicit Statement(PreparedStatement* prepared);

  Statement& Note(absl::Status status) {
    if (!status.ok() && bind_status_.ok()) bind_status_ = std::move(status);
    return *this;
  }

  // Null once moved from.
  PreparedStatement* prepared_;
  absl::Status bind_status_;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_STATEMENT_H_
