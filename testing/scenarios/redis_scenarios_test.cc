// The end-to-end scenarios on Redis: one private redis-server for the
// binary (testing/servers), a fresh key prefix for every scenario, each with
// the executor cache on and off. Damaged history is written through a
// connection of the test's own.
#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "testing/scenarios/end_to_end_scenarios.h"
#include "testing/servers/redis_server.h"
#include "testing/servers/shared_server.h"

namespace {

using durable::testing::RedisServer;
using durable::testing::SharedServer;

constexpr char kPrefixOption[] = "/?prefix=";

std::string FreshRedisUri() {
  static std::atomic<int> counter = 0;
  absl::StatusOr<RedisServer*> server = SharedServer<RedisServer>::Get();
  if (!server.ok()) {
    ADD_FAILURE() << "cannot start redis-server: " << server.status();
    return "redis://127.0.0.1:1";
  }
  return absl::StrCat((*server)->uri(), kPrefixOption, "e2e-", getpid(), "-",
                      counter++);
}

// Overwrites event `event_id` of every execution of `instance_id` in the
// store at `uri` (as FreshRedisUri writes them; key layout of
// backends/redis/scripts.h).
absl::Status CorruptRedisHistory(const std::string& uri,
                                 const std::string& instance_id,
                                 int64_t event_id) {
  absl::StatusOr<RedisServer*> server = SharedServer<RedisServer>::Get();
  if (!server.ok()) return server.status();
  const size_t at = uri.find(kPrefixOption);
  if (at == std::string::npos) {
    return absl::UnimplementedError(absl::StrCat("no prefix in ", uri));
  }
  const std::string prefix =
      absl::StrCat("{", uri.substr(at + sizeof(kPrefixOption) - 1), "}:");
  redisContext* context =
      redisConnectWithTimeout("127.0.0.1", (*server)->port(), timeval{5, 0});
  if (context == nullptr || context->err != 0) {
    if (context != nullptr) redisFree(context);
    return absl::UnavailableError("cannot connect to the test's redis-server");
  }
  absl::Status status = absl::NotFoundError(
      absl::StrCat("no history of ", instance_id, " in ", uri));
  const std::string executions = prefix + "xs:" + instance_id;
  auto* list = static_cast<redisReply*>(redisCommand(
      context, "ZRANGE %b 0 -1", executions.data(), executions.size()));
  if (list != nullptr && list->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < list->elements; ++i) {
      const std::string history = absl::StrCat(
          prefix, "x:", instance_id.size(), ":", instance_id, ":",
          std::string(list->element[i]->str, list->element[i]->len), ":h");
      const std::string index = absl::StrCat(event_id - 1);
      auto* set = static_cast<redisReply*>(
          redisCommand(context, "LSET %b %s %b", history.data(), history.size(),
                       index.c_str(), "\xff\xff\xff\xff", size_t{4}));
      if (set != nullptr && set->type == REDIS_REPLY_STATUS) {
        status = absl::OkStatus();
      }
      if (set != nullptr) freeReplyObject(set);
    }
  }
  if (list != nullptr) freeReplyObject(list);
  redisFree(context);
  return status;
}

}  // namespace

INSTANTIATE_END_TO_END_SCENARIOS_WITH_CORRUPTER(Redis, FreshRedisUri,
                                                CorruptRedisHistory);
