// Conformance scenarios for bad input from workflow code: values that can
// never work get a clear error at once, never a timer that fires early or a
// retry that never ends, and nothing else is held up. Each is a TEST_P of
// EndToEndScenarioTest, so every backend runs it with the executor cache on
// and off.
#include <atomic>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/options.h"
#include "durable/registry.h"
#include "durable/select.h"
#include "durable/task.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "testing/scenarios/end_to_end_scenarios.h"
#include "testing/scenarios/scenario_harness.h"

namespace durable::testing {
namespace {

using ::testing::HasSubstr;

// Races timers that must never fire against one of 200 ms.
Task<std::string> RaceEndlessTimers(WorkflowContext& ctx) {
  std::string winner;
  Select select;
  select
      .Await(ctx.Sleep(absl::InfiniteDuration()),
             [&](absl::Status) { winner = "infinite"; })
      .Await(ctx.Sleep(absl::Hours(24 * 365 * 200'000)),
             [&](absl::Status) { winner = "200,000 years"; })
      .Await(ctx.Sleep(absl::Milliseconds(200)),
             [&](absl::Status) { winner = "200 ms"; });
  co_await select.Wait();
  co_return winner;
}

std::atomic<int> flaky_runs{0};

int Flaky(ActivityContext& ctx) {
  ++flaky_runs;
  throw std::runtime_error("flaky");
}

// Schedules an activity whose retry policy can never work.
// (JSON has no NaN or infinity, so the coefficient is chosen here.)
Task<absl::StatusOr<int>> CallsWithEndlessBackoff(WorkflowContext& ctx,
                                                  bool nan) {
  ActivityOptions options;
  options.retry_policy.maximum_attempts = 5;
  options.retry_policy.initial_interval = absl::Milliseconds(1);
  options.retry_policy.backoff_coefficient =
      nan ? std::numeric_limits<double>::quiet_NaN()
          : std::numeric_limits<double>::infinity();
  co_return co_await ctx.ExecuteActivity<int>(options, "Flaky");
}

void RegisterBadInput(Registry& registry) {
  ASSERT_TRUE(
      registry.RegisterWorkflow("RaceEndlessTimers", RaceEndlessTimers).ok());
  ASSERT_TRUE(
      registry
          .RegisterWorkflow("CallsWithEndlessBackoff", CallsWithEndlessBackoff)
          .ok());
  ASSERT_TRUE(registry.RegisterActivity("Flaky", Flaky).ok());
}

TEST_P(EndToEndScenarioTest, BadInputInfiniteAndHugeTimersNeverFire) {
  ScenarioHarness h(GetParam(), RegisterBadInput);
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, "RaceEndlessTimers");
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<std::string> winner =
      h.client().GetWorkflowResult<std::string>(instance->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(winner.ok()) << winner.status();
  EXPECT_EQ(*winner, "200 ms");
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      h.client().GetWorkflowHistory(instance->instance_id);
  ASSERT_TRUE(history.ok()) << history.status();
  int saturated = 0;
  for (const v1::HistoryEvent& event : *history) {
    if (event.has_timer_scheduled() &&
        event.timer_scheduled().fire_at_unix_us() ==
            std::numeric_limits<int64_t>::max()) {
      ++saturated;
    }
  }
  EXPECT_EQ(saturated, 1) << "the infinite timer is due at the end of time";
}

TEST_P(EndToEndScenarioTest, BadInputNonFiniteBackoffFailsTheActivityAtOnce) {
  ScenarioHarness h(GetParam(), RegisterBadInput);
  for (bool nan : {false, true}) {
    flaky_runs = 0;
    absl::StatusOr<WorkflowInstance> instance =
        h.client().CreateWorkflowInstance({}, "CallsWithEndlessBackoff", nan);
    ASSERT_TRUE(instance.ok()) << instance.status();
    absl::StatusOr<int> result = h.client().GetWorkflowResult<int>(
        instance->instance_id, kScenarioTimeout);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(FailureType(result.status()), "InvalidArgument")
        << result.status();
    EXPECT_THAT(std::string(result.status().message()),
                HasSubstr("activity \"Flaky\": "
                          "retry_policy.backoff_coefficient is "));
    EXPECT_EQ(flaky_runs, 0) << "an activity with bad options never runs";
  }
}

}  // namespace
}  // namespace durable::testing
