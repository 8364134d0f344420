#include "backends/sqlite/sqlite_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace durable::backends::sqlite {

absl::Status SqliteStatus(int rc, sqlite3* db, absl::string_view context) {
  absl::StatusCode code;
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      code = absl::StatusCode::kUnavailable;
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      code = absl::StatusCode::kPermissionDenied;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = absl::StatusCode::kDataLoss;
      break;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      code = absl::StatusCode::kResourceExhausted;
      break;
    case SQLITE_CONSTRAINT:
      code = absl::StatusCode::kAlreadyExists;
      break;
    default:
      code = absl::StatusCode::kInternal;
      break;
  }
  // sqlite3_errmsg describes the most recent failure on `db`, which is the
  // one we are reporting as long as the caller converts it right away; the
  // generic text of `rc` is the fallback when there is no connection.
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return absl::Status(
      code, absl::StrCat(context, ": ", detail, " (sqlite code ", rc, ")"));
}

}  // namespace durable::backends::sqlite
