// RedisOptions and the "redis" URI: how a backend URI names a Redis store.
//
//   redis://[user[:password]@]host[:port][/db][?prefix=NAME&connect_timeout_ms=N]
//
// URIs follow core/storage/backend_uri.h (percent-encoding, no fragment).
// The port defaults to 6379 and the database number to 0. `prefix` (default
// "durable") names the store inside the server: every key the store writes
// starts with "{prefix}:", so several applications (or test runs) share one
// server without seeing each other's instances or tasks, and the braces make
// the prefix a Redis Cluster hash tag, which keeps one store's keys in one
// slot, as its Lua scripts need. A prefix is 1 to 128 characters, none of
// them "{", "}" or a control character. connect_timeout_ms (default 5000)
// bounds connecting and authenticating.
//
// Every part that is malformed or unknown is INVALID_ARGUMENT naming it and
// quoting the URI with its password redacted: a path that is not "/N" with N
// a non-negative database number ("/abc" and "/1/2" are refused; whether the
// server has database N is the server's to say when the store opens), an
// empty host, an unknown query option (listing the known ones), a bad prefix
// or timeout, a user without a password.
#ifndef DURABLE_BACKENDS_REDIS_REDIS_URI_H_
#define DURABLE_BACKENDS_REDIS_REDIS_URI_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/storage/backend_uri.h"

namespace durable::backends::redis {

// The URI forms, as error messages quote them.
inline constexpr char kRedisUriForms[] =
    "redis://[user:password@]host[:port][/db][?prefix=NAME]";

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Empty: no AUTH. A password alone authenticates the default user.
  std::string user;
  std::optional<std::string> password;
  int64_t db = 0;
  // Keys are "{prefix}:..." (see the top of this file).
  std::string prefix = "durable";
  absl::Duration connect_timeout = absl::Seconds(5);
  // How often a blocked poll looks again when nothing woke it: only a
  // safety net, since every commit of any process wakes it (RedisStore).
  // Not settable by URI.
  absl::Duration recheck_interval = absl::Seconds(1);
  // Where the store reads the time. Not owned; must outlive the store.
  const core::Clock* clock = &core::Clock::Real();
};

// The options `uri` (scheme "redis") names; see the top of this file.
absl::StatusOr<RedisOptions> RedisOptionsFromUri(
    const core::storage::BackendUri& uri);

// "host:port", as messages name the server.
std::string ServerAddress(const RedisOptions& options);

}  // namespace durable::backends::redis

#endif  // DURABLE_BACKENDS_REDIS_REDIS_URI_H_
