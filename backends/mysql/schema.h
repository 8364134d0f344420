// The MySQL/MariaDB store's schema: its migration files
// (migrations/NNNN_*.sql, embedded) run by the shared runner
// (backends/sql/migrations.h) under the dialect's GET_LOCK migration lock,
// so concurrent openers of a fresh database migrate it once.
//
// A database is "empty" when it has no tables; one with tables but no
// durable_schema_version belongs to something else and is refused, as is a
// newer schema version (FAILED_PRECONDITION naming "mysql database
// `<name>` at host:port").
#ifndef DURABLE_BACKENDS_MYSQL_SCHEMA_H_
#define DURABLE_BACKENDS_MYSQL_SCHEMA_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/mysql/connection.h"
#include "backends/sql/migrations.h"

namespace durable::backends::mysql {

inline constexpr int64_t kSchemaVersion = 1;

absl::StatusOr<const sql::Migrations*> MysqlMigrations();

// `description` starts every error: "mysql database `db` at host:port".
sql::MigrationTarget MysqlMigrationTarget(const std::string& description);

// Brings the connection's database to kSchemaVersion.
absl::Status EnsureSchema(Connection& connection,
                          const std::string& description);

}  // namespace durable::backends::mysql

#endif  // DURABLE_BACKENDS_MYSQL_SCHEMA_H_
