// The "sqlite" URI scheme: how a backend URI names a SQLite store.
//
// URIs follow core/storage/backend_uri.h (percent-encoding, query options,
// no fragments). Accepted:
//   sqlite:///absolute/path/to/file.db   a SQLite file (created if missing);
//                                        the path is percent-decoded and
//                                        must be absolute.
//   sqlite::memory:                      a private in-memory SQLite database.
// Query options of both: busy_timeout_ms=N, how long a write waits for
// another process's write lock before failing (default 5000). Any other
// option, and any other form, is INVALID_ARGUMENT with a message that quotes
// the URI (its password redacted) and says what was expected. Errors opening
// the database itself (a foreign, damaged or newer database, a read-only
// file, a missing directory) come from SqliteStore::Open unchanged.
//
// Linking the `sqlite_scheme` library registers the scheme with the store
// registry (core/storage/store_registry.h), so core::storage::OpenStore
// opens these URIs; programs normally get it through //backends:all_stores.
#ifndef DURABLE_BACKENDS_SQLITE_SQLITE_SCHEME_H_
#define DURABLE_BACKENDS_SQLITE_SQLITE_SCHEME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/storage/admin_store.h"
#include "core/storage/backend_uri.h"

namespace durable::backends::sqlite {

// The forms above, as error messages quote them.
inline constexpr char kSqliteUriForms[] =
    "sqlite:///path/to/file.db or sqlite::memory:";

// Opens the SQLite store `uri` (whose scheme is "sqlite") names.
absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenSqliteUri(
    const core::storage::BackendUri& uri);

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_SQLITE_SCHEME_H_
