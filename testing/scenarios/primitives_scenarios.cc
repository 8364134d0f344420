// Conformance scenarios for the workflow primitives: side effects, timers,
// signals, select, cancellation, workflow coroutines and channels. Each is a
// TEST_P of EndToEndScenarioTest, so every backend runs it with the executor
// cache on and off.
#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/cancellation.h"
#include "durable/channel.h"
#include "durable/failure.h"
#include "durable/options.h"
#include "durable/select.h"
#include "durable/signal_channel.h"
#include "durable/task.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "testing/scenarios/end_to_end_scenarios.h"
#include "testing/scenarios/scenario_harness.h"

namespace durable::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// Incremented by side effects; the scenario checks how often they ran.
std::atomic<int> external_counter{0};

int Square(ActivityContext&, int x) { return x * x; }
std::string Release(ActivityContext&, std::string what) {
  return what + " released";
}

// Acceptance 1: two side effects in two workflow tasks (a "go" signal
// between them).
Task<absl::StatusOr<int>> CountTwice(WorkflowContext& ctx) {
  absl::StatusOr<int> a = ctx.SideEffect([] { return ++external_counter; });
  if (!a.ok()) co_return a.status();
  absl::StatusOr<std::string> go =
      co_await ctx.SignalChannel<std::string>("go").Receive();
  if (!go.ok()) co_return go.status();
  absl::StatusOr<int> b = ctx.SideEffect([] { return ++external_counter; });
  if (!b.ok()) co_return b.status();
  co_return *a + *b;
}

// Acceptance 2: a timer fires and workflow time advances by its duration.
Task<absl::StatusOr<int64_t>> SleepAndMeasure(WorkflowContext& ctx) {
  const absl::Time before = ctx.Now();
  if (absl::Status s = co_await ctx.Sleep(absl::Milliseconds(150)); !s.ok()) {
    co_return s;
  }
  co_return absl::ToInt64Milliseconds(ctx.Now() - before);
}

// Acceptance 2: a 10 s timer canceled (twice) after a short one fired.
Task<absl::StatusOr<std::string>> CancelLaterTimer(WorkflowContext& ctx) {
  auto [scope, cancel] = WithCancel(ctx);
  Future<void> long_timer = scope.ScheduleTimer(absl::Seconds(10));
  if (absl::Status s = co_await ctx.Sleep(absl::Milliseconds(50)); !s.ok()) {
    co_return s;
  }
  cancel();
  cancel();  // harmless
  absl::Status fired = co_await long_timer;
  co_return absl::StatusCodeToString(fired.code());
}

// Acceptance 2: a timer canceled in the step that created it.
Task<absl::StatusOr<std::string>> CancelTimerAtOnce(WorkflowContext& ctx) {
  auto [scope, cancel] = WithCancel(ctx);
  Future<void> timer = scope.ScheduleTimer(absl::Seconds(10));
  cancel();
  absl::Status fired = co_await timer;
  co_return absl::StatusCodeToString(fired.code());
}

// Acceptance 3: block on a signal and return its payload.
Task<absl::StatusOr<std::string>> AwaitApproval(WorkflowContext& ctx) {
  co_return co_await ctx.SignalChannel<std::string>("approval").Receive();
}

// Acceptance 3: signals sent before the channel is read arrive in order.
Task<absl::StatusOr<std::string>> ReadThreeLater(WorkflowContext& ctx) {
  if (absl::Status s = co_await ctx.Sleep(absl::Milliseconds(300)); !s.ok()) {
    co_return s;
  }
  SignalChannel<std::string> letters = ctx.SignalChannel<std::string>("letter");
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::string> letter = co_await letters.Receive();
    if (!letter.ok()) co_return letter.status();
    got.push_back(*letter);
  }
  co_return absl::StrJoin(got, ",");
}

// Waits up to 5 s of workflow time for a "go" signal.
Task<std::string> WaitsForGoBriefly(WorkflowContext& ctx) {
  std::string got = "no signal";
  Select select;
  select
      .Receive(ctx.SignalChannel<std::string>("go"),
               [&](absl::StatusOr<std::string> value) {
                 got = value.value_or("undecodable");
               })
      .Await(ctx.Sleep(absl::Seconds(5)), [](absl::Status) {});
  co_await select.Wait();
  co_return got;
}

