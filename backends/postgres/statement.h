// The PostgreSQL driver's statements: PostgresStatement implements
// sql::PreparedStatement over server-side prepared statements (libpq's
// PQprepare / PQexecPrepared); Connection keeps it in its cache and stores
// use it through sql::Statement.
//
// PostgreSQL types every parameter when the statement is prepared, and some
// cannot be inferred from the text (`$1 IS NULL`). So the statement is
// prepared at its first execution, typing each parameter from its binding
// (int64 int8, text text, blob bytea, NULL left to the server), and once
// more for each new combination of types (a handful at most: usually a
// parameter is sometimes NULL). A NULL the server cannot type is sent as
// text.
//
// Parameters and results travel in binary format: no text escaping of
// blobs, no parsing of integers. Column types come from the result:
// int2/int4/int8 (and bool) kInteger; float4/float8/numeric kReal, read as
// their decimal text; bytea kBlob; every other type kText (its bytes as the
// server sends them); kNull for a NULL value. ColumnInt64 also reads a
// numeric (SUM of bigints is numeric) or a decimal text.
#ifndef DURABLE_BACKENDS_POSTGRES_STATEMENT_H_
#define DURABLE_BACKENDS_POSTGRES_STATEMENT_H_

#include <postgresql/libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/sql/dialect.h"
#include "backends/sql/statement.h"

namespace durable::backends::postgres {

using Statement = sql::Statement;

class Connection;

class PostgresStatement final : public sql::PreparedStatement {
 public:
  // `rendered` uses $N placeholders; `connection` outlives the statement.
  PostgresStatement(Connection* connection,
                    const sql::RenderedStatement& rendered);
  ~PostgresStatement() override;
  PostgresStatement(const PostgresStatement&) = delete;
  PostgresStatement& operator=(const PostgresStatement&) = delete;

  absl::Status BindInt64(int index, int64_t value) override;
  absl::Status BindText(int index, absl::string_view value) override;
  absl::Status BindBlob(int index, absl::string_view value) override;
  absl::Status BindNull(int index) override;
  absl::StatusOr<bool> Step() override;
  sql::ValueType ColumnType(int column) const override;
  int64_t ColumnInt64(int column) const override;
  absl::string_view ColumnText(int column) const override;
  absl::string_view ColumnBlob(int column) const override;
  void Reset() override;

 private:
  enum class Kind : char {
    kNull = 'n',
    kInteger = 'i',
    kText = 't',
    kBlob = 'b'
  };
  struct Parameter {
    Kind kind = Kind::kNull;
    char integer[8];  // Big-endian, as the binary format wants.
    std::string bytes;
  };

  absl::StatusOr<std::string> PreparedName();
  absl::Status CheckIndex(int index) const;
  absl::Status Execute();
  absl::string_view RawValue(int column) const;

  Connection* connection_;
  std::string text_;
  std::vector<Parameter> parameters_;
  // Prepared statement names by their parameters' kinds (one char each).
  absl::flat_hash_map<std::string, std::string> prepared_;
  PGresult* result_ = nullptr;
  int row_ = -1;
  int rows_ = 0;
  bool executed_ = false;
  // Text forms made on demand (integers, numerics) for the current row.
  mutable std::vector<std::string> texts_;
  mutable std::vector<bool> has_text_;
};

}  // namespace durable::backends::postgres

#endif  // DURABLE_BACKENDS_POSTGRES_STATEMENT_H_
