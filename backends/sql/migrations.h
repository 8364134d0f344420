// Migrations: the versioned schema of a SQL store, and the runner that
// brings a database to it.
//
// A store's schema is an ordered list of migrations, one `.sql` file each in
// backends/<store>/migrations/, named NNNN_name.sql (0001_initial.sql,
// 0002_...), embedded in the binary at build time (embed.bzl). Migration N
// takes a database from schema version N-1 to N; an empty database runs
// them all, so the files are the one definition of the schema. Migration 1
// creates the version table every durable database has:
//
//   durable_schema_version (version <integer> NOT NULL): one row, the
//   version the database was last written with.
//
// A migration may be followed by a C++ hook run right after its statements,
// for what SQL alone cannot do (backfilling columns from serialized
// events). A store may also name one "reapplied" file of idempotent
// statements (CREATE INDEX IF NOT EXISTS ...) run after the migrations on
// every open: schema additions made without a version bump, which files
// written before them get on their next open.
//
// Migrate() runs in one write transaction (Dialect::migration_lock taken
// first): the stored version is read under it, so two processes opening a
// fresh database at once do not race, and every migration, hook and the
// version row commit together or not at all. Where DDL is not
// transactional (MySQL), each migration commits with its version row
// instead, so a failure leaves the database at the last complete version
// and the next open resumes there; a migration interrupted halfway has run
// part of its DDL, so such dialects' migration files must be safe to run
// again.
//
// What the runner refuses, untouched, with FAILED_PRECONDITION (every
// message starts with MigrationTarget::description):
//   - a database that has tables but no durable_schema_version: it belongs
//     to something else;
//   - a version table that does not hold exactly one positive integer;
//   - a version newer than the last migration: written by a newer durable.
// How a store tells an empty database from a foreign or damaged one is its
// own business (MigrationTarget::inspect_catalog).
#ifndef DURABLE_BACKENDS_SQL_MIGRATIONS_H_
#define DURABLE_BACKENDS_SQL_MIGRATIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "backends/sql/connection.h"
#include "backends/sql/embedded_file.h"

namespace durable::backends::sql {

// Runs inside the migration transaction, after its migration's statements.
// A failure rolls the migration back.
using MigrationHook = std::function<absl::Status(Connection&)>;

struct Migration {
  int64_t version = 0;
  // The file's name, for messages.
  std::string file;
  std::vector<std::string> statements;
  MigrationHook hook;  // may be empty
};

// What a store found in its database's catalog, before any version check.
struct Catalog {
  // Tables of any kind, the store's internal ones included.
  int64_t table_count = 0;
  bool has_version_table = false;
};

// The database being migrated, as the store sees it.
struct MigrationTarget {
  // Starts every error message: `sqlite database "/var/db/x.db"`.
  std::string description;
  // Reads the catalog (SQLite: sqlite_master; servers: information_schema).
  // Its errors are returned as they are, so the store classifies damage
  // (DATA_LOSS) versus a foreign file itself.
  std::function<absl::StatusOr<Catalog>(Connection&)> inspect_catalog;
};

class Migrations {
 public:
  // Builds the list from embedded files: every NNNN_name.sql (NNNN from
  // 0001, contiguous, no repeats) is a migration, `reapplied_file` (may be
  // empty) the reapplied statements; any other file is an error, as are
  // hooks for versions without a file and statements the dialect-neutral
  // splitter cannot read (INVALID_ARGUMENT).
  static absl::StatusOr<Migrations> FromFiles(
      absl::Span<const EmbeddedFile> files,
      std::vector<std::pair<int64_t, MigrationHook>> hooks,
      absl::string_view reapplied_file);

  // The version a migrated database has: the last migration's.
  int64_t latest_version() const {
    return migrations_.empty() ? 0 : migrations_.back().version;
  }
  const std::vector<Migration>& migrations() const { return migrations_; }

  // The stored version, 0 for an empty database, or the refusals above
  // except "newer". Reads only.
  absl::StatusOr<int64_t> StoredVersion(Connection& connection,
                                        const MigrationTarget& target) const;

  // StoredVersion plus the "newer" refusal. Reads only: for checking a
  // database before anything else writes to it.
  absl::Status CheckCompatible(Connection& connection,
                               const MigrationTarget& target) const;

  // Brings the database to latest_version() (see the top comment). The
  // connection must not be in a transaction.
  absl::Status Migrate(Connection& connection,
                       const MigrationTarget& target) const;

 private:
  Migrations() = default;

  // Runs migrations (stored, last] and, when `reapply`, the reapplied
  // statements, in the open transaction.
  absl::Status Apply(Connection& connection, int64_t stored, int64_t last,
                     bool reapply) const;

  std::vector<Migration> migrations_;
  std::vector<std::string> reapplied_;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_MIGRATIONS_H_