// Signals its sub-workflow before the command that starts it.
Task<absl::StatusOr<std::string>> SignalsSubWorkflowBeforeStartingIt(
    WorkflowContext& ctx) {
  const std::string sub_workflow_id = ctx.InstanceId() + "-sub";
  Future<void> sent =
      ctx.SignalWorkflow(sub_workflow_id, "go", std::string("hi"));
  const SubWorkflowOptions options{.instance_id = sub_workflow_id};
  Future<std::string> sub_workflow =
      ctx.CreateSubWorkflowInstance(options, WaitsForGoBriefly);
  absl::StatusOr<std::string> got = co_await sub_workflow;
  if (!got.ok()) co_return got.status();
  absl::Status delivered = co_await sent;
  co_return absl::StrCat(*got, " ", absl::StatusCodeToString(delivered.code()));
}

// Signals `target` ("approval") and waits for the delivery; an undelivered
// signal fails this workflow with its status.
Task<absl::StatusOr<std::string>> SignalsAndWaits(WorkflowContext& ctx,
                                                  std::string target) {
  absl::Status sent = co_await ctx.SignalWorkflow(
      target, "approval", std::string("from a workflow"));
  if (!sent.ok()) co_return sent;
  co_return std::string("delivered");
}

// Signals its own instance, waits for the delivery, then receives it.
Task<absl::StatusOr<std::string>> SignalsItself(WorkflowContext& ctx) {
  absl::Status sent =
      co_await ctx.SignalWorkflow(ctx.InstanceId(), "self", std::string("me"));
  if (!sent.ok()) co_return sent;
  co_return co_await ctx.SignalChannel<std::string>("self").Receive();
}

// Signals `target` without waiting; the answer arrives while it sleeps.
Task<absl::StatusOr<std::string>> SignalsAndMovesOn(WorkflowContext& ctx,
                                                    std::string target) {
  ctx.SignalWorkflow(target, "approval", std::string("ignored"));
  if (absl::Status s = co_await ctx.Sleep(absl::Milliseconds(300)); !s.ok()) {
    co_return s;
  }
  co_return std::string("moved on");
}

// Acceptance 4: cases are evaluated in the order given; a default runs when
// nothing is ready; a loop of selects consumes 100 activity futures.
Task<absl::StatusOr<std::string>> SelectInOrder(WorkflowContext& ctx) {
  std::vector<std::string> picks;
  {
    Select nothing_ready;
    nothing_ready
        .Await(ctx.Sleep(absl::Hours(1)),
               [&](absl::Status) { picks.push_back("timer"); })
        .Default([&] { picks.push_back("default"); });
    co_await nothing_ready.Wait();
  }
  Future<int> two = ctx.ExecuteActivity(Square, 2);
  Future<int> three = ctx.ExecuteActivity(Square, 3);
  // Let both complete, then offer them in the opposite order.
  (void)co_await two;
  (void)co_await three;
  {
    Select both_ready;
    both_ready
        .Await(
            three,
            [&](absl::StatusOr<int> v) { picks.push_back(absl::StrCat(*v)); })
        .Await(two, [&](absl::StatusOr<int> v) {
          picks.push_back(absl::StrCat(*v));
        });
    co_await both_ready.Wait();
  }
  int sum = 0, consumed = 0;
  Select many;
  for (int i = 1; i <= 100; ++i) {
    many.Await(ctx.ExecuteActivity(Square, i), [&](absl::StatusOr<int> v) {
      sum += *v;
      ++consumed;
    });
  }
  while (co_await many.Wait()) {
  }
  picks.push_back(absl::StrCat(consumed, ":", sum));
  co_return absl::StrJoin(picks, " ");
}

// Acceptance 5: canceled while sleeping 10 s; cleans up through a
// disconnected context.
Task<absl::StatusOr<std::string>> HoldThenCleanUp(WorkflowContext& ctx) {
  absl::Status slept = co_await ctx.Sleep(absl::Seconds(10));
  if (slept.ok()) co_return std::string("slept");
  const bool canceled = ctx.Canceled();
  absl::StatusOr<std::string> refused =
      co_await ctx.ExecuteActivity(Release, std::string("lock"));
  WorkflowContext cleanup = NewDisconnectedContext(ctx);
  absl::StatusOr<std::string> released =
      co_await cleanup.ExecuteActivity(Release, std::string("lock"));
  if (!released.ok()) co_return released.status();
  co_return absl::StrCat(absl::StatusCodeToString(slept.code()),
                         " ctx=", canceled ? "canceled" : "live", " refused=",
                         absl::StatusCodeToString(refused.status().code()), " ",
                         *released);
}

