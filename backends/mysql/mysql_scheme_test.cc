// The "mysql" URI scheme: every malformed part is a clear error that never
// shows the password (no server needed), and against a private MariaDB:
// opening by TCP and by Unix socket, an unreachable server (named by
// host:port) and a refused login.
#include "backends/mysql/mysql_scheme.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backends/mysql/test_database.h"
#include "core/storage/store_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/servers/free_port.h"
#include "testing/servers/mariadb_server.h"
#include "testing/servers/shared_server.h"

namespace durable::backends::mysql {
namespace {

using ::durable::core::storage::OpenStore;
using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<MysqlOptions> Parse(absl::string_view text) {
  absl::StatusOr<core::storage::BackendUri> uri =
      core::storage::ParseBackendUri(text);
  if (!uri.ok()) return uri.status();
  return MysqlOptionsFromUri(*uri);
}

TEST(MysqlSchemeTest, ReadsEveryPart) {
  absl::StatusOr<MysqlOptions> options = Parse(
      "mysql://app:s%40cret@db.internal:3307/durable?pool_size=4&"
      "connect_timeout_ms=2500");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->connect.user, "app");
  EXPECT_EQ(options->connect.password, "s@cret");
  EXPECT_EQ(options->connect.host, "db.internal");
  EXPECT_EQ(options->connect.port, 3307);
  EXPECT_EQ(options->connect.database, "durable");
  EXPECT_EQ(options->pool_size, 4);
  EXPECT_EQ(options->connect.connect_timeout, absl::Milliseconds(2500));
  EXPECT_TRUE(options->connect.unix_socket.empty());
}

TEST(MysqlSchemeTest, DefaultsThePort) {
  absl::StatusOr<MysqlOptions> options = Parse("mysql://app@db/durable");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->connect.port, 3306);
  EXPECT_EQ(options->connect.password, "");
}

TEST(MysqlSchemeTest, ReadsTheSocketForm) {
  absl::StatusOr<MysqlOptions> options =
      Parse("mysql://app@localhost/durable?socket=/run/mysqld/mysqld.sock");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->connect.unix_socket, "/run/mysqld/mysqld.sock");
}

TEST(MysqlSchemeTest, MalformedPartsAreClearAndHideThePassword) {
  const struct {
    const char* uri;
    const char* says;
  } kCases[] = {
      {"mysql:opaque", "no //user@host"},
      {"mysql://:topsecret@db/durable", "no user"},
      {"mysql://app:topsecret@/durable", "no host"},
      {"mysql://app:topsecret@db", "no database"},
      {"mysql://app:topsecret@db/", "no database"},
      {"mysql://app:topsecret@db/a/b", "cannot contain"},
      {"mysql://app:topsecret@db/durable?pool_size=0", "pool_size"},
      {"mysql://app:topsecret@db/durable?pool_size=many", "pool_size"},
      {"mysql://app:topsecret@db/durable?connect_timeout_ms=-1",
       "connect_timeout_ms"},
      {"mysql://app:topsecret@db/durable?socket=relative.sock", "absolute"},
      {"mysql://app:topsecret@db:3306/durable?socket=/x.sock", "no port"},
      {"mysql://app:topsecret@db/durable?colour=blue", "colour"},
      {"mysql://app:topsecret@db:99999/durable", "port"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::shared_ptr<core::AdminStore>> store = OpenStore(c.uri);
    ASSERT_FALSE(store.ok()) << c.uri;
    EXPECT_TRUE(absl::IsInvalidArgument(store.status()))
        << c.uri << ": " << store.status();
    EXPECT_THAT(store.status().message(), HasSubstr(c.says)) << c.uri;
    EXPECT_THAT(store.status().message(), Not(HasSubstr("topsecret"))) << c.uri;
  }
}

TEST(MysqlSchemeTest, OpensByTcpAndBySocket) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  auto store = OpenStore(absl::StrCat("mysql://root@127.0.0.1:", database->port,
                                      "/", database->database));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_THAT((*store)->Describe(), HasSubstr("mysql"));
  absl::StatusOr<testing::MariaDbServer*> server =
      testing::SharedServer<testing::MariaDbServer>::Get();
  ASSERT_TRUE(server.ok());
  auto by_socket =
      OpenStore(absl::StrCat("mysql://root@localhost/", database->database,
                             "?socket=", (*server)->socket_path()));
  ASSERT_TRUE(by_socket.ok()) << by_socket.status();
  EXPECT_TRUE((*by_socket)->GetStats().ok());
}

TEST(MysqlSchemeTest, UnreachableServerNamesHostAndPort) {
  absl::StatusOr<int> free = testing::PickFreePort();
  ASSERT_TRUE(free.ok()) << free.status();
  const int port = *free;
  auto store = OpenStore(absl::StrCat("mysql://app:topsecret@127.0.0.1:", port,
                                      "/durable?connect_timeout_ms=2000"));
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
  EXPECT_THAT(store.status().message(),
              HasSubstr(absl::StrCat("127.0.0.1:", port)));
  EXPECT_THAT(store.status().message(), Not(HasSubstr("topsecret")));
}

TEST(MysqlSchemeTest, WrongPasswordIsPermissionDenied) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  auto store = OpenStore(absl::StrCat("mysql://root:wrongsecret@127.0.0.1:",
                                      database->port, "/", database->database));
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(store.status())) << store.status();
  EXPECT_THAT(store.status().message(), Not(HasSubstr("wrongsecret")));
}

}  // namespace
}  // namespace durable::backends::mysql
