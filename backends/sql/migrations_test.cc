// The migration runner on SQLite, driven only through the sql::Connection
// interface, with the test migrations in testdata/migrations:
//   0001_create.sql   durable_schema_version, items (id, name)
//   0002_add_color.sql items.color, then a hook paints existing items red
//   0003_tags.sql     tags, tags_by_item
//   indexes.sql       items_by_name, reapplied on every open
#include "backends/sql/migrations.h"

#include <sqlite3.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/sql/connection.h"
#include "backends/sql/dialect.h"
#include "backends/sql/statement.h"
#include "backends/sql/testdata/test_migrations.h"
#include "backends/sqlite/connection.h"
#include "backends/sqlite/statement.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::unique_ptr<sqlite::Connection> OpenDatabase(const std::string& path) {
  std::remove(path.c_str());
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> connection =
      sqlite::Connection::Open(path, kOpenFlags);
  EXPECT_TRUE(connection.ok()) << connection.status();
  sqlite3_busy_timeout((*connection)->db(), 10000);
  return *std::move(connection);
}

MigrationTarget TestTarget() {
  MigrationTarget target;
  target.description = "test database";
  target.inspect_catalog =
      [](Connection& connection) -> absl::StatusOr<Catalog> {
    absl::StatusOr<Statement> tables = connection.Prepare(
        "SELECT count(*), count(CASE WHEN name = 'durable_schema_version' "
        "THEN 1 END) FROM sqlite_master WHERE type = 'table'");
    if (!tables.ok()) return tables.status();
    absl::StatusOr<bool> row = tables->Step();
    if (!row.ok()) return row.status();
    return Catalog{tables->ColumnInt64(0), tables->ColumnInt64(1) > 0};
  };
  return target;
}

// Paints the items that existed before version 2.
absl::Status PaintItemsRed(Connection& connection) {
  absl::StatusOr<Statement> paint =
      connection.Prepare("UPDATE items SET color = ?1 WHERE color IS NULL");
  if (!paint.ok()) return paint.status();
  return paint->BindText(1, "red").Run();
}

std::vector<std::pair<int64_t, MigrationHook>> StandardHooks() {
  std::vector<std::pair<int64_t, MigrationHook>> hooks;
  hooks.emplace_back(2, PaintItemsRed);
  return hooks;
}

// The test migrations up to `version` (an older release of the store), or
// all of them with the reapplied file.
Migrations TestMigrations(
    int64_t version = 3,
    std::vector<std::pair<int64_t, MigrationHook>> hooks = StandardHooks()) {
  std::vector<EmbeddedFile> files;
  for (const EmbeddedFile& file : testdata::TestMigrationFiles()) {
    if (file.name == "indexes.sql" ||
        file.name.substr(0, 4) <= absl::StrCat("000", version)) {
      files.push_back(file);
    }
  }
  std::vector<std::pair<int64_t, MigrationHook>> kept;
  for (auto& [v, hook] : hooks) {
    if (v <= version) kept.emplace_back(v, std::move(hook));
  }
  absl::StatusOr<Migrations> migrations =
      Migrations::FromFiles(files, std::move(kept), "indexes.sql");
  EXPECT_TRUE(migrations.ok()) << migrations.status();
  EXPECT_EQ(migrations->latest_version(), version);
  return *std::move(migrations);
}

int64_t QueryInt(Connection& connection, absl::string_view sql) {
  absl::StatusOr<Statement> stmt = connection.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return stmt->ColumnInt64(0);
}

int64_t Version(Connection& connection) {
  return QueryInt(connection,
                  "SELECT max(version) FROM durable_schema_version");
}

bool HasObject(Connection& connection, absl::string_view name) {
  return QueryInt(connection,
                  absl::StrCat("SELECT count(*) FROM sqlite_master WHERE "
                               "name = '",
                               name, "'")) > 0;
}

bool HasColumn(Connection& connection, absl::string_view table,
               absl::string_view column) {
  return QueryInt(connection,
                  absl::StrCat("SELECT count(*) FROM pragma_table_info('",
                               table, "') WHERE name = '", column, "'")) > 0;
}

TEST(MigrationsTest, TheListComesFromTheEmbeddedFiles) {
  Migrations migrations = TestMigrations();
  ASSERT_EQ(migrations.migrations().size(), 3u);
  const Migration& first = migrations.migrations()[0];
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.file, "0001_create.sql");
  EXPECT_THAT(first.statements,
              ElementsAre("-- A small schema for the migration runner's "
                          "tests.\nCREATE TABLE durable_schema_version "
                          "(version INTEGER NOT NULL)",
                          "CREATE TABLE items (id INTEGER PRIMARY KEY, name "
                          "TEXT NOT NULL)"));
  EXPECT_FALSE(first.hook);
  EXPECT_TRUE(migrations.migrations()[1].hook);
  EXPECT_EQ(migrations.migrations()[2].file, "0003_tags.sql");
}

