// The store contract suite (backends/conformance) on SQLite: an on-disk
// file and an in-memory database, a fresh one for every test.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/conformance/store_contract_tests.h"
#include "backends/sqlite/sqlite_store.h"
#include "gtest/gtest.h"

namespace durable::backends::sqlite {
namespace {

std::shared_ptr<core::AdminStore> OpenSqlite(bool in_memory) {
  static std::atomic<int> counter = 0;
  SqliteOptions options;
  options.in_memory = in_memory;
  if (!in_memory) {
    const char* dir = std::getenv("TEST_TMPDIR");
    options.path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/contract_",
                                getpid(), "_", counter++, ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove((options.path + suffix).c_str());
    }
  }
  auto backend = SqliteStore::Open(options);
  if (!backend.ok()) {
    ADD_FAILURE() << "cannot open the SQLite store: " << backend.status();
    return nullptr;
  }
  return std::shared_ptr<core::AdminStore>(std::move(*backend));
}

}  // namespace
}  // namespace durable::backends::sqlite

INSTANTIATE_STORE_CONTRACT_TESTS(SqliteFile, [] {
  return durable::backends::sqlite::OpenSqlite(/*in_memory=*/false);
});

INSTANTIATE_STORE_CONTRACT_TESTS(SqliteMemory, [] {
  return durable::backends::sqlite::OpenSqlite(/*in_memory=*/true);
});
