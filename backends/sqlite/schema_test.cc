// SQLite's schema on the migration runner is exactly the schema durable
// wrote before it: a fresh file, and files of every older version once
// migrated, have the same tables, columns, keys and indexes as the file the
// last hand-written schema (kept below as the reference) created.
#include "backends/sqlite/schema.h"

#include <sqlite3.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/sqlite/connection.h"
#include "backends/sqlite/migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sqlite {
namespace {

using ::testing::ElementsAre;

constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

// The schema as backends/sqlite/schema.cc created it before migrations
// became files (kCreateSchema, kAdditiveIndexes and the version row), plus
// what version 4 changed: instances.seq, an INTEGER PRIMARY KEY (the rowid
// itself), the old primary key becoming a UNIQUE key.
constexpr char kReferenceSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS durable_schema_version (
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  workflow_name TEXT NOT NULL,
  queue TEXT NOT NULL,
  state INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  metadata BLOB,
  result BLOB,
  last_task_failure BLOB,
  lease_token TEXT,
  lease_expires_at INTEGER,
  ready_at INTEGER NOT NULL DEFAULT 0,
  history_length INTEGER NOT NULL DEFAULT 0,
  parent BLOB,
  seq INTEGER PRIMARY KEY,
  UNIQUE (instance_id, execution_id)
);
CREATE INDEX IF NOT EXISTS instances_by_creation
  ON instances (instance_id, created_at);
CREATE INDEX IF NOT EXISTS instances_by_state
  ON instances (state, queue);
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (instance_id, execution_id, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  event BLOB NOT NULL,
  visible_at INTEGER NOT NULL,
  event_key TEXT
);
CREATE INDEX IF NOT EXISTS inbox_by_visibility ON inbox (visible_at);
CREATE INDEX IF NOT EXISTS inbox_by_execution
  ON inbox (instance_id, execution_id, id);
CREATE TABLE IF NOT EXISTS activities (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  activity_id TEXT NOT NULL UNIQUE,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  scheduled_event BLOB NOT NULL,
  attempt INTEGER NOT NULL,
  metadata BLOB,
  scheduled_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  lease_token TEXT,
  lease_expires_at INTEGER,
  activity_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS activities_by_queue
  ON activities (queue, visible_at);
CREATE TABLE IF NOT EXISTS workers (
  worker_id TEXT NOT NULL PRIMARY KEY,
  last_seen INTEGER NOT NULL,
  info BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS instances_by_created_at
  ON instances (created_at);
CREATE INDEX IF NOT EXISTS instances_by_finished_at
  ON instances (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_by_instance
  ON activities (instance_id, execution_id);
CREATE INDEX IF NOT EXISTS inbox_by_key
  ON inbox (instance_id, execution_id, event_key) WHERE event_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS instances_by_ready_at
  ON instances (state, ready_at);
CREATE INDEX IF NOT EXISTS instances_by_lease_expiry
  ON instances (state, lease_expires_at) WHERE lease_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_by_lease_expiry
  ON activities (lease_expires_at) WHERE lease_token IS NOT NULL;
INSERT INTO durable_schema_version (version) VALUES (4);
)sql";

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::unique_ptr<Connection> OpenFresh(const std::string& path) {
  std::remove(path.c_str());
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(path, kOpenFlags);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return *std::move(connection);
}

// Rows of `sql`, each as its columns joined by '|'.
std::vector<std::string> Rows(Connection& db, const std::string& sql) {
  std::vector<std::string> rows;
  absl::StatusOr<Statement> stmt = db.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  if (!stmt.ok()) return rows;
  while (true) {
    absl::StatusOr<bool> row = stmt->Step();
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok() || !*row) break;
    std::vector<std::string> values;
    for (int i = 0;; ++i) {
      // Columns past the end read as NULL; the queries below end with a
      // sentinel column "end" to stop at.
      std::string value = stmt->ColumnIsNull(i) ? "NULL" : stmt->ColumnText(i);
      if (value == "end") break;
      values.push_back(value);
    }
    rows.push_back(absl::StrJoin(values, "|"));
  }
  return rows;
}

// Everything about a schema that matters to durable, independent of how the
// DDL text was written (ALTER TABLE rewrites a table's stored CREATE text):
// tables with their columns (type, NOT NULL, default, key), rowid-ness and
// AUTOINCREMENT, and indexes with their columns, uniqueness and WHERE.
std::string DescribeSchema(Connection& db) {
  std::vector<std::string> out;
  for (const std::string& table :
       Rows(db,
            "SELECT name, 'end' FROM sqlite_master WHERE type = 'table' "
            "ORDER BY name")) {
    out.push_back(absl::StrCat("table ", table));
    for (const std::string& flags :
         Rows(db, absl::StrCat("SELECT wr, strict, 'end' FROM "
                               "pragma_table_list WHERE name = '",
                               table, "'"))) {
      out.push_back(absl::StrCat("  without_rowid|strict ", flags));
    }
    for (const std::string& autoincrement :
         Rows(db, absl::StrCat("SELECT instr(upper(sql), 'AUTOINCREMENT') > 0, "
                               "'end' FROM sqlite_master WHERE name = '",
                               table, "'"))) {
      out.push_back(absl::StrCat("  autoincrement ", autoincrement));
    }
    for (const std::string& column :
         Rows(db, absl::StrCat("SELECT cid, name, type, \"notnull\", "
                               "dflt_value, pk, hidden, 'end' FROM "
                               "pragma_table_xinfo('",
                               table, "') ORDER BY cid"))) {
      out.push_back(absl::StrCat("  column ", column));
    }
    for (const std::string& index :
         Rows(db, absl::StrCat("SELECT name, \"unique\", origin, partial, "
                               "'end' FROM pragma_index_list('",
                               table, "') ORDER BY name"))) {
      out.push_back(absl::StrCat("  index ", index));
      const std::string name = index.substr(0, index.find('|'));
      for (const std::string& key :
           Rows(db, absl::StrCat("SELECT seqno, cid, name, desc, coll, key, "
                                 "'end' FROM pragma_index_xinfo('",
                                 name, "') ORDER BY seqno"))) {
        out.push_back(absl::StrCat("    key ", key));
      }
      for (const std::string& sql :
           Rows(db, absl::StrCat("SELECT sql, 'end' FROM sqlite_master "
                                 "WHERE type = 'index' AND name = '",
                                 name, "' AND sql IS NOT NULL"))) {
        // The WHERE clause of a partial index, whitespace normalized.
        const size_t where = sql.find(" WHERE ");
        if (where == std::string::npos) continue;
        const std::string condition = sql.substr(where);
        std::vector<absl::string_view> words = absl::StrSplit(
            condition, absl::ByAnyChar(" \n"), absl::SkipWhitespace());
        out.push_back(absl::StrCat("    ", absl::StrJoin(words, " ")));
      }
    }
  }
  // Triggers (durable has none), their text whitespace-normalized.
  for (const std::string& trigger :
       Rows(db,
            "SELECT name, tbl_name, sql, 'end' FROM sqlite_master "
            "WHERE type = 'trigger' ORDER BY name")) {
    std::vector<absl::string_view> words =
        absl::StrSplit(trigger, absl::ByAnyChar(" \n"), absl::SkipWhitespace());
    out.push_back(absl::StrCat("trigger ", absl::StrJoin(words, " ")));
  }
  out.push_back(
      absl::StrCat("version ", absl::StrJoin(Rows(db,
                                                  "SELECT version, 'end' FROM "
                                                  "durable_schema_version"),
                                             ",")));
  return absl::StrJoin(out, "\n");
}

std::string ReferenceDescription() {
  std::unique_ptr<Connection> db = OpenFresh(TempPath("reference.db"));
  EXPECT_TRUE(db->Exec(kReferenceSchema).ok());
  return DescribeSchema(*db);
}

TEST(SqliteSchemaTest, MigrationsAreTheEmbeddedFilesAndTheBackfill) {
  absl::StatusOr<const sql::Migrations*> migrations = SqliteMigrations();
  ASSERT_TRUE(migrations.ok()) << migrations.status();
  EXPECT_EQ((*migrations)->latest_version(), kSchemaVersion);
  std::vector<std::string> files;
  for (const sql::Migration& migration : (*migrations)->migrations()) {
    files.push_back(migration.file);
    EXPECT_EQ(static_cast<bool>(migration.hook), migration.version == 3);
  }
  EXPECT_THAT(files, ElementsAre("0001_initial.sql", "0002_inbox_event_key.sql",
                                 "0003_parent_names_workers.sql",
                                 "0004_instance_seq.sql"));
  std::vector<std::string> embedded;
  for (const sql::EmbeddedFile& file : MigrationFiles()) {
    embedded.emplace_back(file.name);
  }
  EXPECT_THAT(embedded,
              ElementsAre("0001_initial.sql", "0002_inbox_event_key.sql",
                          "0003_parent_names_workers.sql",
                          "0004_instance_seq.sql", "additive_indexes.sql"));
}

TEST(SqliteSchemaTest, FreshDatabaseHasExactlyTheReferenceSchema) {
  const std::string reference = ReferenceDescription();
  ASSERT_THAT(reference, ::testing::HasSubstr("inbox_by_key"));
  std::unique_ptr<Connection> db = OpenFresh(TempPath("fresh.db"));
  ASSERT_TRUE(EnsureSchema(*db, "fresh").ok());
  EXPECT_EQ(DescribeSchema(*db), reference);
  // And opening it again keeps it so.
  ASSERT_TRUE(EnsureSchema(*db, "fresh").ok());
  EXPECT_EQ(DescribeSchema(*db), reference);
}

// A file of each older version, created by that version's migrations alone
// (the reapplied indexes did not exist in the first version-1 files either).
TEST(SqliteSchemaTest, OlderFilesMigrateToExactlyTheReferenceSchema) {
  const std::string reference = ReferenceDescription();
  absl::StatusOr<const sql::Migrations*> current = SqliteMigrations();
  ASSERT_TRUE(current.ok());
  for (int64_t version = 1; version < kSchemaVersion; ++version) {
    SCOPED_TRACE(version);
    std::unique_ptr<Connection> db =
        OpenFresh(TempPath(absl::StrCat("v", version, ".db")));
    for (const sql::Migration& migration : (*current)->migrations()) {
      if (migration.version > version) break;
      for (const std::string& statement : migration.statements) {
        ASSERT_TRUE(db->Exec(statement).ok()) << statement;
      }
    }
    ASSERT_TRUE(db->Exec(absl::StrCat("INSERT INTO durable_schema_version "
                                      "(version) VALUES (",
                                      version, ")"))
                    .ok());
    EXPECT_EQ(*(*current)->StoredVersion(*db, SqliteMigrationTarget("old")),
              version);
    ASSERT_TRUE(EnsureSchema(*db, "old").ok());
    EXPECT_EQ(DescribeSchema(*db), reference);
  }
}

// Version 4 numbers existing executions by their rowid (so a listing cursor
// handed out before the migration keeps its place) and every new one in
// insertion order, without the inserting statement naming the column; the
// rows keep every value.
TEST(SqliteSchemaTest, Version4NumbersExecutionsInInsertionOrder) {
  absl::StatusOr<const sql::Migrations*> current = SqliteMigrations();
  ASSERT_TRUE(current.ok());
  std::unique_ptr<Connection> db = OpenFresh(TempPath("v3rows.db"));
  for (const sql::Migration& migration : (*current)->migrations()) {
    if (migration.version > 3) break;
    for (const std::string& statement : migration.statements) {
      ASSERT_TRUE(db->Exec(statement).ok()) << statement;
    }
  }
  ASSERT_TRUE(
      db->Exec("INSERT INTO durable_schema_version (version) VALUES (3)").ok());
  constexpr char kInsert[] =
      "INSERT INTO instances (rowid, instance_id, execution_id, "
      "workflow_name, queue, state, created_at) VALUES ";
  ASSERT_TRUE(db->Exec(absl::StrCat(kInsert,
                                    "(7, 'a', 'e1', 'w', 'q', 1, 5), "
                                    "(3, 'b', 'e1', 'w', 'q', 1, 5)"))
                  .ok());
  ASSERT_TRUE(EnsureSchema(*db, "v3rows").ok());
  EXPECT_THAT(Rows(*db,
                   "SELECT instance_id, seq, execution_id, workflow_name, "
                   "queue, state, created_at, 'end' FROM instances "
                   "ORDER BY instance_id"),
              ElementsAre("a|7|e1|w|q|1|5", "b|3|e1|w|q|1|5"));
  ASSERT_TRUE(db->Exec("INSERT INTO instances (instance_id, execution_id, "
                       "workflow_name, queue, state, created_at) "
                       "VALUES ('c', 'e1', 'w', 'q', 1, 5), "
                       "('c', 'e2', 'w', 'q', 1, 5)")
                  .ok());
  EXPECT_THAT(Rows(*db,
                   "SELECT instance_id, execution_id, seq, 'end' "
                   "FROM instances WHERE instance_id = 'c' ORDER BY seq"),
              ElementsAre("c|e1|8", "c|e2|9"));
}

}  // namespace
}  // namespace durable::backends::sqlite
