// The end-to-end half of the backend conformance suite: real workflows run
// through a client and a worker (C++ facade -> C ABI -> core -> backend).
//
// Every backend instantiates the whole suite with one line, naming a factory
// for fresh backend URIs; each scenario then runs with the executor cache on
// (128 runs) and off (0: every workflow task replays from history):
//
//   INSTANTIATE_END_TO_END_SCENARIOS(SqliteFile, [] {
//     return "sqlite://" + durable::testing::TempPath("e2e.db");
//   });
//
// Scenarios added by later features join this file, so every backend
// inherits them.
#ifndef DURABLE_BACKENDS_TESTING_END_TO_END_SCENARIOS_H_
#define DURABLE_BACKENDS_TESTING_END_TO_END_SCENARIOS_H_

#include <functional>
#include <string>
#include <tuple>

#include "gtest/gtest.h"

namespace durable::testing {

// Returns a URI of a fresh, empty backend each time it is called.
using BackendUriFactory = std::function<std::string()>;

// (backend, executor cache size)
using ScenarioParam = std::tuple<BackendUriFactory, int>;

class EndToEndScenarioTest : public ::testing::TestWithParam<ScenarioParam> {};

// A path under the test's private temporary directory, unique per call.
std::string TempPath(const std::string& name);

std::string ScenarioName(const ::testing::TestParamInfo<ScenarioParam>& info);

}  // namespace durable::testing

// GoogleTest needs the suite's unqualified name, hence the using-declaration.
#define INSTANTIATE_END_TO_END_SCENARIOS(prefix, uri_factory)      \
  using ::durable::testing::EndToEndScenarioTest;                  \
  INSTANTIATE_TEST_SUITE_P(                                        \
      prefix, EndToEndScenarioTest,                                \
      ::testing::Combine(                                          \
          ::testing::Values(                                       \
              ::durable::testing::BackendUriFactory(uri_factory)), \
          ::testing::Values(128, 0)),                              \
      ::durable::testing::ScenarioName)

#endif  // DURABLE_BACKENDS_TESTING_END_TO_END_SCENARIOS_H_
