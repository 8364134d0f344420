// Runs the orchestration examples on an in-memory SQLite backend, with the
// workflow cache on and off.
#include "examples/orchestration/orchestration.h"

#include "absl/status/status.h"
#include "durable/backend.h"
#include "durable/worker.h"
#include "gtest/gtest.h"

namespace examples {
namespace {

class OrchestrationExampleTest : public ::testing::TestWithParam<int> {};

TEST_P(OrchestrationExampleTest, Runs) {
  absl::StatusOr<durable::Backend> backend =
      durable::Backend::Open("sqlite::memory:");
  ASSERT_TRUE(backend.ok()) << backend.status();
  absl::Status status =
      RunOrchestrationExample(*backend, {.max_cached_workflows = GetParam()});
  EXPECT_TRUE(status.ok()) << status;
}

INSTANTIATE_TEST_SUITE_P(CacheOnAndOff, OrchestrationExampleTest,
                         ::testing::Values(128, 0));

}  // namespace
}  // namespace examples
