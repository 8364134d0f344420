#include "backends/redis/redis_uri.h"

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace durable::backends::redis {
namespace {

absl::Status Malformed(const core::storage::BackendUri& uri,
                       absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed backend URI \"", uri.redacted, "\": ", why,
                   "; expected ", kRedisUriForms));
}

}  // namespace

std::string ServerAddress(const RedisOptions& options) {
  return absl::StrCat(options.host, ":", options.port);
}

absl::StatusOr<RedisOptions> RedisOptionsFromUri(
    const core::storage::BackendUri& uri) {
  if (!uri.has_authority) {
    return Malformed(uri, "a Redis URI starts with \"redis://\" and a host");
  }
  absl::StatusOr<std::map<std::string, std::string>> query =
      core::storage::QueryOptions(uri, {"connect_timeout_ms", "prefix"});
  if (!query.ok()) return query.status();
  RedisOptions options;
  if (uri.host.empty()) return Malformed(uri, "the host is missing");
  options.host = uri.host;
  // A bracketed IPv6 literal keeps its brackets in BackendUri::host.
  if (options.host.size() > 2 && options.host.front() == '[' &&
      options.host.back() == ']') {
    options.host = options.host.substr(1, options.host.size() - 2);
  }
  if (uri.port.has_value()) options.port = *uri.port;
  if (!uri.user.empty() && !uri.password.has_value()) {
    return Malformed(uri, absl::StrCat("user \"", uri.user,
                                       "\" has no password (write "
                                       "user:password@)"));
  }
  options.user = uri.user;
  options.password = uri.password;
  if (!uri.path.empty() && uri.path != "/") {
    const std::string db = uri.path.substr(1);
    if (uri.path[0] != '/' || !absl::SimpleAtoi(db, &options.db) ||
        options.db < 0 || db.empty() || db[0] == '+' || db[0] == '-') {
      return Malformed(uri, absl::StrCat("the path \"", uri.path,
                                         "\" is not a database number "
                                         "(\"/0\", \"/1\", ...)"));
    }
  }
  if (auto it = query->find("prefix"); it != query->end()) {
    const std::string& prefix = it->second;
    if (prefix.empty() || prefix.size() > 128) {
      return Malformed(uri, "prefix must be 1 to 128 characters long");
    }
    for (unsigned char c : prefix) {
      if (c == '{' || c == '}' || c < 0x20 || c == 0x7f) {
        return Malformed(uri, absl::StrCat("prefix \"", prefix,
                                           "\" contains \"{\", \"}\" or a "
                                           "control character"));
      }
    }
    options.prefix = prefix;
  }
  if (auto it = query->find("connect_timeout_ms"); it != query->end()) {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(it->second, &ms) || ms < 1 || ms > 3600000) {
      return Malformed(uri, absl::StrCat("connect_timeout_ms \"", it->second,
                                         "\" is not a number of milliseconds "
                                         "from 1 to 3600000"));
    }
    options.connect_timeout = absl::Milliseconds(ms);
  }
  return options;
}

}  // namespace durable::backends::redis
