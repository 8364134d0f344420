// The MariaDB driver's statements: MysqlStatement implements
// sql::PreparedStatement over one server-side prepared statement
// (MYSQL_STMT of MariaDB Connector/C), which Connection keeps in its cache;
// stores use it through sql::Statement.
//
// The dialect renders `?N` as one `?` per occurrence (positional), so the
// statement keeps one value slot per neutral number and one MYSQL_BIND per
// `?`, each pointing at the slot of its number: binding ?1 once fills every
// `?` that stands for it. Unbound parameters are NULL.
//
// The first Step() binds, executes and buffers the whole result on the
// client (mysql_stmt_store_result): MySQL's protocol streams rows, and a
// buffered result lets other statements run on the connection while this
// one is being read. Text and blob columns are fetched into per-column
// buffers that keep their capacity across rows and executions; a value
// larger than its buffer is fetched again, whole, into a grown one.
//
// Column types come from the result's metadata: integer columns kInteger,
// FLOAT/DOUBLE/DECIMAL kReal (read as text), binary strings and blobs
// (charset 63) kBlob, other strings kText, and kNull for a NULL value.
#ifndef DURABLE_BACKENDS_MYSQL_STATEMENT_H_
#define DURABLE_BACKENDS_MYSQL_STATEMENT_H_

#include <mariadb/mysql.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/sql/dialect.h"
#include "backends/sql/statement.h"

namespace durable::backends::mysql {

using Statement = sql::Statement;

class Connection;

class MysqlStatement final : public sql::PreparedStatement {
 public:
  // Takes ownership of `stmt`, prepared from `rendered.text` on
  // `connection`, which outlives it and learns the rows each execution
  // changed.
  static absl::StatusOr<std::unique_ptr<MysqlStatement>> Create(
      Connection* connection, MYSQL_STMT* stmt,
      const sql::RenderedStatement& rendered);
  ~MysqlStatement() override;
  MysqlStatement(const MysqlStatement&) = delete;
  MysqlStatement& operator=(const MysqlStatement&) = delete;

  // Values are copied into the statement's slots.
  absl::Status BindInt64(int index, int64_t value) override;
  absl::Status BindText(int index, absl::string_view value) override;
  absl::Status BindBlob(int index, absl::string_view value) override;
  absl::Status BindNull(int index) override;
  absl::StatusOr<bool> Step() override;
  sql::ValueType ColumnType(int column) const override;
  int64_t ColumnInt64(int column) const override;
  absl::string_view ColumnText(int column) const override;
  absl::string_view ColumnBlob(int column) const override {
    return ColumnText(column);
  }
  void Reset() override;

 private:
  enum class Kind { kNull, kInteger, kText, kBlob };
  struct Parameter {
    Kind kind = Kind::kNull;
    int64_t integer = 0;
    std::string bytes;
    unsigned long length = 0;  // NOLINT(runtime/int): MYSQL_BIND's type.
  };
  struct Column {
    sql::ValueType type = sql::ValueType::kText;  // When not NULL.
    bool is_integer = false;
    int64_t integer = 0;
    std::string buffer;
    unsigned long length = 0;  // NOLINT(runtime/int): MYSQL_BIND's type.
    my_bool is_null = 0;
    my_bool truncated = 0;
    // The text form of an integer column, made when asked for.
    mutable std::string text;
  };

  MysqlStatement(Connection* connection, MYSQL_STMT* stmt,
                 const sql::RenderedStatement& rendered);
  absl::Status DescribeColumns();
  absl::Status CheckIndex(int index) const;
  absl::Status Execute();
  absl::Status FetchTruncatedColumns();
  void BindColumnBuffers();
  absl::Status Error(absl::string_view what) const;

  Connection* connection_;
  MYSQL_STMT* stmt_;
  std::string text_;
  // For each `?` in text_, the index of its slot in parameters_.
  std::vector<int> positions_;
  std::vector<Parameter> parameters_;
  std::vector<MYSQL_BIND> parameter_binds_;
  std::vector<Column> columns_;
  std::vector<MYSQL_BIND> column_binds_;
  // Whether an execution changes rows (INSERT/UPDATE/DELETE/REPLACE): only
  // those set the connection's Changes().
  bool changes_rows_ = false;
  bool executed_ = false;
  bool has_result_ = false;
};

}  // namespace durable::backends::mysql

#endif  // DURABLE_BACKENDS_MYSQL_STATEMENT_H_
