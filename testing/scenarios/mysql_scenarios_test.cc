// The end-to-end scenarios on MySQL/MariaDB: a private mariadbd for this
// binary, a fresh database for every scenario, the executor cache on and
// off (the macro instantiates both).
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backends/mysql/connection.h"
#include "backends/mysql/mysql_scheme.h"
#include "backends/mysql/test_database.h"
#include "core/storage/backend_uri.h"
#include "testing/scenarios/end_to_end_scenarios.h"

namespace {

using durable::backends::mysql::Connection;

std::string FreshDatabaseUri() {
  absl::StatusOr<durable::backends::mysql::ConnectOptions> database =
      durable::backends::mysql::FreshTestDatabase();
  if (!database.ok()) {
    ADD_FAILURE() << "no MariaDB database: " << database.status();
    return "mysql://root@127.0.0.1:1/unavailable";
  }
  return absl::StrCat("mysql://", database->user, "@127.0.0.1:", database->port,
                      "/", database->database);
}

// Overwrites the stored history rows through a connection of its own.
absl::Status CorruptMysqlHistory(const std::string& uri,
                                 const std::string& instance_id,
                                 int64_t event_id) {
  absl::StatusOr<durable::core::storage::BackendUri> parsed =
      durable::core::storage::ParseBackendUri(uri);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<durable::backends::mysql::MysqlOptions> options =
      durable::backends::mysql::MysqlOptionsFromUri(*parsed);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::unique_ptr<Connection>> db =
      Connection::Open(options->connect);
  if (!db.ok()) return db.status();
  absl::StatusOr<durable::backends::sql::Statement> update = (*db)->Prepare(
      "UPDATE history SET event = ?1 WHERE instance_id = ?2 "
      "AND event_id = ?3");
  if (!update.ok()) return update.status();
  if (absl::Status s = update->BindBlob(1, std::string(4, '\xff'))
                           .BindText(2, instance_id)
                           .BindInt64(3, event_id)
                           .Run();
      !s.ok()) {
    return s;
  }
  if ((*db)->Changes() == 0) {
    return absl::InternalError(absl::StrCat("no history row ", event_id, " of ",
                                            instance_id, " in ", uri));
  }
  return absl::OkStatus();
}

}  // namespace

INSTANTIATE_END_TO_END_SCENARIOS_WITH_CORRUPTER(Mysql, FreshDatabaseUri,
                                                CorruptMysqlHistory);