TEST(MigrationsTest, EmptyDatabaseGetsTheWholeSchema) {
  std::unique_ptr<sqlite::Connection> db = OpenDatabase(TempPath("fresh.db"));
  Migrations migrations = TestMigrations();
  EXPECT_EQ(*migrations.StoredVersion(*db, TestTarget()), 0);
  ASSERT_TRUE(migrations.Migrate(*db, TestTarget()).ok());
  EXPECT_EQ(Version(*db), 3);
  EXPECT_EQ(QueryInt(*db, "SELECT count(*) FROM durable_schema_version"), 1);
  EXPECT_TRUE(HasColumn(*db, "items", "color"));
  EXPECT_TRUE(HasObject(*db, "tags"));
  EXPECT_TRUE(HasObject(*db, "tags_by_item"));
  EXPECT_TRUE(HasObject(*db, "items_by_name"));
  EXPECT_FALSE(db->InTransaction());
  // Opening again changes nothing.
  const int64_t changes = db->TotalChanges();
  ASSERT_TRUE(migrations.Migrate(*db, TestTarget()).ok());
  EXPECT_EQ(Version(*db), 3);
  EXPECT_EQ(db->TotalChanges(), changes);
  EXPECT_TRUE(migrations.CheckCompatible(*db, TestTarget()).ok());
}

TEST(MigrationsTest, EachOlderVersionIsUpgradedKeepingItsData) {
  for (int64_t old_version : {1, 2}) {
    SCOPED_TRACE(old_version);
    std::unique_ptr<sqlite::Connection> db =
        OpenDatabase(TempPath(absl::StrCat("v", old_version, ".db")));
    ASSERT_TRUE(TestMigrations(old_version).Migrate(*db, TestTarget()).ok());
    EXPECT_EQ(Version(*db), old_version);
    EXPECT_EQ(HasColumn(*db, "items", "color"), old_version >= 2);
    EXPECT_FALSE(HasObject(*db, "tags"));
    ASSERT_TRUE(
        db->Exec("INSERT INTO items (id, name) VALUES (7, 'kept')").ok());

    Migrations current = TestMigrations();
    EXPECT_EQ(*current.StoredVersion(*db, TestTarget()), old_version);
    ASSERT_TRUE(current.CheckCompatible(*db, TestTarget()).ok());
    ASSERT_TRUE(current.Migrate(*db, TestTarget()).ok());
    EXPECT_EQ(Version(*db), 3);
    EXPECT_TRUE(HasObject(*db, "tags"));
    EXPECT_EQ(QueryInt(*db, "SELECT count(*) FROM items WHERE id = 7"), 1);
    // The version-2 hook ran only when migrating to version 2.
    EXPECT_EQ(QueryInt(*db, "SELECT count(*) FROM items WHERE color = 'red'"),
              old_version < 2 ? 1 : 0);
  }
}

TEST(MigrationsTest, ReappliedStatementsRestoreWhatIsMissing) {
  std::unique_ptr<sqlite::Connection> db = OpenDatabase(TempPath("re.db"));
  Migrations migrations = TestMigrations();
  ASSERT_TRUE(migrations.Migrate(*db, TestTarget()).ok());
  ASSERT_TRUE(db->Exec("DROP INDEX items_by_name").ok());
  ASSERT_TRUE(migrations.Migrate(*db, TestTarget()).ok());
  EXPECT_TRUE(HasObject(*db, "items_by_name"));
  EXPECT_EQ(Version(*db), 3);
}

