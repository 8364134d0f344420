#include "core/storage/backend_uri.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::core::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

std::string ErrorOf(absl::string_view uri) {
  absl::StatusOr<BackendUri> parsed = ParseBackendUri(uri);
  EXPECT_FALSE(parsed.ok()) << uri;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(BackendUriTest, SplitsEveryPart) {
  absl::StatusOr<BackendUri> uri = ParseBackendUri(
      "Redis://us%40er:p%3Ass@127.0.0.1:6379/0?prefix=app&db_timeout=5");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->scheme, "redis");
  EXPECT_TRUE(uri->has_authority);
  EXPECT_EQ(uri->user, "us@er");
  EXPECT_EQ(uri->password, "p:ss");
  EXPECT_EQ(uri->host, "127.0.0.1");
  EXPECT_EQ(uri->port, 6379);
  EXPECT_EQ(uri->path, "/0");
  EXPECT_THAT(uri->query,
              ElementsAre(Pair("prefix", "app"), Pair("db_timeout", "5")));
  EXPECT_EQ(uri->redacted,
            "Redis://us%40er:***@127.0.0.1:6379/0?prefix=app&db_timeout=5");
}

TEST(BackendUriTest, FilePathsAndOpaqueForms) {
  absl::StatusOr<BackendUri> file =
      ParseBackendUri("sqlite:///data/my%20db%3Fx.db?busy_timeout_ms=10");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->host, "");
  EXPECT_EQ(file->path, "/data/my db?x.db");
  EXPECT_THAT(file->query, ElementsAre(Pair("busy_timeout_ms", "10")));

  absl::StatusOr<BackendUri> memory = ParseBackendUri("sqlite::memory:");
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_FALSE(memory->has_authority);
  EXPECT_EQ(memory->path, ":memory:");
}

TEST(BackendUriTest, Ipv6HostsAndMissingPorts) {
  absl::StatusOr<BackendUri> v6 = ParseBackendUri("redis://[::1]:7000");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
  absl::StatusOr<BackendUri> bare = ParseBackendUri("mysql://u@db/x");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->user, "u");
  EXPECT_FALSE(bare->password.has_value());
  EXPECT_EQ(bare->host, "db");
  EXPECT_FALSE(bare->port.has_value());
}

TEST(BackendUriTest, MalformedPartsAreNamed) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("it is empty"));
  EXPECT_THAT(ErrorOf("/tmp/x.db"), HasSubstr("no scheme"));
  EXPECT_THAT(ErrorOf("1x://h"), HasSubstr("must start with a letter"));
  EXPECT_THAT(ErrorOf("sqlite:///tmp/x.db#frag"), HasSubstr("fragments"));
  EXPECT_THAT(ErrorOf("redis://h:0"), HasSubstr("port \"0\""));
  EXPECT_THAT(ErrorOf("redis://h:65536"), HasSubstr("port \"65536\""));
  EXPECT_THAT(ErrorOf("redis://h:63x"), HasSubstr("port \"63x\""));
  EXPECT_THAT(ErrorOf("redis://h:"), HasSubstr("port after \":\" is empty"));
  EXPECT_THAT(ErrorOf("redis://[::1"), HasSubstr("missing its \"]\""));
  EXPECT_THAT(ErrorOf("sqlite:///a%2"), HasSubstr("malformed percent escape"));
  EXPECT_THAT(ErrorOf("sqlite:///a%zz"), HasSubstr("malformed percent escape"));
  EXPECT_THAT(ErrorOf("sqlite:///a%ff"), HasSubstr("the path is not UTF-8"));
  EXPECT_THAT(ErrorOf("sqlite:///a%0a"), HasSubstr("control character"));
  EXPECT_THAT(ErrorOf("sqlite:///a?mode"),
              HasSubstr("query item \"mode\" is not of the form key=value"));
  EXPECT_THAT(ErrorOf("sqlite:///a?a=1&a=2"), HasSubstr("given twice"));
}

TEST(BackendUriTest, ErrorsNeverShowThePassword) {
  const std::string error = ErrorOf("redis://u:hunter2@h:99999/0");
  EXPECT_THAT(error, HasSubstr("redis://u:***@h:99999/0"));
  EXPECT_THAT(error, Not(HasSubstr("hunter2")));
  EXPECT_EQ(Redacted("mysql://u:p@h/db"), "mysql://u:***@h/db");
  EXPECT_EQ(Redacted("mysql://u@h/db"), "mysql://u@h/db");
  EXPECT_EQ(Redacted("sqlite:///a:b@c"), "sqlite:///a:b@c");
}

TEST(BackendUriTest, QueryOptionsRejectUnknownKeys) {
  absl::StatusOr<BackendUri> uri =
      ParseBackendUri("sqlite:///data/q.db?mode=ro");
  ASSERT_TRUE(uri.ok()) << uri.status();
  absl::StatusOr<std::map<std::string, std::string>> options =
      QueryOptions(*uri, {"busy_timeout_ms"});
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.status().message(),
            "backend URI \"sqlite:///data/q.db?mode=ro\": unknown option "
            "\"mode\" for scheme sqlite (known: busy_timeout_ms)");
  absl::StatusOr<BackendUri> known =
      ParseBackendUri("sqlite:///data/q.db?busy_timeout_ms=5");
  ASSERT_TRUE(known.ok());
  options = QueryOptions(*known, {"busy_timeout_ms"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->at("busy_timeout_ms"), "5");
}

}  // namespace
}  // namespace durable::core::storage
