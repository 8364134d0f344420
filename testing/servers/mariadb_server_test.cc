// Starts a private MariaDB server and talks to it with MariaDB Connector/C,
// the client library of the MySQL/MariaDB backend: the leasing query the
// backend relies on (FOR UPDATE SKIP LOCKED) works on this version. Checks
// the launcher's lifecycle guarantees.
#include "testing/servers/mariadb_server.h"

#include <mariadb/mysql.h>

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/servers/lifecycle_checks.h"
#include "testing/servers/shared_server.h"

namespace durable::testing {
namespace {

struct MysqlClose {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};
using Connection = std::unique_ptr<MYSQL, MysqlClose>;

Connection Connect(const MariaDbServer& server) {
  Connection mysql(mysql_init(nullptr));
  if (mysql_real_connect(mysql.get(), "127.0.0.1", MariaDbServer::kUser, "",
                         MariaDbServer::kDatabase, server.port(), nullptr,
                         0) == nullptr) {
    ADD_FAILURE() << "connect to " << server.uri() << ": "
                  << mysql_error(mysql.get());
    return nullptr;
  }
  return mysql;
}

void Execute(MYSQL* mysql, const std::string& statement) {
  EXPECT_EQ(mysql_query(mysql, statement.c_str()), 0)
      << statement << ": " << mysql_error(mysql);
}

// The first column of the first row of `query`'s result ("" if none).
std::string QueryValue(MYSQL* mysql, const std::string& query) {
  if (mysql_query(mysql, query.c_str()) != 0) {
    ADD_FAILURE() << query << ": " << mysql_error(mysql);
    return "";
  }
  MYSQL_RES* result = mysql_store_result(mysql);
  if (result == nullptr) return "";
  MYSQL_ROW row = mysql_fetch_row(result);
  std::string value = (row != nullptr && row[0] != nullptr) ? row[0] : "";
  mysql_free_result(result);
  return value;
}

MariaDbServer* Shared() {
  absl::Time start = absl::Now();
  absl::StatusOr<MariaDbServer*> server = SharedServer<MariaDbServer>::Get();
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return nullptr;
  }
  static bool first = true;  // later calls find it running
  if (std::exchange(first, false)) {
    std::cout << "[timing] shared mariadbd ready in "
              << absl::FormatDuration(absl::Now() - start) << std::endl;
  }
  return *server;
}

TEST(MariaDbServerTest, ServesTheTestDatabaseOnLoopback) {
  MariaDbServer* server = Shared();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(
      server->uri(),
      absl::StrCat("mysql://root@127.0.0.1:", server->port(), "/durable_test"));
  Connection mysql = Connect(*server);
  ASSERT_NE(mysql, nullptr);
  EXPECT_EQ(QueryValue(mysql.get(), "SELECT DATABASE()"), "durable_test");
  EXPECT_EQ(QueryValue(mysql.get(), "SELECT @@bind_address"), "127.0.0.1");
  EXPECT_EQ(QueryValue(mysql.get(), "SELECT @@log_bin"), "0");
  // SKIP LOCKED arrived in MariaDB 10.6.
  EXPECT_GE(mysql_get_server_version(mysql.get()), 100600u);
}

// Two workers lease from one table, as the backend will: each in a short
// transaction takes the first ready row it can lock, and SKIP LOCKED makes
// the second take the next row instead of waiting for the first.
TEST(MariaDbServerTest, SkipLockedLeasesDifferentRows) {
  MariaDbServer* server = Shared();
  ASSERT_NE(server, nullptr);
  Connection a = Connect(*server);
  Connection b = Connect(*server);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Execute(a.get(),
          "CREATE TABLE skip_locked_tasks (id INT PRIMARY KEY, "
          "state VARCHAR(16) NOT NULL) ENGINE=InnoDB");
  Execute(a.get(),
          "INSERT INTO skip_locked_tasks VALUES "
          "(1, 'ready'), (2, 'ready'), (3, 'ready')");

  const std::string lease =
      "SELECT id FROM skip_locked_tasks WHERE state = 'ready' "
      "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
  Execute(a.get(), "START TRANSACTION");
  Execute(b.get(), "START TRANSACTION");
  EXPECT_EQ(QueryValue(a.get(), lease), "1");
  EXPECT_EQ(QueryValue(b.get(), lease), "2");
  Execute(a.get(), "UPDATE skip_locked_tasks SET state = 'taken' WHERE id = 1");
  Execute(b.get(), "UPDATE skip_locked_tasks SET state = 'taken' WHERE id = 2");
  Execute(a.get(), "COMMIT");
  Execute(b.get(), "COMMIT");

  EXPECT_EQ(QueryValue(a.get(),
                       "SELECT GROUP_CONCAT(id ORDER BY id) FROM "
                       "skip_locked_tasks WHERE state = 'ready'"),
            "3");
  Execute(a.get(), "DROP TABLE skip_locked_tasks");
}

TEST(MariaDbServerTest, StopLeavesNoProcessAndNoDirectory) {
  ExpectStopLeavesNothing<MariaDbServer>("mariadbd");
}

TEST(MariaDbServerTest, DiesWithTheProcessThatStartedIt) {
  ExpectServerDiesWithItsParent<MariaDbServer>("mariadbd");
}

}  // namespace
}  // namespace durable::testing
