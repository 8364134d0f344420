// The contract half of the backend conformance suite: tests that call the
// core::Store interface directly (no worker, no client) and pin down what
// every backend guarantees: creation, leased workflow and activity tasks
// (filtered by name), atomic completion, event delivery, removal, listing,
// stats and the worker registry.
//
// Every backend instantiates the whole suite with one line, naming a factory
// that returns a fresh, empty backend each time it is called (every test gets
// its own):
//
//   INSTANTIATE_BACKEND_CONTRACT_TESTS(SqliteMemory, [] {
//     return durable::backends::sqlite::OpenSqlite(/*in_memory=*/true);
//   });
//
// (from backends/sqlite/sqlite_contract_test.cc, where OpenSqlite opens a
// SqliteStore and returns it as a std::shared_ptr<core::AdminStore>).
//
// The end-to-end half (client + worker) is end_to_end_scenarios.h; a backend
// instantiates both. docs/backends.md describes the contract in prose.
#ifndef DURABLE_BACKENDS_TESTING_BACKEND_CONTRACT_TESTS_H_
#define DURABLE_BACKENDS_TESTING_BACKEND_CONTRACT_TESTS_H_

#include <functional>
#include <memory>

#include "core/storage/admin_store.h"
#include "gtest/gtest.h"

namespace durable::testing {

// Returns a fresh, empty backend each time it is called; nullptr (after
// reporting why, e.g. with ADD_FAILURE) when it cannot open one.
using BackendFactory = std::function<std::shared_ptr<core::AdminStore>()>;

class BackendContractTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;

  std::shared_ptr<core::AdminStore> backend_;
};

}  // namespace durable::testing

// GoogleTest needs the suite's unqualified name, hence the using-declaration.
#define INSTANTIATE_BACKEND_CONTRACT_TESTS(prefix, backend_factory) \
  using ::durable::testing::BackendContractTest;                    \
  INSTANTIATE_TEST_SUITE_P(                                         \
      prefix, BackendContractTest,                                  \
      ::testing::Values(::durable::testing::BackendFactory(backend_factory)))

#endif  // DURABLE_BACKENDS_TESTING_BACKEND_CONTRACT_TESTS_H_
