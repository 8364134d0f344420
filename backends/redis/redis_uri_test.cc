#include "backends/redis/redis_uri.h"

#include "absl/status/status.h"
#include "core/storage/backend_uri.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::redis {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<RedisOptions> Parse(absl::string_view text) {
  absl::StatusOr<core::storage::BackendUri> uri =
      core::storage::ParseBackendUri(text);
  if (!uri.ok()) return uri.status();
  return RedisOptionsFromUri(*uri);
}

// The error of `text`, which must be INVALID_ARGUMENT.
std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<RedisOptions> options = Parse(text);
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument)
      << text;
  return std::string(options.status().message());
}

TEST(RedisUriTest, HostAndPort) {
  absl::StatusOr<RedisOptions> options = Parse("redis://10.0.0.5:7000");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->host, "10.0.0.5");
  EXPECT_EQ(options->port, 7000);
  EXPECT_EQ(options->db, 0);
  EXPECT_EQ(options->prefix, "durable");
  EXPECT_TRUE(options->user.empty());
  EXPECT_FALSE(options->password.has_value());
  EXPECT_EQ(ServerAddress(*options), "10.0.0.5:7000");
}

TEST(RedisUriTest, DefaultsPortAndDatabase) {
  absl::StatusOr<RedisOptions> options = Parse("redis://cache.internal");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->port, 6379);
  EXPECT_EQ(options->db, 0);
  options = Parse("redis://cache.internal/");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->db, 0);
}

TEST(RedisUriTest, EveryPart) {
  absl::StatusOr<RedisOptions> options = Parse(
      "redis://app:s%40cret@127.0.0.1:6380/3?prefix=orders&"
      "connect_timeout_ms=250");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->user, "app");
  EXPECT_EQ(options->password, "s@cret");
  EXPECT_EQ(options->port, 6380);
  EXPECT_EQ(options->db, 3);
  EXPECT_EQ(options->prefix, "orders");
  EXPECT_EQ(options->connect_timeout, absl::Milliseconds(250));
}

TEST(RedisUriTest, PasswordAloneAuthenticatesTheDefaultUser) {
  absl::StatusOr<RedisOptions> options = Parse("redis://:pw@h:1");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->user.empty());
  EXPECT_EQ(options->password, "pw");
}

TEST(RedisUriTest, Ipv6Host) {
  absl::StatusOr<RedisOptions> options = Parse("redis://[::1]:6379");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->host, "::1");
}

TEST(RedisUriTest, UnknownOptionIsNamed) {
  const std::string error = ErrorOf("redis://h:1?prefx=a");
  EXPECT_THAT(error, HasSubstr("prefx"));
  EXPECT_THAT(error, HasSubstr("prefix"));  // The known ones are listed.
}

TEST(RedisUriTest, BadDatabaseIsNamed) {
  for (const char* uri : {"redis://h:1/abc", "redis://h:1/1/2",
                          "redis://h:1/-1", "redis://h:1/+1"}) {
    EXPECT_THAT(ErrorOf(uri), HasSubstr("is not a database number")) << uri;
  }
}

TEST(RedisUriTest, BadPrefixIsNamed) {
  EXPECT_THAT(ErrorOf("redis://h:1?prefix="), HasSubstr("prefix"));
  EXPECT_THAT(ErrorOf("redis://h:1?prefix=a%7Bb"), HasSubstr("prefix"));
  EXPECT_THAT(ErrorOf("redis://h:1?prefix=a%7Db"), HasSubstr("prefix"));
  EXPECT_THAT(
      ErrorOf(absl::StrCat("redis://h:1?prefix=", std::string(129, 'p'))),
      HasSubstr("prefix"));
}

TEST(RedisUriTest, BadTimeoutIsNamed) {
  for (const char* uri :
       {"redis://h:1?connect_timeout_ms=0", "redis://h:1?connect_timeout_ms=x",
        "redis://h:1?connect_timeout_ms=-5"}) {
    EXPECT_THAT(ErrorOf(uri), HasSubstr("connect_timeout_ms")) << uri;
  }
}

TEST(RedisUriTest, MissingHostIsNamed) {
  EXPECT_THAT(ErrorOf("redis:///0"), HasSubstr("host"));
}

TEST(RedisUriTest, OpaqueFormIsRefused) {
  EXPECT_THAT(ErrorOf("redis:localhost"), HasSubstr("redis://"));
}

TEST(RedisUriTest, UserWithoutPasswordIsRefused) {
  EXPECT_THAT(ErrorOf("redis://app@h:1"), HasSubstr("no password"));
}

TEST(RedisUriTest, MalformedPartsFromTheParser) {
  // The shared parser names these; they never reach the Redis options.
  EXPECT_THAT(ErrorOf("redis://h:99999"), HasSubstr("port"));
  EXPECT_THAT(ErrorOf("redis://h:1#frag"), HasSubstr("fragment"));
  EXPECT_THAT(ErrorOf("redis://h:1?prefix"), Not(HasSubstr("secret")));
}

TEST(RedisUriTest, PasswordNeverInMessages) {
  const std::string error = ErrorOf("redis://u:secret@h:1/x");
  EXPECT_THAT(error, Not(HasSubstr("secret")));
  EXPECT_THAT(error, HasSubstr("***"));
}

}  // namespace
}  // namespace durable::backends::redis
