// Runs every primitives example end to end on an in-memory SQLite backend,
// with the workflow cache on and off (off replays every task from history).
#include "examples/primitives/primitives.h"

#include <functional>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "durable/backend.h"
#include "durable/worker.h"
#include "gtest/gtest.h"

namespace examples {
namespace {

using Example = absl::Status (*)(const durable::Backend&,
                                 const durable::WorkerOptions&);

struct Case {
  const char* name;
  Example run;
};

const Case kCases[] = {
    {"Timers", RunTimersExample},
    {"Signals", RunSignalsExample},
    {"SideEffects", RunSideEffectsExample},
    {"Select", RunSelectExample},
    {"Coroutines", RunCoroutinesExample},
    {"Cancellation", RunCancellationExample},
};

class PrimitivesExampleTest
    : public ::testing::TestWithParam<std::tuple<Case, int>> {};

TEST_P(PrimitivesExampleTest, Runs) {
  const auto& [example, cache] = GetParam();
  absl::StatusOr<durable::Backend> backend =
      durable::Backend::Open("sqlite::memory:");
  ASSERT_TRUE(backend.ok()) << backend.status();
  absl::Status status = example.run(*backend, {.max_cached_workflows = cache});
  EXPECT_TRUE(status.ok()) << status;
}

INSTANTIATE_TEST_SUITE_P(AllExamples, PrimitivesExampleTest,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values(128, 0)),
                         [](const auto& info) {
                           return absl::StrCat(std::get<0>(info.param).name,
                                               "_cache",
                                               std::get<1>(info.param));
                         });

}  // namespace
}  // namespace examples
