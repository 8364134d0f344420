// The store contract suite: tests that call core::Store and core::AdminStore
// directly (no worker, no client, no C ABI) and pin down what every store
// guarantees: creation, leased workflow and activity tasks (filtered by
// name), atomic completion and the rules the engine relies on inside it
// (event numbering, child starts, delivery to inactive instances, eager
// dispatch, the fused step), event delivery, removal, listing, stats and the
// worker registry. core/storage/store.h and admin_store.h state the rules;
// this suite is how a store proves it follows them, so a rule without a test
// here is a rule a new store can silently break.
//
// Every store instantiates the whole suite with one line, naming a factory
// that returns a fresh, empty store each time it is called (every test gets
// its own):
//
//   INSTANTIATE_STORE_CONTRACT_TESTS(SqliteMemory, [] {
//     return durable::backends::sqlite::OpenSqlite(/*in_memory=*/true);
//   });
//
// (from backends/sqlite/sqlite_contract_test.cc, where OpenSqlite opens a
// SqliteStore and returns it as a std::shared_ptr<core::AdminStore>).
//
// The suite depends on nothing above the storage layer. Real workflows run
// through a client and a worker are the end-to-end scenarios
// (testing/scenarios/end_to_end_scenarios.h), which every store also
// instantiates, by URI. docs/backends.md describes the contract in prose.
#ifndef DURABLE_BACKENDS_CONFORMANCE_STORE_CONTRACT_TESTS_H_
#define DURABLE_BACKENDS_CONFORMANCE_STORE_CONTRACT_TESTS_H_

#include <functional>
#include <memory>

#include "core/storage/admin_store.h"
#include "gtest/gtest.h"

namespace durable::testing {

// Returns a fresh, empty store each time it is called; nullptr (after
// reporting why, e.g. with ADD_FAILURE) when it cannot open one.
using StoreFactory = std::function<std::shared_ptr<core::AdminStore>()>;

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;

  std::shared_ptr<core::AdminStore> store_;
};

}  // namespace durable::testing

// GoogleTest needs the suite's unqualified name, hence the using-declaration.
#define INSTANTIATE_STORE_CONTRACT_TESTS(prefix, store_factory) \
  using ::durable::testing::StoreContractTest;                  \
  INSTANTIATE_TEST_SUITE_P(                                     \
      prefix, StoreContractTest,                                \
      ::testing::Values(::durable::testing::StoreFactory(store_factory)))

#endif  // DURABLE_BACKENDS_CONFORMANCE_STORE_CONTRACT_TESTS_H_
