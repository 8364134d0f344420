#include "backends/sqlite/sqlite_scheme.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "backends/sqlite/sqlite_store.h"
#include "core/storage/store_registry.h"

namespace durable::backends::sqlite {
namespace {

absl::Status Malformed(const core::storage::BackendUri& uri,
                       absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed backend URI \"", uri.redacted, "\": ", why,
                   "; expected ", kSqliteUriForms));
}

absl::StatusOr<std::shared_ptr<core::AdminStore>> Shared(
    absl::StatusOr<std::unique_ptr<SqliteStore>> store) {
  if (!store.ok()) return store.status();
  return std::shared_ptr<core::AdminStore>(std::move(*store));
}

// Linking this library is what makes "sqlite" URIs open (see the header).
const core::storage::StoreSchemeRegistration kSqliteScheme("sqlite",
                                                           kSqliteUriForms,
                                                           &OpenSqliteUri);

}  // namespace

absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenSqliteUri(
    const core::storage::BackendUri& uri) {
  absl::StatusOr<std::map<std::string, std::string>> query =
      core::storage::QueryOptions(uri, {"busy_timeout_ms"});
  if (!query.ok()) return query.status();
  SqliteOptions options;
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
    return Shared(SqliteStore::Open(options));
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
  return Shared(SqliteStore::Open(options));
}

}  // namespace durable::backends::sqlite
