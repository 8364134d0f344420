#include "backends/mysql/schema.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/mysql/migrations.h"

namespace durable::backends::mysql {
namespace {

// The tables of the connection's current database.
absl::StatusOr<sql::Catalog> InspectCatalog(sql::Connection& connection) {
  absl::StatusOr<sql::Statement> tables = connection.Prepare(
      "SELECT count(*), "
      "count(CASE WHEN table_name = 'durable_schema_version' THEN 1 END) "
      "FROM information_schema.tables WHERE table_schema = DATABASE()");
  if (!tables.ok()) return tables.status();
  absl::StatusOr<bool> row = tables->Step();
  if (!row.ok()) return row.status();
  sql::Catalog catalog;
  if (*row) {
    catalog.table_count = tables->ColumnInt64(0);
    catalog.has_version_table = tables->ColumnInt64(1) > 0;
  }
  return catalog;
}

absl::StatusOr<sql::Migrations> BuildMigrations() {
  absl::StatusOr<sql::Migrations> migrations =
      sql::Migrations::FromFiles(MigrationFiles(), {}, "");
  if (migrations.ok() && migrations->latest_version() != kSchemaVersion) {
    return absl::InternalError(
        absl::StrCat("the mysql store's migration files end at version ",
                     migrations->latest_version(), ", not ", kSchemaVersion));
  }
  return migrations;
}

}  // namespace

absl::StatusOr<const sql::Migrations*> MysqlMigrations() {
  static const absl::StatusOr<sql::Migrations>* const migrations =
      new absl::StatusOr<sql::Migrations>(BuildMigrations());
  if (!migrations->ok()) return migrations->status();
  return &**migrations;
}

sql::MigrationTarget MysqlMigrationTarget(const std::string& description) {
  sql::MigrationTarget target;
  target.description = description;
  target.inspect_catalog = &InspectCatalog;
  return target;
}

absl::Status EnsureSchema(Connection& connection,
                          const std::string& description) {
  absl::StatusOr<const sql::Migrations*> migrations = MysqlMigrations();
  if (!migrations.ok()) return migrations.status();
  return (*migrations)->Migrate(connection, MysqlMigrationTarget(description));
}

}  // namespace durable::backends::mysql
