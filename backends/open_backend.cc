#include "backends/open_backend.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/sqlite/sqlite_store.h"
#include "core/storage/backend_uri.h"

namespace durable::backends {
namespace {

constexpr char kSqliteExpected[] =
    "expected sqlite:///path/to/file.db or sqlite::memory:";

absl::Status Malformed(const core::storage::BackendUri& uri,
                       absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed backend URI \"",
                                                 uri.redacted, "\": ", why,
                                                 "; ", kSqliteExpected));
}

absl::StatusOr<std::shared_ptr<core::AdminStore>> Shared(
    absl::StatusOr<std::unique_ptr<sqlite::SqliteStore>> backend) {
  if (!backend.ok()) return backend.status();
  return std::shared_ptr<core::AdminStore>(std::move(*backend));
}

absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenSqlite(
    const core::storage::BackendUri& uri) {
  absl::StatusOr<std::map<std::string, std::string>> query =
      core::storage::QueryOptions(uri, {"busy_timeout_ms"});
  if (!query.ok()) return query.status();
  sqlite::SqliteOptions options;
  if (auto it = query->find("busy_timeout_ms"); it != query->end()) {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(it->second, &ms) || ms < 0 || ms > INT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(
          "backend URI \"", uri.redacted, "\": busy_timeout_ms \"", it->second,
          "\" is not a number of milliseconds from 0 to ", INT32_MAX));
    }
    options.busy_timeout = absl::Milliseconds(ms);
  }
  if (!uri.has_authority) {
    if (uri.path != ":memory:") return Malformed(uri, "unknown form");
    options.in_memory = true;
    return Shared(sqlite::SqliteStore::Open(options));
  }
  if (!uri.host.empty() || uri.port.has_value() || !uri.user.empty()) {
    return Malformed(uri, "a SQLite file has no host (write three slashes)");
  }
  // "/" alone names a directory, never a database file.
  if (!absl::StartsWith(uri.path, "/") || uri.path.size() < 2 ||
      absl::EndsWith(uri.path, "/")) {
    return Malformed(uri, "the path must name a file by its absolute path");
  }
  options.path = uri.path;
  return Shared(sqlite::SqliteStore::Open(options));
}

}  // namespace

absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenBackend(
    absl::string_view uri) {
  if (uri.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty backend URI: ", kSqliteExpected));
  }
  absl::StatusOr<core::storage::BackendUri> parsed =
      core::storage::ParseBackendUri(uri);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(parsed.status().message(), "; ", kSqliteExpected));
  }
  if (parsed->scheme != "sqlite") {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported backend URI scheme \"", parsed->scheme,
                     "\" in \"", parsed->redacted, "\" (supported: sqlite)"));
  }
  return OpenSqlite(*parsed);
}

}  // namespace durable::backends
