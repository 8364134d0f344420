#include "backends/mysql/statement.h"

#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/mysql/connection.h"

namespace durable::backends::mysql {
namespace {

// Text and blob buffers start at this size and grow to the largest value
// seen (events are often a few hundred bytes).
constexpr size_t kInitialColumnBuffer = 256;

constexpr unsigned int kBinaryCharset = 63;

bool IsIntegerType(enum_field_types type) {
  switch (type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
      return true;
    default:
      return false;
  }
}

bool IsRealType(enum_field_types type) {
  switch (type) {
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<MysqlStatement>> MysqlStatement::Create(
    Connection* connection, MYSQL_STMT* stmt,
    const sql::RenderedStatement& rendered) {
  std::unique_ptr<MysqlStatement> statement(
      new MysqlStatement(connection, stmt, rendered));
  if (mysql_stmt_param_count(stmt) != statement->positions_.size()) {
    return absl::InternalError(
        absl::StrCat("preparing \"", rendered.text, "\": the server counts ",
                     mysql_stmt_param_count(stmt), " parameters, the dialect ",
                     statement->positions_.size()));
  }
  absl::Status columns = statement->DescribeColumns();
  if (!columns.ok()) return columns;
  return statement;
}

MysqlStatement::MysqlStatement(Connection* connection, MYSQL_STMT* stmt,
                               const sql::RenderedStatement& rendered)
    : connection_(connection),
      stmt_(stmt),
      text_(rendered.text),
      parameters_(rendered.parameter_count),
      parameter_binds_(rendered.positions.size()),
      changes_rows_(ChangesRows(rendered.text)) {
  positions_.reserve(rendered.positions.size());
  for (int number : rendered.positions) positions_.push_back(number - 1);
}

MysqlStatement::~MysqlStatement() { mysql_stmt_close(stmt_); }

absl::Status MysqlStatement::Error(absl::string_view what) const {
  return connection_->LastError(mysql_stmt_errno(stmt_),
                                mysql_stmt_error(stmt_),
                                absl::StrCat(what, " \"", text_, "\""));
}

absl::Status MysqlStatement::DescribeColumns() {
  const unsigned int count = mysql_stmt_field_count(stmt_);
  if (count == 0) return absl::OkStatus();
  MYSQL_RES* metadata = mysql_stmt_result_metadata(stmt_);
  if (metadata == nullptr) return Error("reading the columns of");
  const MYSQL_FIELD* fields = mysql_fetch_fields(metadata);
  columns_.resize(count);
  column_binds_.resize(count);
  for (unsigned int i = 0; i < count; ++i) {
    Column& column = columns_[i];
    const MYSQL_FIELD& field = fields[i];
    if (IsIntegerType(field.type)) {
      column.type = sql::ValueType::kInteger;
      column.is_integer = true;
    } else if (IsRealType(field.type)) {
      column.type = sql::ValueType::kReal;
    } else if (field.charsetnr == kBinaryCharset) {
      column.type = sql::ValueType::kBlob;
    } else {
      column.type = sql::ValueType::kText;
    }
    if (!column.is_integer) column.buffer.resize(kInitialColumnBuffer);
  }
  mysql_free_result(metadata);
  BindColumnBuffers();
  return absl::OkStatus();
}

void MysqlStatement::BindColumnBuffers() {
  for (size_t i = 0; i < columns_.size(); ++i) {
    Column& column = columns_[i];
    MYSQL_BIND& bind = column_binds_[i];
    std::memset(&bind, 0, sizeof(bind));
    bind.length = &column.length;
    bind.is_null = &column.is_null;
    bind.error = &column.truncated;
    if (column.is_integer) {
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.buffer = &column.integer;
      bind.buffer_length = sizeof(column.integer);
    } else {
      // Numbers arrive as their text; strings and blobs as they are.
      bind.buffer_type = MYSQL_TYPE_STRING;
      bind.buffer = column.buffer.data();
      bind.buffer_length = column.buffer.size();
    }
  }
}

absl::Status MysqlStatement::CheckIndex(int index) const {
  if (index >= 1 && index <= static_cast<int>(parameters_.size())) {
    return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat("binding parameter ", index, " of \"",
                                          text_, "\": the statement has ",
                                          parameters_.size(), " parameters"));
}

absl::Status MysqlStatement::BindInt64(int index, int64_t value) {
  if (absl::Status status = CheckIndex(index); !status.ok()) return status;
  Parameter& parameter = parameters_[index - 1];
  parameter.kind = Kind::kInteger;
  parameter.integer = value;
  return absl::OkStatus();
}

absl::Status MysqlStatement::BindText(int index, absl::string_view value) {
  if (absl::Status status = CheckIndex(index); !status.ok()) return status;
  Parameter& parameter = parameters_[index - 1];
  parameter.kind = Kind::kText;
  parameter.bytes.assign(value.data(), value.size());
  return absl::OkStatus();
}

absl::Status MysqlStatement::BindBlob(int index, absl::string_view value) {
  if (absl::Status status = CheckIndex(index); !status.ok()) return status;
  Parameter& parameter = parameters_[index - 1];
  parameter.kind = Kind::kBlob;
  parameter.bytes.assign(value.data(), value.size());
  return absl::OkStatus();
}

absl::Status MysqlStatement::BindNull(int index) {
  if (absl::Status status = CheckIndex(index); !status.ok()) return status;
  parameters_[index - 1].kind = Kind::kNull;
  return absl::OkStatus();
}

absl::Status MysqlStatement::Execute() {
  for (size_t p = 0; p < positions_.size(); ++p) {
    Parameter& parameter = parameters_[positions_[p]];
    MYSQL_BIND& bind = parameter_binds_[p];
    std::memset(&bind, 0, sizeof(bind));
    switch (parameter.kind) {
      case Kind::kNull:
        bind.buffer_type = MYSQL_TYPE_NULL;
        break;
      case Kind::kInteger:
        bind.buffer_type = MYSQL_TYPE_LONGLONG;
        bind.buffer = &parameter.integer;
        break;
      case Kind::kText:
      case Kind::kBlob:
        bind.buffer_type =
            parameter.kind == Kind::kText ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
        // data() of an empty string is a valid pointer: an empty value,
        // not NULL.
        bind.buffer = parameter.bytes.data();
        parameter.length = parameter.bytes.size();
        bind.buffer_length = parameter.length;
        bind.length = &parameter.length;
        break;
    }
  }
  if (!parameter_binds_.empty() &&
      mysql_stmt_bind_param(stmt_, parameter_binds_.data()) != 0) {
    return Error("binding the parameters of");
  }
  if (mysql_stmt_execute(stmt_) != 0) return Error("executing");
  if (columns_.empty()) {
    const my_ulonglong affected = mysql_stmt_affected_rows(stmt_);
    if (affected != static_cast<my_ulonglong>(-1)) {
      connection_->NoteChanges(static_cast<int64_t>(affected), changes_rows_);
    }
    return absl::OkStatus();
  }
  if (mysql_stmt_bind_result(stmt_, column_binds_.data()) != 0) {
    return Error("binding the columns of");
  }
  if (mysql_stmt_store_result(stmt_) != 0) return Error("reading the rows of");
  has_result_ = true;
  return absl::OkStatus();
}

absl::Status MysqlStatement::FetchTruncatedColumns() {
  bool grown = false;
  for (size_t i = 0; i < columns_.size(); ++i) {
    Column& column = columns_[i];
    if (!column.truncated || column.is_integer) continue;
    column.buffer.resize(column.length);
    MYSQL_BIND& bind = column_binds_[i];
    bind.buffer = column.buffer.data();
    bind.buffer_length = column.buffer.size();
    if (mysql_stmt_fetch_column(stmt_, &bind, static_cast<unsigned int>(i),
                                0) != 0) {
      return Error(absl::StrCat("reading column ", i, " of"));
    }
    column.truncated = 0;
    grown = true;
  }
  // Later rows go straight into the grown buffers.
  if (grown && mysql_stmt_bind_result(stmt_, column_binds_.data()) != 0) {
    return Error("binding the columns of");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> MysqlStatement::Step() {
  if (!executed_) {
    executed_ = true;
    if (absl::Status status = Execute(); !status.ok()) return status;
  }
  if (!has_result_) return false;
  const int rc = mysql_stmt_fetch(stmt_);
  if (rc == MYSQL_NO_DATA) return false;
  if (rc == MYSQL_DATA_TRUNCATED) {
    if (absl::Status status = FetchTruncatedColumns(); !status.ok()) {
      return status;
    }
  } else if (rc != 0) {
    return Error("fetching a row of");
  }
  for (Column& column : columns_) column.text.clear();
  return true;
}

sql::ValueType MysqlStatement::ColumnType(int column) const {
  const Column& c = columns_[column];
  return c.is_null ? sql::ValueType::kNull : c.type;
}

int64_t MysqlStatement::ColumnInt64(int column) const {
  const Column& c = columns_[column];
  if (c.is_null) return 0;
  if (c.is_integer) return c.integer;
  int64_t value = 0;
  return absl::SimpleAtoi(ColumnText(column), &value) ? value : 0;
}

absl::string_view MysqlStatement::ColumnText(int column) const {
  const Column& c = columns_[column];
  if (c.is_null) return {};
  if (c.is_integer) {
    if (c.text.empty()) c.text = absl::StrCat(c.integer);
    return c.text;
  }
  return absl::string_view(c.buffer.data(), c.length);
}

void MysqlStatement::Reset() {
  // The result is buffered on the client, so ending the execution needs no
  // round trip (mysql_stmt_reset would make one).
  if (has_result_) mysql_stmt_free_result(stmt_);
  executed_ = false;
  has_result_ = false;
  for (Parameter& parameter : parameters_) {
    parameter.kind = Kind::kNull;
    parameter.bytes.clear();
  }
}

}  // namespace durable::backends::mysql