TEST(MigrationsTest, NewerVersionIsRefusedUntouched) {
  std::unique_ptr<sqlite::Connection> db = OpenDatabase(TempPath("newer.db"));
  Migrations migrations = TestMigrations();
  ASSERT_TRUE(migrations.Migrate(*db, TestTarget()).ok());
  ASSERT_TRUE(db->Exec("UPDATE durable_schema_version SET version = 4").ok());
  ASSERT_TRUE(db->Exec("DROP INDEX items_by_name").ok());
  const std::string expected =
      "test database has durable schema version 4, newer than version 3 "
      "supported by this library; upgrade durable to open it";
  absl::Status check = migrations.CheckCompatible(*db, TestTarget());
  EXPECT_EQ(check.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(check.message(), expected);
  absl::Status migrate = migrations.Migrate(*db, TestTarget());
  EXPECT_EQ(migrate.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(migrate.message(), expected);
  // Nothing was written, not even the reapplied index.
  EXPECT_EQ(Version(*db), 4);
  EXPECT_FALSE(HasObject(*db, "items_by_name"));
  EXPECT_FALSE(db->InTransaction());
}

TEST(MigrationsTest, BadVersionValuesAreRefusedUntouched) {
  struct Case {
    const char* damage;
    const char* what;
  };
  for (const Case& c : std::vector<Case>{
           {"UPDATE durable_schema_version SET version = 0", "version 0"},
           {"UPDATE durable_schema_version SET version = -1", "version -1"},
           {"UPDATE durable_schema_version SET version = 'two'",
            "a text value \"two\""},
           {"UPDATE durable_schema_version SET version = 2.5",
            "a real value \"2.5\""},
           {"UPDATE durable_schema_version SET version = x'01'",
            "a blob value \"\x01\""},
           {"DELETE FROM durable_schema_version", "no row"},
           {"INSERT INTO durable_schema_version (version) VALUES (1)",
            "2 rows"},
       }) {
    SCOPED_TRACE(c.damage);
    std::unique_ptr<sqlite::Connection> db = OpenDatabase(TempPath("bad.db"));
    Migrations migrations = TestMigrations();
    ASSERT_TRUE(migrations.Migrate(*db, TestTarget()).ok());
    ASSERT_TRUE(db->Exec(c.damage).ok());
    const int64_t changes = db->TotalChanges();
    for (absl::Status status : {migrations.CheckCompatible(*db, TestTarget()),
                                migrations.Migrate(*db, TestTarget())}) {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_EQ(status.message(),
                absl::StrCat("test database has ", c.what,
                             " in durable_schema_version (expected one "
                             "positive integer); refusing to modify it"));
    }
    EXPECT_EQ(db->TotalChanges(), changes);
  }
}

TEST(MigrationsTest, ForeignDatabaseIsRefusedUntouched) {
  std::unique_ptr<sqlite::Connection> db = OpenDatabase(TempPath("foreign.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE customers (id INTEGER)").ok());
  absl::Status status = TestMigrations().Migrate(*db, TestTarget());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "test database is not a durable database: it has tables but no "
            "durable_schema_version table; refusing to modify it");
  EXPECT_FALSE(HasObject(*db, "items"));
}

TEST(MigrationsTest, CatalogErrorsAreReturnedAsTheStoreClassifiedThem) {
  std::unique_ptr<sqlite::Connection> db = OpenDatabase(TempPath("cat.db"));
  MigrationTarget target = TestTarget();
  target.inspect_catalog = [](Connection&) -> absl::StatusOr<Catalog> {
    return absl::DataLossError("damaged");
  };
  absl::Status status = TestMigrations().Migrate(*db, target);
  EXPECT_EQ(status, absl::DataLossError("damaged"));
  EXPECT_FALSE(db->InTransaction());
}

TEST(MigrationsTest, HookFailureRollsTheWholeMigrationBack) {
  std::unique_ptr<sqlite::Connection> db = OpenDatabase(TempPath("hook.db"));
  ASSERT_TRUE(TestMigrations(1).Migrate(*db, TestTarget()).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO items (id, name) VALUES (1, 'a')").ok());
  std::vector<std::pair<int64_t, MigrationHook>> hooks = StandardHooks();
  hooks.emplace_back(3, [](Connection& connection) -> absl::Status {
    // It sees its migration's schema, and what it writes is undone too.
    absl::Status insert =
        connection.Exec("INSERT INTO tags (item_id, tag) VALUES (1, 'x')");
    if (!insert.ok()) return insert;
    return absl::DataLossError("event 3 cannot be decoded");
  });
  absl::Status status =
      TestMigrations(3, std::move(hooks)).Migrate(*db, TestTarget());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(),
            "migrating test database: migration 0003_tags.sql hook: event 3 "
            "cannot be decoded");
  EXPECT_FALSE(db->InTransaction());
  // Versions 2 and 3 both rolled back: the database is as it was.
  EXPECT_EQ(Version(*db), 1);
  EXPECT_FALSE(HasColumn(*db, "items", "color"));
  EXPECT_FALSE(HasObject(*db, "tags"));
  EXPECT_EQ(QueryInt(*db, "SELECT count(*) FROM items"), 1);
  // And the next open with a working hook migrates it.
  ASSERT_TRUE(TestMigrations().Migrate(*db, TestTarget()).ok());
  EXPECT_EQ(Version(*db), 3);
  EXPECT_EQ(QueryInt(*db, "SELECT count(*) FROM items WHERE color = 'red'"), 1);
}

TEST(MigrationsTest, StatementFailureRollsBackAndNamesTheStatement) {
  std::unique_ptr<sqlite::Connection> db = OpenDatabase(TempPath("stmt.db"));
  const EmbeddedFile files[] = {
      {"0001_create.sql",
       "CREATE TABLE durable_schema_version (version INTEGER NOT NULL);"},
      {"0002_broken.sql",
       "CREATE TABLE fine (a INTEGER);\nINSERT INTO missing VALUES (1);"},
  };
  absl::StatusOr<Migrations> migrations = Migrations::FromFiles(files, {}, "");
  ASSERT_TRUE(migrations.ok()) << migrations.status();
  absl::Status status = migrations->Migrate(*db, TestTarget());
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_THAT(status.message(),
              HasSubstr("migrating test database: migration 0002_broken.sql, "
                        "statement 2 of 2: executing \"INSERT INTO missing"));
  EXPECT_THAT(status.message(), HasSubstr("no such table: missing"));
  // Even version 1 of an empty database is rolled back with it.
  EXPECT_EQ(QueryInt(*db, "SELECT count(*) FROM sqlite_master"), 0);
}

TEST(MigrationsTest, MalformedListsAreRefused) {
  struct Case {
    std::vector<EmbeddedFile> files;
    std::vector<int64_t> hooks;
    const char* reapplied;
    const char* error;
  };
  const std::vector<Case> cases = {
      {{{"0001_a.sql", ""}, {"0003_c.sql", ""}},
       {},
       "",
       "migration \"0003_c.sql\" has version 3 where version 2 was expected"},
      {{{"0001_a.sql", ""}, {"0001_b.sql", ""}},
       {},
       "",
       "migration \"0001_b.sql\" has version 1 where version 2 was expected"},
      {{{"0002_a.sql", ""}},
       {},
       "",
       "has version 2 where version 1 was expected"},
      {{{"0001_a.sql", ""}, {"notes.txt", ""}},
       {},
       "",
       "\"notes.txt\" is neither a migration"},
      {{{"1_a.sql", ""}}, {}, "", "\"1_a.sql\" is neither a migration"},
      {{{"0001_a.sql", ""}}, {2}, "", "a hook for migration 2"},
      {{{"0001_a.sql", ""}}, {1, 1}, "", "two hooks for migration 0001_a.sql"},
      {{{"0001_a.sql", ""}}, {}, "indexes.sql", "\"indexes.sql\" is not"},
      {{{"0001_a.sql", "SELECT 'open"}}, {}, "", "0001_a.sql: unterminated"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    std::vector<std::pair<int64_t, MigrationHook>> hooks;
    for (int64_t version : c.hooks) {
      hooks.emplace_back(version, [](Connection&) { return absl::OkStatus(); });
    }
    absl::StatusOr<Migrations> migrations =
        Migrations::FromFiles(c.files, std::move(hooks), c.reapplied);
    ASSERT_FALSE(migrations.ok());
    EXPECT_EQ(migrations.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(migrations.status().message(), HasSubstr(c.error));
  }
}

TEST(MigrationsTest, TwoProcessesMigratingAFreshFileAtOnce) {
  const std::string path = TempPath("race.db");
  std::remove(path.c_str());
  Migrations migrations = TestMigrations();
  std::vector<absl::Status> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::unique_ptr<sqlite::Connection>> db =
          sqlite::Connection::Open(path, kOpenFlags);
      if (!db.ok()) {
        results[i] = db.status();
        return;
      }
      sqlite3_busy_timeout((*db)->db(), 30000);
      results[i] = migrations.Migrate(**db, TestTarget());
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : results) EXPECT_TRUE(status.ok()) << status;
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> db =
      sqlite::Connection::Open(path, kOpenFlags);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(Version(**db), 3);
  EXPECT_EQ(QueryInt(**db, "SELECT count(*) FROM durable_schema_version"), 1);
}

// A SQLite connection that presents another dialect and records what the
// runner asks of it: how the runner behaves for servers (session locks,
// DDL that commits by itself) without a server.
class RecordingConnection final : public Connection {
 public:
  RecordingConnection(const Dialect& dialect, sqlite::Connection* inner)
      : Connection(dialect), inner_(inner) {}
  ~RecordingConnection() override { ClearStatementCache(); }

  absl::Status Exec(absl::string_view sql) override {
    log.push_back(std::string(sql));
    return inner_->Exec(sql);
  }
  int64_t Changes() const override { return inner_->Changes(); }
  int64_t TotalChanges() const override { return inner_->TotalChanges(); }
  bool InTransaction() const override { return inner_->InTransaction(); }
  absl::Status Begin(TransactionMode mode) override {
    log.push_back("BEGIN");
    return inner_->Begin(mode);
  }
  absl::Status Commit() override {
    log.push_back("COMMIT");
    return inner_->Commit();
  }
  absl::Status Rollback() override {
    log.push_back("ROLLBACK");
    return inner_->Rollback();
  }

  std::vector<std::string> log;

 protected:
  absl::StatusOr<std::unique_ptr<PreparedStatement>> Compile(
      const RenderedStatement& statement) override {
    log.push_back(absl::StrCat("prepare ", statement.text));
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(inner_->db(), statement.text.c_str(), -1, &stmt,
                           nullptr) != SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(inner_->db()));
    }
    return std::make_unique<sqlite::SqliteStatement>(inner_->db(), stmt);
  }

 private:
  sqlite::Connection* inner_;
};