// Acceptance 6: a coroutine started with Go sends values over a channel.
Task<absl::StatusOr<int>> ProducerConsumer(WorkflowContext& ctx) {
  Channel<int> numbers = ctx.NewChannel<int>();
  ctx.Go([numbers](WorkflowContext& ctx) mutable -> Task<void> {
    for (int i = 1; i <= 5; ++i) {
      absl::StatusOr<int> squared = co_await ctx.ExecuteActivity(Square, i);
      co_await numbers.Send(squared.ok() ? *squared : -1000);
    }
    numbers.Close();
  });
  int sum = 0;
  while (std::optional<int> n = co_await numbers.Receive()) sum += *n;
  co_return sum;
}

void RegisterPrimitives(Registry& registry) {
  ASSERT_TRUE(registry.RegisterActivity("Square", Square).ok());
  ASSERT_TRUE(registry.RegisterActivity("Release", Release).ok());
  ASSERT_TRUE(registry.RegisterWorkflow("CountTwice", CountTwice).ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("SleepAndMeasure", SleepAndMeasure).ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("CancelLaterTimer", CancelLaterTimer).ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("CancelTimerAtOnce", CancelTimerAtOnce).ok());
  ASSERT_TRUE(registry.RegisterWorkflow("AwaitApproval", AwaitApproval).ok());
  ASSERT_TRUE(registry.RegisterWorkflow("ReadThreeLater", ReadThreeLater).ok());
  ASSERT_TRUE(registry.RegisterWorkflow("SelectInOrder", SelectInOrder).ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("HoldThenCleanUp", HoldThenCleanUp).ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("ProducerConsumer", ProducerConsumer).ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("WaitsForGoBriefly", WaitsForGoBriefly).ok());
  ASSERT_TRUE(registry
                  .RegisterWorkflow("SignalsSubWorkflowBeforeStartingIt",
                                    SignalsSubWorkflowBeforeStartingIt)
                  .ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("SignalsAndWaits", SignalsAndWaits).ok());
  ASSERT_TRUE(registry.RegisterWorkflow("SignalsItself", SignalsItself).ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("SignalsAndMovesOn", SignalsAndMovesOn).ok());
}

template <class T, class W>
absl::StatusOr<T> RunToResult(ScenarioHarness& h, W workflow) {
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, workflow);
  if (!instance.ok()) return instance.status();
  return h.client().GetWorkflowResult<T>(instance->instance_id,
                                         kScenarioTimeout);
}

TEST_P(EndToEndScenarioTest, SideEffectsAreRecordedNotRerun) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  external_counter = 2;
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, CountTwice);
  ASSERT_TRUE(instance.ok()) << instance.status();
  // Once the first side effect is recorded, restart the worker: with the
  // cache on too, the second task then replays the first one.
  bool recorded = false;
  for (absl::Time deadline = absl::Now() + kScenarioTimeout;
       !recorded && absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(10))) {
    absl::StatusOr<std::vector<v1::HistoryEvent>> history =
        h.client().GetWorkflowHistory(instance->instance_id);
    recorded =
        history.ok() && std::any_of(history->begin(), history->end(),
                                    [](const v1::HistoryEvent& event) {
                                      return event.has_side_effect_result();
                                    });
  }
  ASSERT_TRUE(recorded) << "the first side effect was never recorded";
  h.RestartWorker();
  ASSERT_TRUE(h.client()
                  .SignalWorkflow(instance->instance_id, "go", std::string())
                  .ok());
  absl::StatusOr<int> result = h.client().GetWorkflowResult<int>(
      instance->instance_id, kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 3 + 4);
  EXPECT_EQ(external_counter, 4) << "a side effect ran again on replay";
}

