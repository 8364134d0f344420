// OpenBackend: the one place that turns a backend URI into a Backend.
//
// Accepted URIs:
//   sqlite:///absolute/path/to/file.db   a SQLite file (created if missing);
//                                        the path is everything after
//                                        "sqlite://" and must be absolute.
//   sqlite::memory:                      a private in-memory SQLite database.
// Anything else is INVALID_ARGUMENT with a message that quotes the URI and
// says what was expected. Errors opening the database itself (a foreign or
// newer database, a read-only file) come from the backend unchanged.
#ifndef DURABLE_BACKENDS_OPEN_BACKEND_H_
#define DURABLE_BACKENDS_OPEN_BACKEND_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/backend.h"

namespace durable::backends {

absl::StatusOr<std::shared_ptr<core::Backend>> OpenBackend(
    absl::string_view uri);

}  // namespace durable::backends

#endif  // DURABLE_BACKENDS_OPEN_BACKEND_H_
