// Conversion of PostgreSQL errors (libpq) into absl::Status.
//
// Every failure surfaces as a status whose message names what durable was
// doing ("context"), the server's own explanation and its SQLSTATE, so one
// log line says which statement failed and why. The codes are the ones
// sql::Connection asks of every driver (backends/sql/connection.h):
//   40001 serialization failure, 40P01 deadlock,
//   55P03 lock not available (lock_timeout)             -> ABORTED
//   class 08 (connection exceptions), 57P01-57P03
//   (shutdown, cannot connect now), no SQLSTATE (the
//   connection is gone)                                  -> UNAVAILABLE
//   23505 unique violation                               -> ALREADY_EXISTS
//   class 28 (invalid authorization), 42501
//   insufficient privilege                               -> PERMISSION_DENIED
//   class 53 (disk full, out of memory, too many
//   connections)                                         -> RESOURCE_EXHAUSTED
//   XX001/XX002 (data or index corrupted)                -> DATA_LOSS
//   22021/22P05 (a character the encoding cannot hold,
//   e.g. NUL in text)                                    -> INVALID_ARGUMENT
//   anything else (SQL errors: bugs)                     -> INTERNAL
#ifndef DURABLE_BACKENDS_POSTGRES_POSTGRES_STATUS_H_
#define DURABLE_BACKENDS_POSTGRES_POSTGRES_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace durable::backends::postgres {

// The canonical code for a five-character SQLSTATE; empty (no SQLSTATE: the
// client lost the connection) is UNAVAILABLE.
absl::StatusCode SqlStateCode(absl::string_view sqlstate);

// "<context>: <message> (SQLSTATE <sqlstate>)" with the code above; the
// message is libpq's, trailing newlines removed.
absl::Status PostgresStatus(absl::string_view sqlstate,
                            absl::string_view message,
                            absl::string_view context);

}  // namespace durable::backends::postgres

#endif  // DURABLE_BACKENDS_POSTGRES_POSTGRES_STATUS_H_
