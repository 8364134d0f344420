// The durable schema of a SQLite database and its version check, on the
// shared migration runner (backends/sql/migrations.h).
//
// The schema is migrations/NNNN_*.sql (embedded at build time), the
// version-3 backfill hook, and migrations/additive_indexes.sql, reapplied on
// every open. Opening a database:
//   - a database without any table gets the current schema;
//   - a database with tables but no `durable_schema_version` belongs to
//     something else and is refused (FAILED_PRECONDITION) untouched, and so
//     is a file that is not SQLite at all;
//   - a SQLite file that cannot be read (truncated, corrupt) is DATA_LOSS;
//   - a database written by a newer durable (version > kSchemaVersion), or
//     whose version is not one positive integer, is refused
//     (FAILED_PRECONDITION) untouched;
//   - an older version is migrated step by step to the current one, in the
//     same transaction (version 1 is the first).
//
// Tables (timestamps are int64 Unix microseconds; events are serialized
// durable.v1.HistoryEvent messages):
//   instances   one row per execution: state, lease, result, last failure,
//               workflow name, parent (a serialized WorkflowParent) and
//               seq, its insertion order (the rowid; migrations/0004).
//   history     the append-only history of each execution.
//   inbox       pending events per execution, possibly delayed (visible_at).
//   activities  activity tasks (with their activity name), leased by
//               activity workers.
//   workers     the worker registry: one serialized WorkerInfo per worker.
#ifndef DURABLE_BACKENDS_SQLITE_SCHEMA_H_
#define DURABLE_BACKENDS_SQLITE_SCHEMA_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/sql/migrations.h"
#include "backends/sqlite/connection.h"

namespace durable::backends::sqlite {

// The schema version this library writes and understands: the number of
// migration files.
// 1: initial schema. 2: inbox.event_key (withdrawing canceled timers).
// 3: instances.parent, activities.activity_name, the workers table.
// 4: instances.seq (insertion order: the rowid, made a column).
inline constexpr int64_t kSchemaVersion = 4;

// SQLite's migration list (an error only if the embedded files are
// malformed, which schema_test rules out).
absl::StatusOr<const sql::Migrations*> SqliteMigrations();

// How the migration runner sees the SQLite database `name` (a path or
// "memory"): its description in messages and its catalog (sqlite_master),
// with a read failure classified as damage (DATA_LOSS, for a file with a
// SQLite header) or a foreign file (FAILED_PRECONDITION).
sql::MigrationTarget SqliteMigrationTarget(const std::string& name);

// Refuses foreign or newer databases without writing anything. `name` (a path
// or "memory") appears in error messages.
absl::Status CheckSchemaCompatible(Connection& connection,
                                   const std::string& name);

// Creates or migrates the schema in one write transaction, re-checking
// compatibility under the write lock so two processes opening a fresh file
// at once do not race.
absl::Status EnsureSchema(Connection& connection, const std::string& name);

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_SCHEMA_H_