TEST_P(EndToEndScenarioTest, TimerFiresAndWorkflowTimeAdvances) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<int64_t> elapsed_ms = RunToResult<int64_t>(h, SleepAndMeasure);
  ASSERT_TRUE(elapsed_ms.ok()) << elapsed_ms.status();
  EXPECT_GE(*elapsed_ms, 150);
}

TEST_P(EndToEndScenarioTest, CanceledTimerLeavesScheduledCanceledPair) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, CancelLaterTimer);
  ASSERT_TRUE(instance.ok());
  absl::StatusOr<std::string> result =
      h.client().GetWorkflowResult<std::string>(instance->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "CANCELLED");
  std::vector<std::string> kinds =
      EventKinds(*h.client().GetWorkflowHistory(instance->instance_id));
  // Two timers were scheduled (the 10 s one and the 50 ms sleep); one
  // canceled; only the short one fired.
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "TimerScheduled"), 2);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "TimerCanceled"), 1);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "TimerFired"), 1);
}

TEST_P(EndToEndScenarioTest, TimerCanceledInItsOwnStepLeavesNoTrace) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, CancelTimerAtOnce);
  ASSERT_TRUE(instance.ok());
  absl::StatusOr<std::string> result =
      h.client().GetWorkflowResult<std::string>(instance->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "CANCELLED");
  EXPECT_THAT(
      EventKinds(*h.client().GetWorkflowHistory(instance->instance_id)),
      ::testing::ElementsAre("WorkflowTaskStarted", "WorkflowExecutionStarted",
                             "WorkflowExecutionFinished"));
}

TEST_P(EndToEndScenarioTest, SignalFromClientIsReceived) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, AwaitApproval);
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE(
      h.client()
          .SignalWorkflow(instance->instance_id, "approval", std::string("ann"))
          .ok());
  absl::StatusOr<std::string> result =
      h.client().GetWorkflowResult<std::string>(instance->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "ann");
  // Finished and unknown instances cannot be signaled.
  EXPECT_TRUE(absl::IsNotFound(h.client().SignalWorkflow(
      instance->instance_id, "approval", std::string("late"))));
  EXPECT_TRUE(absl::IsNotFound(h.client().SignalWorkflow(
      "no-such-instance", "approval", std::string("x"))));
}

TEST_P(EndToEndScenarioTest, EarlySignalsArriveInSendOrder) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, ReadThreeLater);
  ASSERT_TRUE(instance.ok());
  for (const char* letter : {"a", "b", "c"}) {
    ASSERT_TRUE(h.client()
                    .SignalWorkflow(instance->instance_id, "letter",
                                    std::string(letter))
                    .ok());
  }
  absl::StatusOr<std::string> result =
      h.client().GetWorkflowResult<std::string>(instance->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "a,b,c");
}

TEST_P(EndToEndScenarioTest, SignalToSubWorkflowStartedLaterInTheTaskArrives) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<WorkflowInstance> parent = h.client().CreateWorkflowInstance(
      {.instance_id = "parent"}, SignalsSubWorkflowBeforeStartingIt);
  ASSERT_TRUE(parent.ok()) << parent.status();
  absl::StatusOr<std::string> result =
      h.client().GetWorkflowResult<std::string>("parent", kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "hi OK")
      << "the signal must reach the sub-workflow whatever the command order";
}

TEST_P(EndToEndScenarioTest, AwaitedSignalToMissingInstanceFailsTheSender) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  // Unknown, and finished.
  ASSERT_TRUE(
      h.client()
          .CreateWorkflowInstance({.instance_id = "finished"}, AwaitApproval)
          .ok());
  ASSERT_TRUE(
      h.client().SignalWorkflow("finished", "approval", std::string("x")).ok());
  ASSERT_TRUE(h.client()
                  .GetWorkflowResult<std::string>("finished", kScenarioTimeout)
                  .ok());
  for (const char* target : {"no-such-instance", "finished"}) {
    SCOPED_TRACE(target);
    absl::StatusOr<WorkflowInstance> sender = h.client().CreateWorkflowInstance(
        {}, SignalsAndWaits, std::string(target));
    ASSERT_TRUE(sender.ok()) << sender.status();
    absl::StatusOr<std::string> result =
        h.client().GetWorkflowResult<std::string>(sender->instance_id,
                                                  kScenarioTimeout);
    EXPECT_TRUE(IsInstanceNotFound(result.status())) << result.status();
    EXPECT_TRUE(IsNonRetryable(result.status())) << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(target));
  }
}

