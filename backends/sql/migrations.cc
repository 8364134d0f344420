#include "backends/sql/migrations.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/sql/sql_text.h"
#include "backends/sql/statement.h"
#include "backends/sql/transaction.h"

namespace durable::backends::sql {
namespace {

// Keeps the code of `status`, putting `context` in front of its message.
absl::Status WithContext(const absl::Status& status,
                         absl::string_view context) {
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

// The version of a migration file named NNNN_name.sql, or 0 when the name
// is not of that form.
int64_t MigrationFileVersion(absl::string_view name) {
  if (name.size() < 10 || !absl::EndsWith(name, ".sql") || name[4] != '_') {
    return 0;
  }
  int64_t version = 0;
  for (char c : name.substr(0, 4)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return 0;
    version = version * 10 + (c - '0');
  }
  return version;
}

absl::Status WriteVersion(Connection& connection, int64_t version) {
  if (absl::Status status =
          connection.Exec("DELETE FROM durable_schema_version");
      !status.ok()) {
    return status;
  }
  return connection.Exec(absl::StrCat(
      "INSERT INTO durable_schema_version (version) VALUES (", version, ")"));
}

}  // namespace

absl::StatusOr<Migrations> Migrations::FromFiles(
    absl::Span<const EmbeddedFile> files,
    std::vector<std::pair<int64_t, MigrationHook>> hooks,
    absl::string_view reapplied_file) {
  Migrations result;
  bool found_reapplied = false;
  std::vector<const EmbeddedFile*> migration_files;
  for (const EmbeddedFile& file : files) {
    if (!reapplied_file.empty() && file.name == reapplied_file) {
      absl::StatusOr<std::vector<std::string>> statements =
          SplitStatements(file.contents);
      if (!statements.ok()) return WithContext(statements.status(), file.name);
      result.reapplied_ = *std::move(statements);
      found_reapplied = true;
      continue;
    }
    if (MigrationFileVersion(file.name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", file.name,
          "\" is neither a migration (NNNN_name.sql, from 0001) nor the "
          "reapplied file"));
    }
    migration_files.push_back(&file);
  }
  if (!reapplied_file.empty() && !found_reapplied) {
    return absl::InvalidArgumentError(
        absl::StrCat("the reapplied file \"", reapplied_file,
                     "\" is not among the migration files"));
  }
  std::sort(migration_files.begin(), migration_files.end(),
            [](const EmbeddedFile* a, const EmbeddedFile* b) {
              return a->name < b->name;
            });
  for (const EmbeddedFile* file : migration_files) {
    const int64_t version = MigrationFileVersion(file->name);
    const int64_t expected =
        static_cast<int64_t>(result.migrations_.size()) + 1;
    if (version != expected) {
      return absl::InvalidArgumentError(absl::StrCat(
          "migration \"", file->name, "\" has version ", version,
          " where version ", expected,
          " was expected (migrations are numbered from 0001, without gaps "
          "or repeats)"));
    }
    absl::StatusOr<std::vector<std::string>> statements =
        SplitStatements(file->contents);
    if (!statements.ok()) return WithContext(statements.status(), file->name);
    Migration& migration = result.migrations_.emplace_back();
    migration.version = version;
    migration.file = std::string(file->name);
    migration.statements = *std::move(statements);
  }
  for (auto& [version, hook] : hooks) {
    if (version < 1 || version > result.latest_version()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a hook for migration ", version, ", which has no file"));
    }
    Migration& migration = result.migrations_[version - 1];
    if (migration.hook) {
      return absl::InvalidArgumentError(
          absl::StrCat("two hooks for migration ", migration.file));
    }
    migration.hook = std::move(hook);
  }
  return result;
}

absl::StatusOr<int64_t> Migrations::StoredVersion(
    Connection& connection, const MigrationTarget& target) const {
  absl::StatusOr<Catalog> catalog = target.inspect_catalog(connection);
  if (!catalog.ok()) return catalog.status();
  if (catalog->table_count == 0) return 0;
  if (!catalog->has_version_table) {
    return absl::FailedPreconditionError(
        absl::StrCat(target.description,
                     " is not a durable database: it has tables but no "
                     "durable_schema_version table; refusing to modify it"));
  }
  absl::StatusOr<Statement> version =
      connection.Prepare("SELECT version FROM durable_schema_version");
  if (!version.ok()) return version.status();
  // The table is filled in the transaction that creates it and holds one
  // positive integer; anything else was written by someone else, and is
  // refused rather than rewritten.
  auto refused = [&](absl::string_view what) {
    return absl::FailedPreconditionError(absl::StrCat(
        target.description, " has ", what,
        " in durable_schema_version (expected one positive integer); "
        "refusing to modify it"));
  };
  int64_t rows = 0;
  ValueType type = ValueType::kNull;
  std::string text;
  int64_t value = 0;
  while (true) {
    absl::StatusOr<bool> row = version->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (++rows == 1) {
      type = version->ColumnType(0);
      text = version->ColumnText(0);
      value = version->ColumnInt64(0);
    }
  }
  if (rows == 0) return refused("no row");
  if (rows > 1) return refused(absl::StrCat(rows, " rows"));
  if (type != ValueType::kInteger) {
    return refused(
        absl::StrCat("a ", ValueTypeName(type), " value \"", text, "\""));
  }
  if (value < 1) return refused(absl::StrCat("version ", value));
  return value;
}

absl::Status Migrations::CheckCompatible(Connection& connection,
                                         const MigrationTarget& target) const {
  absl::StatusOr<int64_t> version = StoredVersion(connection, target);
  if (!version.ok()) return version.status();
  if (*version > latest_version()) {
    return absl::FailedPreconditionError(
        absl::StrCat(target.description, " has durable schema version ",
                     *version, ", newer than version ", latest_version(),
                     " supported by this library; upgrade durable to open it"));
  }
  return absl::OkStatus();
}

absl::Status Migrations::Apply(Connection& connection, int64_t stored,
                               int64_t last, bool reapply) const {
  for (int64_t version = stored + 1; version <= last; ++version) {
    const Migration& migration = migrations_[version - 1];
    for (size_t i = 0; i < migration.statements.size(); ++i) {
      if (absl::Status status = connection.Exec(migration.statements[i]);
          !status.ok()) {
        return WithContext(
            status, absl::StrCat("migration ", migration.file, ", statement ",
                                 i + 1, " of ", migration.statements.size()));
      }
    }
    if (migration.hook) {
      if (absl::Status status = migration.hook(connection); !status.ok()) {
        return WithContext(status,
                           absl::StrCat("migration ", migration.file, " hook"));
      }
    }
  }
  if (reapply) {
    for (const std::string& statement : reapplied_) {
      if (absl::Status status = connection.Exec(statement); !status.ok()) {
        return WithContext(status, "reapplied schema statement");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Migrations::Migrate(Connection& connection,
                                 const MigrationTarget& target) const {
  const Dialect& dialect = connection.dialect();
  std::optional<Transaction> txn;
  auto begin = [&]() -> absl::Status {
    txn.reset();
    absl::StatusOr<Transaction> started =
        Transaction::Begin(&connection, TransactionMode::kWrite);
    if (!started.ok()) return started.status();
    txn.emplace(*std::move(started));
    return absl::OkStatus();
  };
  auto migrate = [&]() -> absl::Status {
    if (absl::Status status = begin(); !status.ok()) return status;
    if (!dialect.migration_lock.empty()) {
      absl::StatusOr<Statement> lock =
          connection.Prepare(dialect.migration_lock);
      if (!lock.ok()) return lock.status();
      absl::StatusOr<bool> row = lock->Step();
      if (!row.ok()) return row.status();
      if (*row && lock->ColumnType(0) == ValueType::kInteger &&
          lock->ColumnInt64(0) == 0) {
        return absl::UnavailableError(
            absl::StrCat(target.description,
                         ": timed out waiting for another process to finish "
                         "migrating the schema"));
      }
    }
    absl::StatusOr<int64_t> stored = StoredVersion(connection, target);
    if (!stored.ok()) return stored.status();
    const int64_t latest = latest_version();
    if (*stored > latest) return CheckCompatible(connection, target);
    if (dialect.transactional_ddl) {
      // All of it, or (on any failure, by txn's destructor) none of it.
      if (absl::Status status = Apply(connection, *stored, latest, true);
          !status.ok()) {
        return WithContext(status,
                           absl::StrCat("migrating ", target.description));
      }
      if (*stored != latest) {
        if (absl::Status status = WriteVersion(connection, latest);
            !status.ok()) {
          return status;
        }
      }
      return txn->Commit();
    }
    // DDL commits by itself: record each version as soon as it is complete.
    for (int64_t version = *stored + 1; version <= latest; ++version) {
      if (absl::Status status = Apply(connection, version - 1, version, false);
          !status.ok()) {
        return WithContext(status,
                           absl::StrCat("migrating ", target.description));
      }
      if (absl::Status status = WriteVersion(connection, version);
          !status.ok()) {
        return status;
      }
      if (absl::Status status = txn->Commit(); !status.ok()) return status;
      if (absl::Status status = begin(); !status.ok()) return status;
    }
    if (absl::Status status = Apply(connection, latest, latest, true);
        !status.ok()) {
      return WithContext(status,
                         absl::StrCat("migrating ", target.description));
    }
    return txn->Commit();
  };
  absl::Status status = migrate();
  txn.reset();  // Rolls back whatever did not commit.
  if (!dialect.migration_unlock.empty()) {
    // After a failure too: the lock belongs to the session, not to the
    // transaction.
    absl::Status unlocked = connection.Exec(dialect.migration_unlock);
    if (status.ok()) status = unlocked;
  }
  return status;
}

}  // namespace durable::backends::sql
