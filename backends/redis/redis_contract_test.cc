// The store contract suite (backends/conformance) on Redis: one private
// redis-server for the whole binary (testing/servers), and a fresh key
// prefix for every test, so that tests never see each other's keys.
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/conformance/store_contract_tests.h"
#include "backends/redis/redis_store.h"
#include "gtest/gtest.h"
#include "testing/servers/redis_server.h"
#include "testing/servers/shared_server.h"

namespace durable::backends::redis {
namespace {

std::shared_ptr<core::AdminStore> OpenRedis() {
  static std::atomic<int> counter = 0;
  absl::StatusOr<testing::RedisServer*> server =
      testing::SharedServer<testing::RedisServer>::Get();
  if (!server.ok()) {
    ADD_FAILURE() << "cannot start redis-server: " << server.status();
    return nullptr;
  }
  RedisOptions options;
  options.host = "127.0.0.1";
  options.port = (*server)->port();
  options.prefix = absl::StrCat("contract-", getpid(), "-", counter++);
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  if (!store.ok()) {
    ADD_FAILURE() << "cannot open the Redis store: " << store.status();
    return nullptr;
  }
  return std::shared_ptr<core::AdminStore>(std::move(*store));
}

}  // namespace
}  // namespace durable::backends::redis

INSTANTIATE_STORE_CONTRACT_TESTS(Redis, [] {
  return durable::backends::redis::OpenRedis();
});
