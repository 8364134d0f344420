// The MySQL store's migrations on a real MariaDB server: a fresh database
// is migrated, reopening it changes nothing, a newer schema is refused and
// two connections migrating a fresh database at once both succeed.
#include "backends/mysql/schema.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "backends/mysql/test_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::mysql {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Connection> Open(const ConnectOptions& options) {
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return connection.ok() ? *std::move(connection) : nullptr;
}

int64_t QueryInt(Connection& db, const std::string& sql) {
  absl::StatusOr<sql::Statement> stmt = db.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  if (!stmt.ok()) return -1;
  absl::StatusOr<bool> row = stmt->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return row.ok() && *row ? stmt->ColumnInt64(0) : -1;
}

constexpr char kDescription[] = "mysql database `test`";

TEST(MysqlSchemaTest, MigratesAFreshDatabaseAndReopens) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  std::unique_ptr<Connection> db = Open(*database);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(EnsureSchema(*db, kDescription).ok());
  EXPECT_EQ(QueryInt(*db, "SELECT version FROM durable_schema_version"),
            kSchemaVersion);
  const std::string count_tables =
      "SELECT count(*) FROM information_schema.tables "
      "WHERE table_schema = DATABASE()";
  const int64_t tables = QueryInt(*db, count_tables);
  EXPECT_EQ(tables, 6);  // version, instances, history, inbox, activities,
                         // workers
  EXPECT_EQ(QueryInt(*db,
                     "SELECT count(*) FROM information_schema.tables WHERE "
                     "table_schema = DATABASE() AND engine <> 'InnoDB'"),
            0);
  // Reopening (a new connection) finds the schema current and changes
  // nothing.
  std::unique_ptr<Connection> again = Open(*database);
  ASSERT_NE(again, nullptr);
  ASSERT_TRUE(EnsureSchema(*again, kDescription).ok());
  EXPECT_EQ(QueryInt(*again, count_tables), tables);
  EXPECT_EQ(QueryInt(*again, "SELECT count(*) FROM durable_schema_version"), 1);
}

TEST(MysqlSchemaTest, RefusesANewerSchema) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  std::unique_ptr<Connection> db = Open(*database);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(EnsureSchema(*db, kDescription).ok());
  ASSERT_TRUE(db->Exec(absl::StrCat("UPDATE durable_schema_version SET "
                                    "version = ",
                                    kSchemaVersion + 1))
                  .ok());
  absl::Status refused = EnsureSchema(*db, kDescription);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr(kDescription));
  EXPECT_EQ(QueryInt(*db, "SELECT version FROM durable_schema_version"),
            kSchemaVersion + 1);
}

TEST(MysqlSchemaTest, RefusesAForeignDatabase) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  std::unique_ptr<Connection> db = Open(*database);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE other (x BIGINT) ENGINE=InnoDB").ok());
  absl::Status refused = EnsureSchema(*db, kDescription);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
}

TEST(MysqlSchemaTest, ConcurrentOpenersMigrateOnce) {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  constexpr int kOpeners = 4;
  std::unique_ptr<Connection> dbs[kOpeners];
  for (auto& db : dbs) {
    db = Open(*database);
    ASSERT_NE(db, nullptr);
  }
  absl::Status results[kOpeners];
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kOpeners; ++i) {
      threads.emplace_back(
          [&, i] { results[i] = EnsureSchema(*dbs[i], kDescription); });
    }
    for (std::thread& t : threads) t.join();
  }
  for (const absl::Status& result : results) EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(QueryInt(*dbs[0], "SELECT count(*) FROM durable_schema_version"),
            1);
  EXPECT_EQ(QueryInt(*dbs[0], "SELECT version FROM durable_schema_version"),
            kSchemaVersion);
}

}  // namespace
}  // namespace durable::backends::mysql
