#include "backends/mysql/test_database.h"

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "testing/servers/mariadb_server.h"
#include "testing/servers/shared_server.h"

namespace durable::backends::mysql {

absl::StatusOr<ConnectOptions> FreshTestDatabase() {
  static std::atomic<int> counter = 0;
  absl::StatusOr<testing::MariaDbServer*> server =
      testing::SharedServer<testing::MariaDbServer>::Get();
  if (!server.ok()) return server.status();
  ConnectOptions options;
  options.port = (*server)->port();
  options.user = testing::MariaDbServer::kUser;
  options.database = testing::MariaDbServer::kDatabase;
  absl::StatusOr<std::unique_ptr<Connection>> admin = Connection::Open(options);
  if (!admin.ok()) return admin.status();
  const std::string name = absl::StrCat("t", counter++);
  if (absl::Status s =
          (*admin)->Exec(absl::StrCat("DROP DATABASE IF EXISTS ", name));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = (*admin)->Exec(absl::StrCat("CREATE DATABASE ", name));
      !s.ok()) {
    return s;
  }
  options.database = name;
  return options;
}

}  // namespace durable::backends::mysql
