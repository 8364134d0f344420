#include "backends/open_backend.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/sqlite/sqlite_backend.h"

namespace durable::backends {
namespace {

constexpr char kSqliteExpected[] =
    "expected sqlite:///path/to/file.db or sqlite::memory:";

absl::Status Malformed(absl::string_view uri) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed backend URI \"", uri, "\": ", kSqliteExpected));
}

absl::StatusOr<std::shared_ptr<core::Backend>> Shared(
    absl::StatusOr<std::unique_ptr<sqlite::SqliteBackend>> backend) {
  if (!backend.ok()) return backend.status();
  return std::shared_ptr<core::Backend>(std::move(*backend));
}

}  // namespace

absl::StatusOr<std::shared_ptr<core::Backend>> OpenBackend(
    absl::string_view uri) {
  if (uri.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty backend URI: ", kSqliteExpected));
  }
  if (uri == "sqlite::memory:") {
    sqlite::SqliteOptions options;
    options.in_memory = true;
    return Shared(sqlite::SqliteBackend::Open(options));
  }
  // The scheme is what precedes the first ':'; "sqlite:" forms that are not
  // exactly one of the accepted shapes are malformed rather than unknown.
  size_t colon = uri.find(':');
  absl::string_view scheme =
      colon == absl::string_view::npos ? uri : uri.substr(0, colon);
  if (scheme != "sqlite") {
    if (colon == absl::string_view::npos || scheme.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed backend URI \"", uri, "\": no scheme; ", kSqliteExpected));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported backend URI scheme \"", scheme, "\" in \"",
                     uri, "\" (supported: sqlite)"));
  }
  constexpr absl::string_view kFilePrefix = "sqlite://";
  if (!absl::StartsWith(uri, kFilePrefix)) return Malformed(uri);
  absl::string_view path = uri.substr(kFilePrefix.size());
  // "/" alone names a directory, never a database file.
  if (!absl::StartsWith(path, "/") || path.size() < 2 ||
      absl::EndsWith(path, "/")) {
    return Malformed(uri);
  }
  sqlite::SqliteOptions options;
  options.path = std::string(path);
  return Shared(sqlite::SqliteBackend::Open(options));
}

}  // namespace durable::backends