// SQLite's grammar with a server's migration behaviour.
Dialect NonTransactionalDialect(absl::string_view lock) {
  Dialect dialect = SqliteDialect();
  dialect.name = "non-transactional sqlite";
  dialect.transactional_ddl = false;
  dialect.migration_lock = lock;
  dialect.migration_unlock = "SELECT 'unlocked'";
  return dialect;
}

TEST(MigrationsTest, WithoutTransactionalDdlEachVersionCommitsOnItsOwn) {
  std::unique_ptr<sqlite::Connection> inner =
      OpenDatabase(TempPath("nontx.db"));
  const Dialect dialect = NonTransactionalDialect("SELECT 1");
  RecordingConnection db(dialect, inner.get());
  std::vector<std::pair<int64_t, MigrationHook>> hooks = StandardHooks();
  hooks.emplace_back(
      3, [](Connection&) { return absl::UnavailableError("connection lost"); });
  absl::Status status =
      TestMigrations(3, std::move(hooks)).Migrate(db, TestTarget());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  // Versions 1 and 2 are kept; 3 resumes on the next open.
  EXPECT_EQ(Version(*inner), 2);
  EXPECT_TRUE(HasColumn(*inner, "items", "color"));
  EXPECT_FALSE(HasObject(*inner, "tags"));
  EXPECT_FALSE(inner->InTransaction());
  // Locked first, in the first transaction; unlocked even after a failure.
  ASSERT_GE(db.log.size(), 2u);
  EXPECT_EQ(db.log[0], "BEGIN");
  EXPECT_EQ(db.log[1], "prepare SELECT 1");
  EXPECT_EQ(db.log.back(), "SELECT 'unlocked'");

  db.log.clear();
  ASSERT_TRUE(TestMigrations().Migrate(db, TestTarget()).ok());
  EXPECT_EQ(Version(*inner), 3);
  EXPECT_TRUE(HasObject(*inner, "items_by_name"));
  // Each version recorded with its own commit; the reapplied statements
  // last; then unlocked. (The lock statement is compiled already.)
  std::vector<std::string> log;
  for (const std::string& entry : db.log) {
    if (!absl::StartsWith(entry, "prepare SELECT count(*)") &&
        !absl::StartsWith(entry, "prepare SELECT version")) {
      log.push_back(entry);
    }
  }
  EXPECT_THAT(
      log,
      ElementsAre("BEGIN",
                  "CREATE TABLE tags (item_id "
                  "INTEGER NOT NULL, tag TEXT NOT NULL)",
                  "CREATE INDEX tags_by_item ON tags (item_id)",
                  "DELETE FROM durable_schema_version",
                  "INSERT INTO durable_schema_version (version) VALUES (3)",
                  "COMMIT", "BEGIN",
                  "-- Reapplied on every open.\nCREATE INDEX IF NOT EXISTS "
                  "items_by_name ON items (name)",
                  "COMMIT", "SELECT 'unlocked'"));
}

TEST(MigrationsTest, MigrationLockNotGrantedIsUnavailable) {
  std::unique_ptr<sqlite::Connection> inner = OpenDatabase(TempPath("lock.db"));
  const Dialect dialect = NonTransactionalDialect("SELECT 0");
  RecordingConnection db(dialect, inner.get());
  absl::Status status = TestMigrations().Migrate(db, TestTarget());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(),
              HasSubstr("test database: timed out waiting for another "
                        "process to finish migrating the schema"));
  EXPECT_EQ(QueryInt(*inner, "SELECT count(*) FROM sqlite_master"), 0);
  EXPECT_EQ(db.log.back(), "SELECT 'unlocked'");
}

}  // namespace
}  // namespace durable::backends::sql
