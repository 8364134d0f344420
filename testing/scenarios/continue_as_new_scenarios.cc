// Conformance scenarios for events that reach an instance while it continues
// as new: signals and cancellations accepted for the instance must reach the
// execution that is active after the commit, whether they were still in the
// inbox of the ending execution (they arrived while its last task was in
// flight) or had been delivered to its code but not received yet. Each is a
// TEST_P of EndToEndScenarioTest, so every backend runs it with the executor
// cache on and off.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/options.h"
#include "durable/registry.h"
#include "durable/signal_channel.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "testing/scenarios/end_to_end_scenarios.h"
#include "testing/scenarios/scenario_harness.h"

namespace durable::testing {
namespace {

constexpr int kTicks = 10;

// Receives one "tick" signal per execution, works for a while (a durable
// timer, during which later ticks arrive and are delivered to this
// execution's code without being received, then a slow workflow task,
// during which ticks wait in the inbox), and continues as new until it has
// seen kTicks ticks. Returns the ticks in the order it received them.
Task<absl::StatusOr<std::string>> ReceiveTicksAcrossExecutions(
    WorkflowContext& ctx, std::string seen, int received) {
  if (received == kTicks) co_return seen;
  absl::StatusOr<int> tick = co_await ctx.SignalChannel<int>("tick").Receive();
  if (!tick.ok()) co_return tick.status();
  seen += absl::StrCat(seen.empty() ? "" : ",", *tick);
  co_await ctx.Sleep(absl::Milliseconds(60));
  if (!ctx.IsReplaying()) {
    // A slow task: signals sent now arrive while it is in flight.
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  co_return ctx.ContinueAsNew({.remove_previous_executions = received % 2 == 1},
                              seen, received + 1);
}

// Set while the first execution of ContinuesAsNewSlowly runs its last task.
std::atomic<bool> slow_task_running{false};

// Continues as new once, from a slow task; the second execution waits for
// cancellation and reports it.
Task<absl::StatusOr<std::string>> ContinuesAsNewSlowly(WorkflowContext& ctx,
                                                       int execution) {
  if (execution == 0) {
    if (!ctx.IsReplaying()) {
      slow_task_running = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      slow_task_running = false;
    }
    co_return ctx.ContinueAsNew({}, 1);
  }
  absl::Status slept = co_await ctx.Sleep(absl::Hours(1));
  if (IsCanceled(slept)) co_return std::string("canceled in execution 1");
  co_return std::string("not canceled");
}

void RegisterContinueAsNew(Registry& registry) {
  ASSERT_TRUE(registry
                  .RegisterWorkflow("ReceiveTicksAcrossExecutions",
                                    ReceiveTicksAcrossExecutions)
                  .ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("ContinuesAsNewSlowly", ContinuesAsNewSlowly)
          .ok());
}

TEST_P(EndToEndScenarioTest,
       ContinueAsNewCarriesSignalsToTheNextExecutionInOrder) {
  ScenarioHarness h(GetParam(), RegisterContinueAsNew);
  absl::StatusOr<WorkflowInstance> instance = h.client().CreateWorkflowInstance(
      {.instance_id = "ticks"}, "ReceiveTicksAcrossExecutions", std::string(),
      0);
  ASSERT_TRUE(instance.ok()) << instance.status();
  // Ticks 30 ms apart: while one execution works (~100 ms), about three more
  // arrive, some delivered to its code and some still in its inbox when it
  // continues as new.
  for (int tick = 0; tick < kTicks; ++tick) {
    ASSERT_TRUE(h.client().SignalWorkflow("ticks", "tick", tick).ok());
    absl::SleepFor(absl::Milliseconds(30));
  }
  absl::StatusOr<std::string> seen =
      h.client().GetWorkflowResult<std::string>("ticks", kScenarioTimeout);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, "0,1,2,3,4,5,6,7,8,9");

  absl::StatusOr<std::vector<v1::WorkflowInstanceState>> executions =
      h.client().ListWorkflowExecutions("ticks");
  ASSERT_TRUE(executions.ok()) << executions.status();
  EXPECT_EQ(executions->back().state(), v1::WORKFLOW_STATE_FINISHED);
}

TEST_P(EndToEndScenarioTest, ContinueAsNewCarriesCancellationInFlight) {
  ScenarioHarness h(GetParam(), RegisterContinueAsNew);
  slow_task_running = false;
  ASSERT_TRUE(h.client()
                  .CreateWorkflowInstance({.instance_id = "slow"},
                                          "ContinuesAsNewSlowly", 0)
                  .ok());
  const absl::Time deadline = absl::Now() + kScenarioTimeout;
  while (!slow_task_running && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  ASSERT_TRUE(slow_task_running) << "the first task never started";
  // The first execution's task is in flight and will continue as new.
  ASSERT_TRUE(h.client().CancelWorkflowInstance("slow", "stop it").ok());
  absl::StatusOr<std::string> outcome =
      h.client().GetWorkflowResult<std::string>("slow", kScenarioTimeout);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, "canceled in execution 1");
}

}  // namespace
}  // namespace durable::testing
