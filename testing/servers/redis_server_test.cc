// Starts a private redis-server and talks to it with hiredis, the client
// library of the Redis backend; checks the launcher's lifecycle guarantees.
#include "testing/servers/redis_server.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/servers/lifecycle_checks.h"
#include "testing/servers/shared_server.h"

namespace durable::testing {
namespace {

struct ContextFree {
  void operator()(redisContext* context) const { redisFree(context); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

// The reply to `command`, as its string (status, bulk string or error).
std::string Command(redisContext* context, const char* format,
                    const char* arg1 = nullptr, const char* arg2 = nullptr) {
  auto* reply =
      static_cast<redisReply*>(redisCommand(context, format, arg1, arg2));
  if (reply == nullptr)
    return absl::StrCat("(no reply: ", context->errstr, ")");
  std::string text;
  if (reply->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < reply->elements; ++i) {
      absl::StrAppend(&text, i ? " " : "", reply->element[i]->str);
    }
  } else if (reply->str != nullptr) {
    text = reply->str;
  }
  freeReplyObject(reply);
  return text;
}

TEST(RedisServerTest, AnswersPingSetAndGet) {
  absl::Time start = absl::Now();
  absl::StatusOr<RedisServer*> server = SharedServer<RedisServer>::Get();
  ASSERT_TRUE(server.ok()) << server.status();
  std::cout << "[timing] shared redis-server ready in "
            << absl::FormatDuration(absl::Now() - start) << std::endl;
  EXPECT_EQ((*server)->uri(),
            absl::StrCat("redis://127.0.0.1:", (*server)->port()));

  Context context(
      redisConnectWithTimeout("127.0.0.1", (*server)->port(), timeval{5, 0}));
  ASSERT_NE(context, nullptr);
  ASSERT_EQ(context->err, 0) << context->errstr;
  EXPECT_EQ(Command(context.get(), "PING"), "PONG");
  EXPECT_EQ(
      Command(context.get(), "SET %s %s", "durable:test:greeting", "hello"),
      "OK");
  EXPECT_EQ(Command(context.get(), "GET %s", "durable:test:greeting"), "hello");
  // Bound to loopback, nothing persisted.
  EXPECT_EQ(Command(context.get(), "CONFIG GET bind"), "bind 127.0.0.1");
  EXPECT_EQ(Command(context.get(), "CONFIG GET save"), "save ");
  EXPECT_EQ(Command(context.get(), "CONFIG GET appendonly"), "appendonly no");
}

TEST(RedisServerTest, SharedServerIsOnePerBinary) {
  absl::StatusOr<RedisServer*> first = SharedServer<RedisServer>::Get();
  absl::StatusOr<RedisServer*> second = SharedServer<RedisServer>::Get();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*first, *second);
  EXPECT_GT((*first)->pid(), 0);
}

TEST(RedisServerTest, StopLeavesNoProcessAndNoDirectory) {
  ExpectStopLeavesNothing<RedisServer>("redis-server");
}

TEST(RedisServerTest, DiesWithTheProcessThatStartedIt) {
  ExpectServerDiesWithItsParent<RedisServer>("redis-server");
}

}  // namespace
}  // namespace durable::testing