TEST_P(EndToEndScenarioTest, AwaitedSignalToLiveInstanceIsDelivered) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  ASSERT_TRUE(
      h.client()
          .CreateWorkflowInstance({.instance_id = "target"}, AwaitApproval)
          .ok());
  absl::StatusOr<WorkflowInstance> sender = h.client().CreateWorkflowInstance(
      {}, SignalsAndWaits, std::string("target"));
  ASSERT_TRUE(sender.ok()) << sender.status();
  absl::StatusOr<std::string> sent = h.client().GetWorkflowResult<std::string>(
      sender->instance_id, kScenarioTimeout);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, "delivered");
  absl::StatusOr<std::string> received =
      h.client().GetWorkflowResult<std::string>("target", kScenarioTimeout);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, "from a workflow");
  EXPECT_THAT(EventKinds(*h.client().GetWorkflowHistory(sender->instance_id)),
              Contains("SignalExternalDelivered"));

  // A workflow may signal its own instance.
  absl::StatusOr<WorkflowInstance> self =
      h.client().CreateWorkflowInstance({}, SignalsItself);
  ASSERT_TRUE(self.ok()) << self.status();
  absl::StatusOr<std::string> echoed =
      h.client().GetWorkflowResult<std::string>(self->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "me");
}

TEST_P(EndToEndScenarioTest, UnawaitedSignalStaysFireAndForget) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<WorkflowInstance> sender = h.client().CreateWorkflowInstance(
      {}, SignalsAndMovesOn, std::string("no-such-instance"));
  ASSERT_TRUE(sender.ok()) << sender.status();
  absl::StatusOr<std::string> result =
      h.client().GetWorkflowResult<std::string>(sender->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "moved on");
  // The answer came and went without failing anything.
  EXPECT_THAT(EventKinds(*h.client().GetWorkflowHistory(sender->instance_id)),
              Contains("SignalExternalFailed"));
}

TEST_P(EndToEndScenarioTest, SelectPicksInOrderDefaultsAndDrainsHundred) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<std::string> result =
      RunToResult<std::string>(h, SelectInOrder);
  ASSERT_TRUE(result.ok()) << result.status();
  // sum of i*i for i in 1..100 = 338350
  EXPECT_EQ(*result, "default 9 100:338350");
}

TEST_P(EndToEndScenarioTest, CanceledWorkflowStillCleansUp) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, HoldThenCleanUp);
  ASSERT_TRUE(instance.ok());
  // Cancel once the workflow sleeps on its 10 s timer.
  bool sleeping = false;
  for (absl::Time deadline = absl::Now() + kScenarioTimeout;
       !sleeping && absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(10))) {
    absl::StatusOr<std::vector<v1::HistoryEvent>> history =
        h.client().GetWorkflowHistory(instance->instance_id);
    sleeping = history.ok() && !history->empty() &&
               history->back().has_timer_scheduled();
  }
  ASSERT_TRUE(sleeping) << "the workflow never started its timer";
  ASSERT_TRUE(
      h.client().CancelWorkflowInstance(instance->instance_id, "test").ok());
  absl::StatusOr<std::string> result =
      h.client().GetWorkflowResult<std::string>(instance->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "CANCELLED ctx=canceled refused=CANCELLED lock released");
  EXPECT_TRUE(absl::IsNotFound(
      h.client().CancelWorkflowInstance(instance->instance_id, "again")));
  std::vector<std::string> kinds =
      EventKinds(*h.client().GetWorkflowHistory(instance->instance_id));
  EXPECT_THAT(kinds, Contains("WorkflowExecutionCanceled"));
  EXPECT_THAT(kinds, Contains("TimerCanceled"));
  EXPECT_THAT(kinds, Not(Contains("TimerFired")));
}

TEST_P(EndToEndScenarioTest, CoroutineSendsOverChannel) {
  ScenarioHarness h(GetParam(), RegisterPrimitives);
  absl::StatusOr<int> result = RunToResult<int>(h, ProducerConsumer);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 1 + 4 + 9 + 16 + 25);
}

}  // namespace
}  // namespace durable::testing
