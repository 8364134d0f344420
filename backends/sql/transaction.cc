#include "backends/sql/transaction.h"

#include <utility>

namespace durable::backends::sql {

absl::StatusOr<Transaction> Transaction::Begin(Connection* connection,
                                               Mode mode) {
  absl::Status status = connection->Begin(mode);
  if (!status.ok()) return status;
  return Transaction(connection);
}

Transaction::Transaction(Transaction&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)) {}

Transaction::~Transaction() {
  if (connection_ != nullptr) {
    // Nothing useful can be done with a failed rollback here: the database
    // rolls back by itself when the connection closes, and a transaction it
    // already ended makes ROLLBACK fail harmlessly.
    connection_->Rollback().IgnoreError();
  }
}

absl::Status Transaction::Commit() {
  absl::Status status = connection_->Commit();
  if (status.ok()) connection_ = nullptr;
  return status;
}

}  // namespace durable::backends::sql
