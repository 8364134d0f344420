#include "backends/mysql/mysql_scheme.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/storage/store_registry.h"

namespace durable::backends::mysql {
namespace {

absl::Status Malformed(const core::storage::BackendUri& uri,
                       absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed backend URI \"", uri.redacted, "\": ", why,
                   "; expected ", kMysqlUriForms));
}

// `value` of option `key` as an integer in [low, high].
absl::StatusOr<int64_t> IntOption(const core::storage::BackendUri& uri,
                                  absl::string_view key,
                                  const std::string& value, int64_t low,
                                  int64_t high) {
  int64_t n = 0;
  if (!absl::SimpleAtoi(value, &n) || n < low || n > high) {
    return absl::InvalidArgumentError(
        absl::StrCat("backend URI \"", uri.redacted, "\": ", key, " \"", value,
                     "\" is not a number from ", low, " to ", high));
  }
  return n;
}

// Linking this library is what makes "mysql" URIs open (see the header).
const core::storage::StoreSchemeRegistration kMysqlScheme("mysql",
                                                          kMysqlUriForms,
                                                          &OpenMysqlUri);

}  // namespace

absl::StatusOr<MysqlOptions> MysqlOptionsFromUri(
    const core::storage::BackendUri& uri) {
  absl::StatusOr<std::map<std::string, std::string>> query =
      core::storage::QueryOptions(
          uri, {"socket", "pool_size", "connect_timeout_ms"});
  if (!query.ok()) return query.status();
  if (!uri.has_authority) return Malformed(uri, "no //user@host");
  if (uri.user.empty()) return Malformed(uri, "no user");
  MysqlOptions options;
  ConnectOptions& connect = options.connect;
  connect.user = uri.user;
  connect.password = uri.password.value_or("");
  if (auto it = query->find("socket"); it != query->end()) {
    if (!absl::StartsWith(it->second, "/")) {
      return Malformed(uri, "socket must be an absolute path");
    }
    if (uri.port.has_value()) {
      return Malformed(uri, "a socket connection has no port");
    }
    connect.unix_socket = it->second;
  } else if (uri.host.empty()) {
    return Malformed(uri, "no host");
  }
  if (!uri.host.empty()) connect.host = uri.host;
  if (uri.port.has_value()) connect.port = *uri.port;
  if (uri.path.size() < 2 || uri.path[0] != '/') {
    return Malformed(uri, "no database (the path names it)");
  }
  connect.database = uri.path.substr(1);
  if (absl::StrContains(connect.database, "/")) {
    return Malformed(uri, "the database name cannot contain \"/\"");
  }
  if (auto it = query->find("pool_size"); it != query->end()) {
    absl::StatusOr<int64_t> n =
        IntOption(uri, "pool_size", it->second, 1, 1024);
    if (!n.ok()) return n.status();
    options.pool_size = static_cast<int>(*n);
  }
  if (auto it = query->find("connect_timeout_ms"); it != query->end()) {
    absl::StatusOr<int64_t> n =
        IntOption(uri, "connect_timeout_ms", it->second, 1, INT32_MAX);
    if (!n.ok()) return n.status();
    connect.connect_timeout = absl::Milliseconds(*n);
  }
  return options;
}

absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenMysqlUri(
    const core::storage::BackendUri& uri) {
  absl::StatusOr<MysqlOptions> options = MysqlOptionsFromUri(uri);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::unique_ptr<MysqlStore>> store =
      MysqlStore::Open(*options);
  if (!store.ok()) return store.status();
  return std::shared_ptr<core::AdminStore>(std::move(*store));
}

}  // namespace durable::backends::mysql
