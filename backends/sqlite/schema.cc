#include "backends/sqlite/schema.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "backends/sql/statement.h"
#include "backends/sqlite/migrations.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"

namespace durable::backends::sqlite {
namespace {

// Whether the file `name` starts like every SQLite database file.
bool HasSqliteHeader(const std::string& name) {
  std::ifstream file(name, std::ios::binary);
  char header[16] = {};
  return file.read(header, sizeof header) &&
         std::memcmp(header, "SQLite format 3", sizeof header) == 0;
}

// Counts the tables in sqlite_master. This is the first read of the file,
// which fails for a file that is not SQLite at all and for a SQLite file
// that lost pages; the header tells the two apart.
absl::StatusOr<sql::Catalog> InspectCatalog(sql::Connection& connection,
                                            const std::string& name) {
  absl::StatusOr<sql::Statement> tables = connection.Prepare(
      "SELECT count(*), "
      "count(CASE WHEN name = 'durable_schema_version' THEN 1 END) "
      "FROM sqlite_master WHERE type = 'table'");
  absl::StatusOr<bool> row =
      tables.ok() ? tables->Step() : absl::StatusOr<bool>(tables.status());
  if (!row.ok()) {
    if (absl::IsDataLoss(row.status()) && HasSqliteHeader(name)) {
      return absl::DataLossError(absl::StrCat(
          "sqlite database \"", name,
          "\" is damaged (truncated or corrupt): ", row.status().message()));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("sqlite database \"", name,
                     "\" is not a durable database: ", row.status().message()));
  }
  sql::Catalog catalog;
  catalog.table_count = tables->ColumnInt64(0);
  catalog.has_version_table = tables->ColumnInt64(1) > 0;
  return catalog;
}

// Fills the version-3 columns of rows written by older versions: every
// activity task's name (from its scheduled event) and the parent of every
// active execution (from its WorkflowExecutionStarted event, still in the
// inbox or event 2 of its history). Rows that cannot be decoded are left as
// they are: their instance fails on its own when it runs.
absl::Status BackfillVersion3(sql::Connection& connection) {
  std::vector<std::pair<int64_t, std::string>> names;
  {
    absl::StatusOr<Statement> rows =
        connection.Prepare("SELECT id, scheduled_event FROM activities");
    if (!rows.ok()) return rows.status();
    while (true) {
      absl::StatusOr<bool> row = rows->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      v1::HistoryEvent scheduled;
      if (scheduled.ParseFromString(rows->ColumnBlob(1))) {
        names.emplace_back(rows->ColumnInt64(0),
                           scheduled.activity_scheduled().activity_name());
      }
    }
  }
  for (const auto& [id, name] : names) {
    absl::StatusOr<Statement> update = connection.Prepare(
        "UPDATE activities SET activity_name = ?1 WHERE id = ?2");
    if (!update.ok()) return update.status();
    if (absl::Status s = update->BindText(1, name).BindInt64(2, id).Run();
        !s.ok()) {
      return s;
    }
  }
  std::vector<std::pair<std::string, std::string>> active;
  {
    absl::StatusOr<Statement> rows = connection.Prepare(absl::StrCat(
        "SELECT instance_id, execution_id FROM instances WHERE state = ",
        static_cast<int>(v1::WORKFLOW_STATE_ACTIVE)));
    if (!rows.ok()) return rows.status();
    while (true) {
      absl::StatusOr<bool> row = rows->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      active.emplace_back(rows->ColumnText(0), rows->ColumnText(1));
    }
  }
  for (const auto& [instance_id, execution_id] : active) {
    std::string parent;
    {
      absl::StatusOr<Statement> started = connection.Prepare(
          "SELECT event FROM inbox WHERE instance_id = ?1 "
          "AND execution_id = ?2 UNION ALL SELECT event FROM history "
          "WHERE instance_id = ?1 AND execution_id = ?2 AND event_id <= 2");
      if (!started.ok()) return started.status();
      started->BindText(1, instance_id).BindText(2, execution_id);
      while (parent.empty()) {
        absl::StatusOr<bool> row = started->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        v1::HistoryEvent event;
        if (event.ParseFromString(started->ColumnBlob(0)) &&
            event.has_workflow_execution_started() &&
            !event.workflow_execution_started()
                 .parent()
                 .instance_id()
                 .empty()) {
          parent =
              event.workflow_execution_started().parent().SerializeAsString();
        }
      }
    }
    if (parent.empty()) continue;
    absl::StatusOr<Statement> update = connection.Prepare(
        "UPDATE instances SET parent = ?1 "
        "WHERE instance_id = ?2 AND execution_id = ?3");
    if (!update.ok()) return update.status();
    if (absl::Status s = update->BindBlob(1, parent)
                             .BindText(2, instance_id)
                             .BindText(3, execution_id)
                             .Run();
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<sql::Migrations> BuildMigrations() {
  std::vector<std::pair<int64_t, sql::MigrationHook>> hooks;
  hooks.emplace_back(3, BackfillVersion3);
  absl::StatusOr<sql::Migrations> migrations = sql::Migrations::FromFiles(
      MigrationFiles(), std::move(hooks), "additive_indexes.sql");
  if (migrations.ok() && migrations->latest_version() != kSchemaVersion) {
    return absl::InternalError(
        absl::StrCat("the sqlite migration files reach schema version ",
                     migrations->latest_version(), " but kSchemaVersion is ",
                     kSchemaVersion));
  }
  return migrations;
}

}  // namespace

absl::StatusOr<const sql::Migrations*> SqliteMigrations() {
  static const absl::StatusOr<sql::Migrations>* const migrations =
      new absl::StatusOr<sql::Migrations>(BuildMigrations());
  if (!migrations->ok()) return migrations->status();
  return &**migrations;
}

sql::MigrationTarget SqliteMigrationTarget(const std::string& name) {
  sql::MigrationTarget target;
  target.description = absl::StrCat("sqlite database \"", name, "\"");
  target.inspect_catalog = [name](sql::Connection& connection) {
    return InspectCatalog(connection, name);
  };
  return target;
}

absl::Status CheckSchemaCompatible(Connection& connection,
                                   const std::string& name) {
  absl::StatusOr<const sql::Migrations*> migrations = SqliteMigrations();
  if (!migrations.ok()) return migrations.status();
  return (*migrations)
      ->CheckCompatible(connection, SqliteMigrationTarget(name));
}

absl::Status EnsureSchema(Connection& connection, const std::string& name) {
  absl::StatusOr<const sql::Migrations*> migrations = SqliteMigrations();
  if (!migrations.ok()) return migrations.status();
  return (*migrations)->Migrate(connection, SqliteMigrationTarget(name));
}

}  // namespace durable::backends::sqlite
