// OpenBackend: the one place that turns a backend URI into a Backend.
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
// file, a missing directory) come from the backend unchanged.
#ifndef DURABLE_BACKENDS_OPEN_BACKEND_H_
#define DURABLE_BACKENDS_OPEN_BACKEND_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/storage/admin_store.h"

namespace durable::backends {

absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenBackend(
    absl::string_view uri);

}  // namespace durable::backends

#endif  // DURABLE_BACKENDS_OPEN_BACKEND_H_
