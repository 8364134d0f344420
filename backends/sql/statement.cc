#include "backends/sql/statement.h"

#include <utility>

namespace durable::backends::sql {

absl::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNull:
      return "null";
    case ValueType::kInteger:
      return "integer";
    case ValueType::kReal:
      return "real";
    case ValueType::kText:
      return "text";
    case ValueType::kBlob:
      return "blob";
  }
  return "unknown";
}

Statement::Statement(PreparedStatement* prepared) : prepared_(prepared) {
  prepared_->in_use_ = true;
}

Statement::~Statement() {
  if (prepared_ != nullptr) {
    prepared_->Reset();
    prepared_->in_use_ = false;
  }
}

Statement::Statement(Statement&& other) noexcept
    : prepared_(std::exchange(other.prepared_, nullptr)),
      bind_status_(std::move(other.bind_status_)) {}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

}  // namespace durable::backends::sql
