// The end-to-end scenarios on SQLite: an on-disk file and an in-memory
// database, each with the executor cache on and off. The scenarios open the
// store by URI through the facade, so this file is all a store needs: one
// line per URI form (plus, optionally, a way to damage stored history).
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "testing/scenarios/end_to_end_scenarios.h"

namespace {

// Overwrites the stored history rows through a connection of its own.
absl::Status CorruptSqliteHistory(const std::string& uri,
                                  const std::string& instance_id,
                                  int64_t event_id) {
  constexpr absl::string_view kScheme = "sqlite://";
  if (!absl::StartsWith(uri, kScheme)) {
    return absl::UnimplementedError(
        absl::StrCat("cannot reach the database of ", uri, " from outside"));
  }
  const std::string path(uri.substr(kScheme.size()));
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db,
                            "UPDATE history SET event = x'ffffffff' "
                            "WHERE instance_id = ?1 AND event_id = ?2",
                            -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, instance_id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(stmt, 2, event_id);
      rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(stmt);
  }
  absl::Status status = rc == SQLITE_OK && sqlite3_changes(db) > 0
                            ? absl::OkStatus()
                            : absl::InternalError(absl::StrCat(
                                  "corrupting history of ", instance_id, " in ",
                                  path, ": ", sqlite3_errmsg(db)));
  sqlite3_close(db);
  return status;
}

}  // namespace

INSTANTIATE_END_TO_END_SCENARIOS_WITH_CORRUPTER(
    SqliteFile,
    [] { return "sqlite://" + durable::testing::TempPath("end_to_end.db"); },
    CorruptSqliteHistory);

INSTANTIATE_END_TO_END_SCENARIOS(SqliteMemory,
                                 [] { return std::string("sqlite::memory:"); });
