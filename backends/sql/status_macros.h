// Early-return helpers for absl::Status and absl::StatusOr, for the SQL
// stores (abseil ships no public equivalent).
#ifndef DURABLE_BACKENDS_SQL_STATUS_MACROS_H_
#define DURABLE_BACKENDS_SQL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"

// Returns the status of `expr` from the enclosing function unless it is OK.
#define DURABLE_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status durable_status_ = (expr);           \
    if (!durable_status_.ok()) return durable_status_; \
  } while (false)

#define DURABLE_STATUS_CONCAT_INNER_(a, b) a##b
#define DURABLE_STATUS_CONCAT_(a, b) DURABLE_STATUS_CONCAT_INNER_(a, b)

// `DURABLE_ASSIGN_OR_RETURN(T x, StatusOrExpr)`: declares and assigns `x` from
// the value, or returns the error from the enclosing function.
#define DURABLE_ASSIGN_OR_RETURN(lhs, expr) \
  DURABLE_ASSIGN_OR_RETURN_IMPL_(           \
      DURABLE_STATUS_CONCAT_(durable_statusor_, __LINE__), lhs, expr)
#define DURABLE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(*tmp)

#endif  // DURABLE_BACKENDS_SQL_STATUS_MACROS_H_
