#include "backends/redis/redis_scheme.h"

#include <utility>

#include "backends/redis/redis_store.h"
#include "backends/redis/redis_uri.h"
#include "core/storage/store_registry.h"

namespace durable::backends::redis {
namespace {

// Linking this library is what makes "redis" URIs open (see the header).
const core::storage::StoreSchemeRegistration kRedisScheme("redis",
                                                          kRedisUriForms,
                                                          &OpenRedisUri);

}  // namespace

absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenRedisUri(
    const core::storage::BackendUri& uri) {
  absl::StatusOr<RedisOptions> options = RedisOptionsFromUri(uri);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::unique_ptr<RedisStore>> store =
      RedisStore::Open(*options);
  if (!store.ok()) return store.status();
  return std::shared_ptr<core::AdminStore>(std::move(*store));
}

}  // namespace durable::backends::redis
