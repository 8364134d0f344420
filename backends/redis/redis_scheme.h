// The "redis" URI scheme: how a backend URI names a Redis store.
//
//   redis://[user:password@]host[:port][/db][?prefix=NAME&connect_timeout_ms=N]
//
// redis_uri.h says what each part means and which are refused; opening
// errors (server unreachable, credentials refused) come from
// RedisStore::Open and name the server as host:port.
//
// Linking the `redis_scheme` library registers the scheme with the store
// registry (core/storage/store_registry.h); programs normally get it through
// //backends:all_stores.
#ifndef DURABLE_BACKENDS_REDIS_REDIS_SCHEME_H_
#define DURABLE_BACKENDS_REDIS_REDIS_SCHEME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/storage/admin_store.h"
#include "core/storage/backend_uri.h"

namespace durable::backends::redis {

// Opens the Redis store `uri` (whose scheme is "redis") names.
absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenRedisUri(
    const core::storage::BackendUri& uri);

}  // namespace durable::backends::redis

#endif  // DURABLE_BACKENDS_REDIS_REDIS_SCHEME_H_
