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
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"

namespace durable::backends::sqlite {
namespace {

constexpr char kCreateSchema[] = R"sql(
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
  PRIMARY KEY (instance_id, execution_id)
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
)sql";

// Version 1 -> 2: pending inbox events get an optional key, so a workflow
// task can withdraw one it scheduled earlier (a canceled timer's firing).
constexpr char kMigrateV1ToV2[] = R"sql(
ALTER TABLE inbox ADD COLUMN event_key TEXT;
)sql";

// Version 2 -> 3: each execution keeps its parent (a serialized
// WorkflowParent, NULL for none) so that a child the engine fails reports to
// it even when its history cannot be read; activity tasks keep their name so
// polls can filter by it; and the worker registry. BackfillVersion3 fills
// the new columns of existing rows in the same transaction.
constexpr char kMigrateV2ToV3[] = R"sql(
ALTER TABLE instances ADD COLUMN parent BLOB;
ALTER TABLE activities ADD COLUMN activity_name TEXT NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS workers (
  worker_id TEXT NOT NULL PRIMARY KEY,
  last_seen INTEGER NOT NULL,
  info BLOB NOT NULL
) WITHOUT ROWID;
)sql";

// Indexes added within schema version 1 (listing, removal). They change no
// table, so older version-1 files get them on open without a version bump.
constexpr char kAdditiveIndexes[] = R"sql(
CREATE INDEX IF NOT EXISTS instances_by_created_at
  ON instances (created_at);
CREATE INDEX IF NOT EXISTS instances_by_finished_at
  ON instances (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_by_instance
  ON activities (instance_id, execution_id);
CREATE INDEX IF NOT EXISTS inbox_by_key
  ON inbox (instance_id, execution_id, event_key) WHERE event_key IS NOT NULL;
-- Pollers' "when is the next task due" lookups, O(log n) instead of a scan
-- of every active instance / activity.
CREATE INDEX IF NOT EXISTS instances_by_ready_at
  ON instances (state, ready_at);
CREATE INDEX IF NOT EXISTS instances_by_lease_expiry
  ON instances (state, lease_expires_at) WHERE lease_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_by_lease_expiry
  ON activities (lease_expires_at) WHERE lease_token IS NOT NULL;
)sql";

// Whether the file `name` starts like every SQLite database file.
bool HasSqliteHeader(const std::string& name) {
  std::ifstream file(name, std::ios::binary);
  char header[16] = {};
  return file.read(header, sizeof header) &&
         std::memcmp(header, "SQLite format 3", sizeof header) == 0;
}

// Reads the stored version: 0 for an empty database (nothing to check).
absl::StatusOr<int64_t> StoredVersion(Connection& connection,
                                      const std::string& name) {
  absl::StatusOr<Statement> tables = connection.Prepare(
      "SELECT count(*), "
      "count(CASE WHEN name = 'durable_schema_version' THEN 1 END) "
      "FROM sqlite_master WHERE type = 'table'");
  absl::StatusOr<bool> row =
      tables.ok() ? tables->Step() : absl::StatusOr<bool>(tables.status());
  if (!row.ok()) {
    // The first read of a file that is not SQLite at all fails here, and so
    // does that of a SQLite file that lost pages.
    if (absl::IsDataLoss(row.status()) && HasSqliteHeader(name)) {
      return absl::DataLossError(absl::StrCat(
          "sqlite database \"", name,
          "\" is damaged (truncated or corrupt): ", row.status().message()));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("sqlite database \"", name,
                     "\" is not a durable database: ", row.status().message()));
  }
  int64_t table_count = tables->ColumnInt64(0);
  bool has_version_table = tables->ColumnInt64(1) > 0;
  if (table_count == 0) return 0;
  if (!has_version_table) {
    return absl::FailedPreconditionError(
        absl::StrCat("sqlite database \"", name,
                     "\" is not a durable database: it has tables but no "
                     "durable_schema_version table; refusing to modify it"));
  }
  absl::StatusOr<Statement> version = connection.Prepare(
      "SELECT count(*), typeof(max(version)), max(version) "
      "FROM durable_schema_version");
  if (!version.ok()) return version.status();
  absl::StatusOr<bool> version_row = version->Step();
  if (!version_row.ok()) return version_row.status();
  // The table is filled in the transaction that creates it and holds one
  // positive integer; anything else was written by someone else, and is
  // refused rather than rewritten.
  auto refused = [&](absl::string_view what) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite database \"", name, "\" has ", what,
        " in durable_schema_version (expected one positive integer); "
        "refusing to modify it"));
  };
  const int64_t rows = version->ColumnInt64(0);
  if (rows == 0) return refused("no row");
  if (rows > 1) return refused(absl::StrCat(rows, " rows"));
  if (version->ColumnText(1) != "integer") {
    return refused(absl::StrCat("a ", version->ColumnText(1), " value \"",
                                version->ColumnText(2), "\""));
  }
  if (version->ColumnInt64(2) < 1) {
    return refused(absl::StrCat("version ", version->ColumnInt64(2)));
  }
  return version->ColumnInt64(2);
}

// Fills the version-3 columns of rows written by older versions: every
// activity task's name (from its scheduled event) and the parent of every
// active execution (from its WorkflowExecutionStarted event, still in the
// inbox or event 2 of its history). Rows that cannot be decoded are left as
// they are: their instance fails on its own when it runs.
absl::Status BackfillVersion3(Connection& connection) {
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

}  // namespace

absl::Status CheckSchemaCompatible(Connection& connection,
                                   const std::string& name) {
  absl::StatusOr<int64_t> version = StoredVersion(connection, name);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite database \"", name, "\" has durable schema version ", *version,
        ", newer than version ", kSchemaVersion,
        " supported by this library; upgrade durable to open it"));
  }
  return absl::OkStatus();
}

absl::Status EnsureSchema(Connection& connection, const std::string& name) {
  absl::StatusOr<Transaction> txn =
      Transaction::Begin(&connection, Transaction::Mode::kWrite);
  if (!txn.ok()) return txn.status();
  absl::StatusOr<int64_t> version = StoredVersion(connection, name);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) return CheckSchemaCompatible(connection, name);
  if (*version == kSchemaVersion) {
    // Commits nothing when the indexes exist already.
    if (absl::Status status = connection.Exec(kAdditiveIndexes); !status.ok()) {
      return status;
    }
    return txn->Commit();
  }
  // Version 0 is a fresh database; older versions migrate step by step, all
  // in this same transaction.
  if (*version == 0) {
    if (absl::Status status = connection.Exec(kCreateSchema); !status.ok()) {
      return status;
    }
  } else {
    if (*version < 2) {
      if (absl::Status status = connection.Exec(kMigrateV1ToV2); !status.ok()) {
        return status;
      }
    }
    if (*version < 3) {
      if (absl::Status status = connection.Exec(kMigrateV2ToV3); !status.ok()) {
        return status;
      }
      if (absl::Status status = BackfillVersion3(connection); !status.ok()) {
        return status;
      }
    }
  }
  if (absl::Status status = connection.Exec(kAdditiveIndexes); !status.ok()) {
    return status;
  }
  if (absl::Status status = connection.Exec(
          absl::StrCat("DELETE FROM durable_schema_version; "
                       "INSERT INTO durable_schema_version (version) VALUES (",
                       kSchemaVersion, ")"));
      !status.ok()) {
    return status;
  }
  return txn->Commit();
}

}  // namespace durable::backends::sqlite
