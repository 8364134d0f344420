// Transaction: RAII scope of one transaction on a Connection.
//
// Rolls back on destruction unless Commit() succeeded, so every early
// `return status` inside a transaction leaves the database untouched:
//
//   DURABLE_ASSIGN_OR_RETURN(
//       Transaction txn,
//       Transaction::Begin(&connection, Transaction::Mode::kWrite));
//   DURABLE_RETURN_IF_ERROR(...writes...);
//   return txn.Commit();
//
// A failed Commit() leaves the transaction to the destructor's rollback.
#ifndef DURABLE_BACKENDS_SQL_TRANSACTION_H_
#define DURABLE_BACKENDS_SQL_TRANSACTION_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/sql/connection.h"

namespace durable::backends::sql {

class Transaction {
 public:
  using Mode = TransactionMode;

  static absl::StatusOr<Transaction> Begin(Connection* connection, Mode mode);
  ~Transaction();

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  absl::Status Commit();

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}

  // Null once committed (or moved from).
  Connection* connection_;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_TRANSACTION_H_
