// Conversion of SQLite result codes into absl::Status.
//
// Every SQLite failure surfaces as a status whose message names what durable
// was doing ("context") and SQLite's own explanation, so a log line is enough
// to see which statement failed and why.
#ifndef DURABLE_BACKENDS_SQLITE_SQLITE_STATUS_H_
#define DURABLE_BACKENDS_SQLITE_SQLITE_STATUS_H_

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace durable::backends::sqlite {

// Maps `rc` (a primary or extended SQLite result code other than SQLITE_OK,
// SQLITE_ROW or SQLITE_DONE) onto the closest canonical code:
//   BUSY, LOCKED, IOERR, CANTOPEN -> UNAVAILABLE (retrying may help)
//   READONLY, PERM, AUTH          -> PERMISSION_DENIED
//   CORRUPT, NOTADB               -> DATA_LOSS
//   FULL, NOMEM                   -> RESOURCE_EXHAUSTED
//   CONSTRAINT                    -> ALREADY_EXISTS
//   anything else                 -> INTERNAL
// `db` may be null; when set, its error message is appended.
absl::Status SqliteStatus(int rc, sqlite3* db, absl::string_view context);

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_SQLITE_STATUS_H_
