// The end-to-end scenarios: real workflows run through a client and a
// worker (C++ facade -> C ABI -> core -> store). The store contract suite
// (backends/conformance) tests the stores below the engine; these test the
// engine on each store, by URI.
//
// Every store instantiates the whole suite with one line, naming a factory
// for fresh URIs of its scheme; each scenario then runs with the executor
// cache on (128 runs) and off (0: every workflow task replays from history):
//
//   INSTANTIATE_END_TO_END_SCENARIOS(SqliteFile, [] {
//     return "sqlite://" + durable::testing::TempPath("e2e.db");
//   });
//
// (sqlite_scenarios_test.cc). The URI reaches the store through the C ABI's
// store registry, so the store must be in //backends:all_stores.
//
// Scenarios about damaged stored data need a way to damage it, which only the
// backend's own test can provide: it passes a HistoryCorrupter with
// INSTANTIATE_END_TO_END_SCENARIOS_WITH_CORRUPTER; without one those
// scenarios are skipped.
//
// Scenarios added by later features join this file, so every backend
// inherits them.
#ifndef DURABLE_TESTING_SCENARIOS_END_TO_END_SCENARIOS_H_
#define DURABLE_TESTING_SCENARIOS_END_TO_END_SCENARIOS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace durable::testing {

// Returns a URI of a fresh, empty backend each time it is called.
using BackendUriFactory = std::function<std::string()>;

// Makes event `event_id` of every stored execution of `instance_id` in the
// backend at `uri` undecodable. UNIMPLEMENTED where the backend cannot (a
// private in-memory database, say): scenarios that need it are skipped.
using HistoryCorrupter = std::function<absl::Status(
    const std::string& uri, const std::string& instance_id, int64_t event_id)>;

// (backend, executor cache size, corrupter -- empty when there is none)
using ScenarioParam = std::tuple<BackendUriFactory, int, HistoryCorrupter>;

class EndToEndScenarioTest : public ::testing::TestWithParam<ScenarioParam> {};

// A path under the test's private temporary directory, unique per call.
std::string TempPath(const std::string& name);

std::string ScenarioName(const ::testing::TestParamInfo<ScenarioParam>& info);

}  // namespace durable::testing

// GoogleTest needs the suite's unqualified name, hence the using-declaration.
#define INSTANTIATE_END_TO_END_SCENARIOS(prefix, uri_factory) \
  INSTANTIATE_END_TO_END_SCENARIOS_WITH_CORRUPTER(            \
      prefix, uri_factory, ::durable::testing::HistoryCorrupter())

#define INSTANTIATE_END_TO_END_SCENARIOS_WITH_CORRUPTER(prefix, uri_factory,   \
                                                        corrupter)             \
  using ::durable::testing::EndToEndScenarioTest;                              \
  INSTANTIATE_TEST_SUITE_P(                                                    \
      prefix, EndToEndScenarioTest,                                            \
      ::testing::Combine(                                                      \
          ::testing::Values(                                                   \
              ::durable::testing::BackendUriFactory(uri_factory)),             \
          ::testing::Values(128, 0),                                           \
          ::testing::Values(::durable::testing::HistoryCorrupter(corrupter))), \
      ::durable::testing::ScenarioName)

#endif  // DURABLE_TESTING_SCENARIOS_END_TO_END_SCENARIOS_H_
