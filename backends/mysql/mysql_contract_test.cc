// The store contract suite (backends/conformance) on MySQL/MariaDB: a
// private mariadbd for this binary, a fresh database for every test.
#include <memory>

#include "backends/conformance/store_contract_tests.h"
#include "backends/mysql/mysql_store.h"
#include "backends/mysql/test_database.h"
#include "gtest/gtest.h"

namespace durable::backends::mysql {
namespace {

std::shared_ptr<core::AdminStore> OpenMysql() {
  absl::StatusOr<ConnectOptions> database = FreshTestDatabase();
  if (!database.ok()) {
    ADD_FAILURE() << "no MariaDB database: " << database.status();
    return nullptr;
  }
  MysqlOptions options;
  options.connect = *database;
  auto store = MysqlStore::Open(options);
  if (!store.ok()) {
    ADD_FAILURE() << "cannot open the MySQL store: " << store.status();
    return nullptr;
  }
  return std::shared_ptr<core::AdminStore>(std::move(*store));
}

}  // namespace
}  // namespace durable::backends::mysql

INSTANTIATE_STORE_CONTRACT_TESTS(Mysql, [] {
  return durable::backends::mysql::OpenMysql();
});
