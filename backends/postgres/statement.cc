#include "backends/postgres/statement.h"

#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/postgres/connection.h"

namespace durable::backends::postgres {
namespace {

// Type OIDs of pg_type (stable since PostgreSQL 7; libpq-dev ships no
// header for them).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// SQLSTATE indeterminate_datatype: a parameter the server cannot type.
constexpr char kIndeterminateDatatype[] = "42P18";

uint64_t LoadBigEndian(const char* bytes, int size) {
  uint64_t value = 0;
  for (int i = 0; i < size; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

int16_t Int16At(absl::string_view value, size_t offset) {
  return static_cast<int16_t>(LoadBigEndian(value.data() + offset, 2));
}

// The decimal text of a numeric in binary format: int16 ndigits, int16
// weight, uint16 sign, int16 dscale, then ndigits base-10000 digits, the
// first worth 10000^weight.
std::string NumericText(absl::string_view value) {
  if (value.size() < 8) return "";
  const int ndigits = Int16At(value, 0);
  const int weight = Int16At(value, 2);
  const uint16_t sign = static_cast<uint16_t>(Int16At(value, 4));
  const int dscale = Int16At(value, 6);
  if (sign == 0xC000) return "NaN";
  if (sign == 0xD000) return "Infinity";
  if (sign == 0xF000) return "-Infinity";
  if (value.size() < 8 + 2 * static_cast<size_t>(ndigits)) return "";
  auto digit = [&](int i) -> int {
    return i >= 0 && i < ndigits ? Int16At(value, 8 + 2 * i) : 0;
  };
  std::string text = sign == 0x4000 ? "-" : "";
  if (weight < 0) {
    text += "0";
  } else {
    absl::StrAppend(&text, digit(0));
    for (int i = 1; i <= weight; ++i) {
      const int d = digit(i);
      text += static_cast<char>('0' + d / 1000);
      text += static_cast<char>('0' + d / 100 % 10);
      text += static_cast<char>('0' + d / 10 % 10);
      text += static_cast<char>('0' + d % 10);
    }
  }
  if (dscale > 0) {
    text += '.';
    std::string fraction;
    for (int i = weight + 1; static_cast<int>(fraction.size()) < dscale; ++i) {
      const int d = digit(i);
      fraction += static_cast<char>('0' + d / 1000);
      fraction += static_cast<char>('0' + d / 100 % 10);
      fraction += static_cast<char>('0' + d / 10 % 10);
      fraction += static_cast<char>('0' + d % 10);
    }
    text += fraction.substr(0, dscale);
  }
  return text;
}

std::string FloatText(double value) {
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : "";
}

}  // namespace

PostgresStatement::PostgresStatement(Connection* connection,
                                     const sql::RenderedStatement& rendered)
    : connection_(connection),
      text_(rendered.text),
      parameters_(rendered.parameter_count) {}

PostgresStatement::~PostgresStatement() {
  PQclear(result_);
  // The server-side statements end with the session; a long-lived session
  // that dropped statements would DEALLOCATE them, but a connection's cache
  // lives as long as the connection.
}

absl::Status PostgresStatement::CheckIndex(int index) const {
  if (index >= 1 && index <= static_cast<int>(parameters_.size())) {
    return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat("binding parameter ", index, " of \"",
                                          text_, "\": the statement has ",
                                          parameters_.size(), " parameters"));
}

absl::Status PostgresStatement::BindInt64(int index, int64_t value) {
  if (absl::Status status = CheckIndex(index); !status.ok()) return status;
  Parameter& parameter = parameters_[index - 1];
  parameter.kind = Kind::kInteger;
  const uint64_t bits = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) {
    parameter.integer[i] = static_cast<char>(bits >> (56 - 8 * i));
  }
  return absl::OkStatus();
}

absl::Status PostgresStatement::BindText(int index, absl::string_view value) {
  if (absl::Status status = CheckIndex(index); !status.ok()) return status;
  Parameter& parameter = parameters_[index - 1];
  parameter.kind = Kind::kText;
  parameter.bytes.assign(value.data(), value.size());
  return absl::OkStatus();
}

absl::Status PostgresStatement::BindBlob(int index, absl::string_view value) {
  if (absl::Status status = CheckIndex(index); !status.ok()) return status;
  Parameter& parameter = parameters_[index - 1];
  parameter.kind = Kind::kBlob;
  parameter.bytes.assign(value.data(), value.size());
  return absl::OkStatus();
}

absl::Status PostgresStatement::BindNull(int index) {
  if (absl::Status status = CheckIndex(index); !status.ok()) return status;
  parameters_[index - 1].kind = Kind::kNull;
  return absl::OkStatus();
}

absl::StatusOr<std::string> PostgresStatement::PreparedName() {
  std::string kinds;
  kinds.reserve(parameters_.size());
  for (const Parameter& parameter : parameters_) {
    kinds += static_cast<char>(parameter.kind);
  }
  auto it = prepared_.find(kinds);
  if (it != prepared_.end()) return it->second;

  std::vector<Oid> types;
  types.reserve(parameters_.size());
  bool has_null = false;
  for (const Parameter& parameter : parameters_) {
    switch (parameter.kind) {
      case Kind::kNull:
        types.push_back(0);  // The server infers it from the text.
        has_null = true;
        break;
      case Kind::kInteger:
        types.push_back(kInt8Oid);
        break;
      case Kind::kText:
        types.push_back(kTextOid);
        break;
      case Kind::kBlob:
        types.push_back(kByteaOid);
        break;
    }
  }
  const std::string name = connection_->NextStatementName();
  for (int attempt = 0; attempt < 2; ++attempt) {
    PGresult* result = PQprepare(connection_->pg(), name.c_str(), text_.c_str(),
                                 static_cast<int>(types.size()), types.data());
    if (result != nullptr && PQresultStatus(result) == PGRES_COMMAND_OK) {
      PQclear(result);
      prepared_.emplace(std::move(kinds), name);
      return name;
    }
    const char* sqlstate = result != nullptr
                               ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                               : nullptr;
    const bool untyped_null =
        has_null && attempt == 0 && sqlstate != nullptr &&
        std::strcmp(sqlstate, kIndeterminateDatatype) == 0;
    absl::Status status = connection_->ResultError(
        result, absl::StrCat("preparing \"", text_, "\""));
    PQclear(result);
    if (!untyped_null) return status;
    // `$1 IS NULL` and the like: a NULL is as good as a NULL text.
    for (Oid& type : types) {
      if (type == 0) type = kTextOid;
    }
  }
  return absl::InternalError("unreachable");
}

absl::Status PostgresStatement::Execute() {
  absl::StatusOr<std::string> name = PreparedName();
  if (!name.ok()) return name.status();
  const int count = static_cast<int>(parameters_.size());
  std::vector<const char*> values(count);
  std::vector<int> lengths(count);
  std::vector<int> formats(count, 1);
  for (int i = 0; i < count; ++i) {
    const Parameter& parameter = parameters_[i];
    switch (parameter.kind) {
      case Kind::kNull:
        values[i] = nullptr;
        break;
      case Kind::kInteger:
        values[i] = parameter.integer;
        lengths[i] = 8;
        break;
      case Kind::kText:
      case Kind::kBlob:
        values[i] = parameter.bytes.data();
        lengths[i] = static_cast<int>(parameter.bytes.size());
        break;
    }
  }
  result_ = PQexecPrepared(connection_->pg(), name->c_str(), count,
                           values.data(), lengths.data(), formats.data(),
                           /*resultFormat=*/1);
  const ExecStatusType status =
      result_ != nullptr ? PQresultStatus(result_) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    absl::Status error = connection_->ResultError(
        result_, absl::StrCat("executing \"", text_, "\""));
    PQclear(result_);
    result_ = nullptr;
    return error;
  }
  connection_->NoteChanges(result_);
  rows_ = status == PGRES_TUPLES_OK ? PQntuples(result_) : 0;
  const int columns = PQnfields(result_);
  texts_.resize(columns);
  has_text_.assign(columns, false);
  return absl::OkStatus();
}

absl::StatusOr<bool> PostgresStatement::Step() {
  if (!executed_) {
    executed_ = true;
    if (absl::Status status = Execute(); !status.ok()) return status;
  }
  if (result_ == nullptr || row_ + 1 >= rows_) {
    row_ = rows_;
    return false;
  }
  ++row_;
  std::fill(has_text_.begin(), has_text_.end(), false);
  return true;
}

absl::string_view PostgresStatement::RawValue(int column) const {
  return absl::string_view(PQgetvalue(result_, row_, column),
                           PQgetlength(result_, row_, column));
}

sql::ValueType PostgresStatement::ColumnType(int column) const {
  if (PQgetisnull(result_, row_, column)) return sql::ValueType::kNull;
  switch (PQftype(result_, column)) {
    case kBoolOid:
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
      return sql::ValueType::kInteger;
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return sql::ValueType::kReal;
    case kByteaOid:
      return sql::ValueType::kBlob;
    default:
      return sql::ValueType::kText;
  }
}

int64_t PostgresStatement::ColumnInt64(int column) const {
  if (PQgetisnull(result_, row_, column)) return 0;
  const absl::string_view raw = RawValue(column);
  switch (PQftype(result_, column)) {
    case kBoolOid:
      return raw.size() == 1 && raw[0] != 0 ? 1 : 0;
    case kInt2Oid:
      return raw.size() == 2
                 ? static_cast<int16_t>(LoadBigEndian(raw.data(), 2))
                 : 0;
    case kInt4Oid:
      return raw.size() == 4
                 ? static_cast<int32_t>(LoadBigEndian(raw.data(), 4))
                 : 0;
    case kInt8Oid:
      return raw.size() == 8
                 ? static_cast<int64_t>(LoadBigEndian(raw.data(), 8))
                 : 0;
    default: {
      int64_t value = 0;
      return absl::SimpleAtoi(ColumnText(column), &value) ? value : 0;
    }
  }
}

absl::string_view PostgresStatement::ColumnText(int column) const {
  if (PQgetisnull(result_, row_, column)) return {};
  const Oid type = PQftype(result_, column);
  const absl::string_view raw = RawValue(column);
  if (has_text_[column]) return texts_[column];
  std::string& text = texts_[column];
  switch (type) {
    case kBoolOid:
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
      text = absl::StrCat(ColumnInt64(column));
      break;
    case kNumericOid:
      text = NumericText(raw);
      break;
    case kFloat4Oid: {
      const uint32_t bits =
          raw.size() == 4 ? static_cast<uint32_t>(LoadBigEndian(raw.data(), 4))
                          : 0;
      float value;
      std::memcpy(&value, &bits, sizeof(value));
      text = FloatText(value);
      break;
    }
    case kFloat8Oid: {
      const uint64_t bits = raw.size() == 8 ? LoadBigEndian(raw.data(), 8) : 0;
      double value;
      std::memcpy(&value, &bits, sizeof(value));
      text = FloatText(value);
      break;
    }
    default:
      return raw;  // text, varchar, bytea...: the bytes themselves.
  }
  has_text_[column] = true;
  return text;
}

absl::string_view PostgresStatement::ColumnBlob(int column) const {
  if (PQgetisnull(result_, row_, column)) return {};
  return RawValue(column);
}

void PostgresStatement::Reset() {
  PQclear(result_);
  result_ = nullptr;
  executed_ = false;
  row_ = -1;
  rows_ = 0;
  for (Parameter& parameter : parameters_) {
    parameter.kind = Kind::kNull;
    parameter.bytes.clear();
  }
}

}  // namespace durable::backends::postgres
