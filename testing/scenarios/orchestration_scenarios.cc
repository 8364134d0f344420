// Conformance scenarios for orchestration: sub-workflows, continue-as-new,
// activity retries, heartbeats and timeouts, queues, typed errors,
// versioning, history limits and metadata. Each is a TEST_P of
// EndToEndScenarioTest, so every backend runs it with the executor cache on
// and off.
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/cancellation.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/options.h"
#include "durable/payload.h"
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

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Polls `done` every 10 ms until it holds or the scenario timeout passes.
bool WaitUntil(const std::function<bool()>& done) {
  for (absl::Time deadline = absl::Now() + kScenarioTimeout;
       absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(10))) {
    if (done()) return true;
  }
  return done();
}

// True once the instance's latest history holds an event of `kind`.
bool HistoryHas(Client& client, const std::string& instance_id,
                const std::string& kind) {
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      client.GetWorkflowHistory(instance_id);
  if (!history.ok()) return false;
  std::vector<std::string> kinds = EventKinds(*history);
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

// The instance's latest history, one event per line, for failure messages.
std::string Dump(Client& client, const std::string& instance_id) {
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      client.GetWorkflowHistory(instance_id);
  if (!history.ok()) return history.status().ToString();
  std::string out = absl::StrCat("history of ", instance_id, ":\n");
  for (const v1::HistoryEvent& event : *history) {
    absl::StrAppend(&out, event.ShortDebugString(), "\n");
  }
  return out;
}

int Count(const std::vector<v1::HistoryEvent>& history,
          const std::string& kind) {
  std::vector<std::string> kinds = EventKinds(history);
  return static_cast<int>(std::count(kinds.begin(), kinds.end(), kind));
}

// --- sub-workflows ---------------------------------------------------------

// Sleeps 10 s; returns value * 10 if canceled first, else value.
Task<int> SleepySubWorkflow(WorkflowContext& ctx, int value) {
  absl::Status slept = co_await ctx.Sleep(absl::Seconds(10));
  co_return IsCanceled(slept) ? value * 10 : value;
}

// Acceptance 1: two sleeping sub-workflows; canceling the parent cancels both.
Task<absl::StatusOr<int>> ParentOfSleepers(WorkflowContext& ctx,
                                           std::string prefix) {
  Future<int> a = ctx.CreateSubWorkflowInstance({.instance_id = prefix + "-a"},
                                                SleepySubWorkflow, 1);
  Future<int> b = ctx.CreateSubWorkflowInstance({.instance_id = prefix + "-b"},
                                                SleepySubWorkflow, 2);
  absl::StatusOr<int> ra = co_await a;
  if (!ra.ok()) co_return ra.status();
  absl::StatusOr<int> rb = co_await b;
  if (!rb.ok()) co_return rb.status();
  co_return *ra + *rb;
}

// A sub-workflow canceled in the activation that started it never runs.
Task<absl::StatusOr<bool>> CancelsSubWorkflowAtOnce(WorkflowContext& ctx) {
  auto [child_ctx, cancel] = WithCancel(ctx);
  Future<int> sub_workflow = child_ctx.CreateSubWorkflowInstance(
      {.instance_id = "never-runs"}, SleepySubWorkflow, 1);
  cancel();
  absl::StatusOr<int> result = co_await sub_workflow;
  co_return IsCanceled(result.status());
}

Task<int> Answer(WorkflowContext&) { co_return 42; }

Task<absl::StatusOr<std::string>> WaitsForGo(WorkflowContext& ctx) {
  co_return co_await ctx.SignalChannel<std::string>("go").Receive();
}

// Starts sub-workflows whose ids belong to an active and a finished instance.
// Options are named rather than written as `{...}` inside the co_await
// expression: GCC 12 miscompiles aggregate temporaries in a full-expression
// that contains co_await (see docs/orchestration.md).
Task<std::string> ReusesSubWorkflowIds(WorkflowContext& ctx) {
  const SubWorkflowOptions busy_options{.instance_id = "busy"};
  const SubWorkflowOptions done_options{.instance_id = "done"};
  absl::StatusOr<int> busy =
      co_await ctx.CreateSubWorkflowInstance(busy_options, Answer);
  absl::StatusOr<int> done =
      co_await ctx.CreateSubWorkflowInstance(done_options, Answer);
  co_return absl::StrCat(
      FailureType(busy.status()), ",",
      done.ok() ? std::to_string(*done) : done.status().ToString());
}

// --- continue-as-new ---------------------------------------------------------

// Acceptance 2: continues as new `n` times, summing the n's.
Task<absl::StatusOr<int>> Countdown(WorkflowContext& ctx, int n, int total,
                                    bool remove_previous) {
  if (n > 0) {
    co_return ctx.ContinueAsNew({.remove_previous_executions = remove_previous},
                                n - 1, total + n, remove_previous);
  }
  co_return total;
}

Task<absl::StatusOr<int>> ParentOfCountdown(WorkflowContext& ctx,
                                            bool remove_previous) {
  const SubWorkflowOptions options{.instance_id = "countdown"};
  co_return co_await ctx.CreateSubWorkflowInstance(options, Countdown, 2, 100,
                                                   remove_previous);
}

// --- retries, heartbeats, timeouts -------------------------------------------

// Acceptance 3: fails on attempts 0 and 1.
absl::StatusOr<int> Flaky(ActivityContext& ctx) {
  if (ctx.Attempt() < 2) {
    return FailureStatus("Flaky", absl::StrCat("attempt ", ctx.Attempt()));
  }
  return ctx.Attempt();
}
absl::StatusOr<int> AlwaysFatal(ActivityContext& ctx) {
  return FailureStatus("Fatal", absl::StrCat("attempt ", ctx.Attempt()));
}
absl::StatusOr<int> AlwaysDeclined(ActivityContext& ctx) {
  return NonRetryableFailureStatus("Declined",
                                   absl::StrCat("attempt ", ctx.Attempt()));
}

ActivityOptions FastRetries(int maximum_attempts) {
  return {.retry_policy = {.maximum_attempts = maximum_attempts,
                           .initial_interval = absl::Milliseconds(10),
                           .non_retryable_error_types = {"Fatal"}}};
}

Task<absl::StatusOr<int>> RetriesFlaky(WorkflowContext& ctx) {
  const ActivityOptions options = FastRetries(4);
  co_return co_await ctx.ExecuteActivity(options, Flaky);
}
Task<absl::StatusOr<int>> RetriesFatal(WorkflowContext& ctx) {
  const ActivityOptions options = FastRetries(4);
  co_return co_await ctx.ExecuteActivity(options, AlwaysFatal);
}
Task<absl::StatusOr<int>> RetriesDeclined(WorkflowContext& ctx) {
  const ActivityOptions options = FastRetries(4);
  co_return co_await ctx.ExecuteActivity(options, AlwaysDeclined);
}

// Acceptance 4: heartbeats every 10 ms for `ms` milliseconds.
absl::StatusOr<int> HeartbeatsFor(ActivityContext& ctx, int ms) {
  int beats = 0;
  for (absl::Time end = absl::Now() + absl::Milliseconds(ms); absl::Now() < end;
       absl::SleepFor(absl::Milliseconds(10))) {
    if (absl::Status s = ctx.Heartbeat(beats); !s.ok()) return s;
    ++beats;
  }
  return beats;
}

// Set when a Heartbeat() reported that the attempt had timed out.
std::atomic<bool> heartbeat_saw_timeout{false};

// Attempt 0 stops heartbeating (it sleeps past the heartbeat timeout);
// later attempts heartbeat and return their attempt number.
absl::StatusOr<int> StopsHeartbeating(ActivityContext& ctx, bool always) {
  if (ctx.Attempt() == 0 || always) {
    absl::SleepFor(absl::Milliseconds(600));
    absl::Status status = ctx.Heartbeat();
    if (absl::IsNotFound(status) && ctx.TimedOut()) {
      heartbeat_saw_timeout = true;
    }
    if (!status.ok()) return status;
    return -1;
  }
  if (absl::Status s = ctx.Heartbeat(); !s.ok()) return s;
  return ctx.Attempt();
}

ActivityOptions HeartbeatOptions(int maximum_attempts) {
  return {.retry_policy = {.maximum_attempts = maximum_attempts,
                           .initial_interval = absl::Milliseconds(10)},
          .heartbeat_timeout = absl::Milliseconds(200)};
}

Task<absl::StatusOr<int>> KeepsHeartbeating(WorkflowContext& ctx) {
  const ActivityOptions options = HeartbeatOptions(1);
  co_return co_await ctx.ExecuteActivity(options, HeartbeatsFor, 2000);
}

// Returns the attempt that succeeded, or "<type>" of the final failure and
// whether the workflow classified it as a timeout.
Task<absl::StatusOr<std::string>> OutlivesHeartbeat(WorkflowContext& ctx,
                                                    bool always) {
  const ActivityOptions options = HeartbeatOptions(2);
  absl::StatusOr<int> r =
      co_await ctx.ExecuteActivity(options, StopsHeartbeating, always);
  if (r.ok()) co_return absl::StrCat("attempt ", *r);
  co_return absl::StrCat(FailureType(r.status()),
                         IsTimeout(r.status()) ? " (timeout)" : "",
                         IsNonRetryable(r.status()) ? " (non-retryable)" : "");
}

absl::StatusOr<int> SlowActivity(ActivityContext&, int ms) {
  absl::SleepFor(absl::Milliseconds(ms));
  return ms;
}

// Start-to-close and schedule-to-close timeouts reach the workflow typed.
Task<absl::StatusOr<std::string>> HitsTimeouts(WorkflowContext& ctx) {
  const ActivityOptions short_attempts{.start_to_close_timeout =
                                           absl::Milliseconds(100)};
  absl::StatusOr<int> start_to_close =
      co_await ctx.ExecuteActivity(short_attempts, SlowActivity, 400);
  const ActivityOptions bounded{
      .retry_policy = {.maximum_attempts = 10,
                       .initial_interval = absl::Milliseconds(10)},
      .start_to_close_timeout = absl::Milliseconds(100),
      .schedule_to_close_timeout = absl::Milliseconds(250)};
  absl::StatusOr<int> schedule_to_close =
      co_await ctx.ExecuteActivity(bounded, SlowActivity, 400);
  co_return absl::StrCat(FailureType(start_to_close.status()), "/",
                         IsTimeout(start_to_close.status()),
                         IsNonRetryable(start_to_close.status()), " ",
                         FailureType(schedule_to_close.status()), "/",
                         IsTimeout(schedule_to_close.status()),
                         IsNonRetryable(schedule_to_close.status()));
}

// --- queues ------------------------------------------------------------------

std::atomic<int> unpolled_runs{0};

Task<int> CountsRuns(WorkflowContext&) {
  ++unpolled_runs;
  co_return 1;
}

std::string WhereAmI(ActivityContext& ctx, std::string who) {
  return absl::StrCat(who, "@", ctx.Queue());
}

// Runs an activity and a sub-workflow (both registered only with the "special"
// worker) on the "special" queue.
Task<absl::StatusOr<std::string>> UsesSpecialQueue(WorkflowContext& ctx) {
  const ActivityOptions activity_options{.queue = "special"};
  const std::string who = "a";
  absl::StatusOr<std::string> activity =
      co_await ctx.ExecuteActivity<std::string>(activity_options, "WhereAmI",
                                                who);
  if (!activity.ok()) co_return activity.status();
  const SubWorkflowOptions sub_workflow_options{.queue = "special"};
  absl::StatusOr<std::string> sub_workflow =
      co_await ctx.CreateSubWorkflowInstance<std::string>(sub_workflow_options,
                                                          "SpecialSubWorkflow");
  if (!sub_workflow.ok()) co_return sub_workflow.status();
  co_return absl::StrCat(*activity, " ", *sub_workflow);
}

Task<std::string> SpecialSubWorkflow(WorkflowContext& ctx) {
  co_return absl::StrCat("sub@", ctx.Queue());
}

// --- typed errors
// --------------------------------------------------------------

absl::Status Charge(ActivityContext&, int cents) {
  return FailureStatus("PaymentDeclined",
                       absl::StrCat("card expired (", cents, " cents)"));
}
int Explodes(ActivityContext&) { throw std::runtime_error("kaboom"); }

Task<absl::Status> FailingSubWorkflow(WorkflowContext&) {
  co_return FailureStatus("SubWorkflowError", "the sub-workflow gave up");
}

// Acceptance 6: the activity's custom error reaches the workflow typed; the
// workflow fails with its own error caused by it.
Task<absl::StatusOr<std::string>> OrderWorkflow(WorkflowContext& ctx) {
  absl::Status charged = co_await ctx.ExecuteActivity(Charge, 250);
  absl::Status exploded = (co_await ctx.ExecuteActivity(Explodes)).status();
  const SubWorkflowOptions sub_workflow_options;
  absl::Status sub_workflow = co_await ctx.CreateSubWorkflowInstance(
      sub_workflow_options, FailingSubWorkflow);
  if (FailureType(charged) != "PaymentDeclined" ||
      !IsApplicationError(charged) || IsTimeout(charged) ||
      IsCanceled(charged) || !IsPanic(exploded) ||
      FailureType(sub_workflow) != "SubWorkflowError") {
    co_return absl::StrCat("unexpected: ", charged.ToString(), " | ",
                           exploded.ToString(), " | ", sub_workflow.ToString());
  }
  co_return FailureStatus(
      "OrderFailed",
      absl::StrCat("could not charge: ", FailureFromStatus(charged)->message(),
                   "; ", FailureFromStatus(exploded)->type(), ": ",
                   FailureFromStatus(exploded)->message(), "; ",
                   FailureFromStatus(sub_workflow)->message()),
      JsonPayload(R"({"order":7})"), charged);
}

// --- limits and metadata
// -------------------------------------------------------

int Add(ActivityContext&, int a, int b) { return a + b; }

// Acceptance 8: never ends on its own.
Task<absl::StatusOr<int>> Runaway(WorkflowContext& ctx) {
  int total = 0;
  while (true) {
    absl::StatusOr<int> r = co_await ctx.ExecuteActivity(Add, total, 1);
    if (!r.ok()) co_return r.status();
    total = *r;
  }
}

std::string TraceOf(ActivityContext& ctx) {
  auto it = ctx.Metadata().find("trace_id");
  return it == ctx.Metadata().end() ? "none" : it->second;
}

Task<std::string> SubWorkflowTrace(WorkflowContext& ctx) {
  auto trace = ctx.Metadata().find("trace_id");
  auto extra = ctx.Metadata().find("extra");
  co_return absl::StrCat(
      trace == ctx.Metadata().end() ? "none" : trace->second, "+",
      extra == ctx.Metadata().end() ? "none" : extra->second);
}

Task<absl::StatusOr<std::string>> PropagatesMetadata(WorkflowContext& ctx) {
  absl::StatusOr<std::string> activity = co_await ctx.ExecuteActivity(TraceOf);
  if (!activity.ok()) co_return activity.status();
  SubWorkflowOptions options;
  options.metadata["extra"] = "x";
  absl::StatusOr<std::string> sub_workflow =
      co_await ctx.CreateSubWorkflowInstance(options, SubWorkflowTrace);
  if (!sub_workflow.ok()) co_return sub_workflow.status();
  co_return absl::StrCat(ctx.Metadata().at("trace_id"), " ", *activity, " ",
                         *sub_workflow);
}

// Fails in the first execution of its instance, succeeds in later ones. The
// decision depends only on the run id, so replays of a run agree.
absl::Mutex sub_workflow_runs_mu;
std::map<std::string, std::vector<std::string>>* sub_workflow_runs =
    new std::map<std::string, std::vector<std::string>>();

Task<absl::StatusOr<int>> FailsFirstExecution(WorkflowContext& ctx) {
  int execution = 0;
  {
    absl::MutexLock lock(&sub_workflow_runs_mu);
    std::vector<std::string>& runs = (*sub_workflow_runs)[ctx.InstanceId()];
    auto it = std::find(runs.begin(), runs.end(), ctx.ExecutionId());
    if (it == runs.end()) it = runs.insert(runs.end(), ctx.ExecutionId());
    execution = static_cast<int>(it - runs.begin()) + 1;
  }
  if (execution == 1) co_return FailureStatus("Flaky", "first execution fails");
  co_return execution;
}

Task<absl::StatusOr<int>> RetriesSubWorkflow(WorkflowContext& ctx) {
  SubWorkflowOptions options;
  options.retry_policy.maximum_attempts = 3;
  options.retry_policy.initial_interval = absl::Milliseconds(50);
  Future<int> sub_workflow =
      ctx.CreateSubWorkflowInstance(options, FailsFirstExecution);
  co_return co_await sub_workflow;
}

// --- sub-workflows the engine fails
// ------------------------------------------------

// Starts sub-workflow `name` as instance `sub_workflow_id` and reports how it
// ended: "ok <value>", or the type of its failure.
Task<std::string> ReportsSubWorkflowOutcome(WorkflowContext& ctx,
                                            std::string name,
                                            std::string sub_workflow_id) {
  const SubWorkflowOptions options{.instance_id = sub_workflow_id};
  absl::StatusOr<int> sub_workflow =
      co_await ctx.CreateSubWorkflowInstance<int>(options, name);
  co_return sub_workflow.ok() ? absl::StrCat("ok ", *sub_workflow)
                              : FailureType(sub_workflow.status());
}

// Waits for a "go" signal, then returns 1.
Task<absl::StatusOr<int>> WaitsThenAnswers(WorkflowContext& ctx) {
  absl::StatusOr<std::string> go =
      co_await ctx.SignalChannel<std::string>("go").Receive();
  if (!go.ok()) co_return go.status();
  co_return 1;
}

// Version 1 of a sub-workflow whose code changes while it runs: it schedules an
// activity first. Version 2 (registered by the scenario's second worker)
// starts a timer instead.
Task<absl::StatusOr<int>> DriftingSubWorkflowV1(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity(Add, 1, 2);
}
Task<absl::StatusOr<int>> DriftingSubWorkflowV2(WorkflowContext& ctx) {
  if (absl::Status slept = co_await ctx.Sleep(absl::Milliseconds(1));
      !slept.ok()) {
    co_return slept;
  }
  co_return co_await ctx.ExecuteActivity(Add, 1, 2);
}

// --- workers with different registries on one queue -------------------------

// WorkflowA runs on one worker and calls ActivityOfB, which only the other
// worker runs; WorkflowB the other way round.
std::string ActivityOfA(ActivityContext&) { return "a"; }
std::string ActivityOfB(ActivityContext&) { return "b"; }
Task<absl::StatusOr<std::string>> WorkflowA(WorkflowContext& ctx) {
  absl::StatusOr<std::string> b =
      co_await ctx.ExecuteActivity<std::string>("ActivityOfB");
  if (!b.ok()) co_return b.status();
  co_return "A" + *b;
}
Task<absl::StatusOr<std::string>> WorkflowB(WorkflowContext& ctx) {
  absl::StatusOr<std::string> a =
      co_await ctx.ExecuteActivity<std::string>("ActivityOfA");
  if (!a.ok()) co_return a.status();
  co_return "B" + *a;
}
// Calls an activity no worker runs, under a policy that would retry it.
Task<absl::StatusOr<std::string>> CallsNobodysActivity(WorkflowContext& ctx) {
  const ActivityOptions options{
      .retry_policy = {.maximum_attempts = 5,
                       .initial_interval = absl::Milliseconds(10)}};
  co_return co_await ctx.ExecuteActivity<std::string>(options,
                                                      "NobodysActivity");
}

// The names `worker` registered, as "workflows|activities".
std::string NamesOf(const v1::WorkerInfo& worker) {
  const v1::RegisteredNames& names = worker.registered_names();
  return absl::StrCat(absl::StrJoin(names.workflow_names(), ","), "|",
                      absl::StrJoin(names.activity_names(), ","));
}

void RegisterOrchestration(Registry& r) {
  ASSERT_TRUE(
      r.RegisterWorkflow("FailsFirstExecution", FailsFirstExecution).ok());
  ASSERT_TRUE(
      r.RegisterWorkflow("RetriesSubWorkflow", RetriesSubWorkflow).ok());
  ASSERT_TRUE(r.RegisterWorkflow("SleepySubWorkflow", SleepySubWorkflow).ok());
  ASSERT_TRUE(r.RegisterWorkflow("ParentOfSleepers", ParentOfSleepers).ok());
  ASSERT_TRUE(
      r.RegisterWorkflow("CancelsSubWorkflowAtOnce", CancelsSubWorkflowAtOnce)
          .ok());
  ASSERT_TRUE(r.RegisterWorkflow("Answer", Answer).ok());
  ASSERT_TRUE(r.RegisterWorkflow("WaitsForGo", WaitsForGo).ok());
  ASSERT_TRUE(
      r.RegisterWorkflow("ReusesSubWorkflowIds", ReusesSubWorkflowIds).ok());
  ASSERT_TRUE(r.RegisterWorkflow("Countdown", Countdown).ok());
  ASSERT_TRUE(r.RegisterWorkflow("ParentOfCountdown", ParentOfCountdown).ok());
  ASSERT_TRUE(r.RegisterActivity("Flaky", Flaky).ok());
  ASSERT_TRUE(r.RegisterActivity("AlwaysFatal", AlwaysFatal).ok());
  ASSERT_TRUE(r.RegisterActivity("AlwaysDeclined", AlwaysDeclined).ok());
  ASSERT_TRUE(r.RegisterWorkflow("RetriesFlaky", RetriesFlaky).ok());
  ASSERT_TRUE(r.RegisterWorkflow("RetriesFatal", RetriesFatal).ok());
  ASSERT_TRUE(r.RegisterWorkflow("RetriesDeclined", RetriesDeclined).ok());
  ASSERT_TRUE(r.RegisterActivity("HeartbeatsFor", HeartbeatsFor).ok());
  ASSERT_TRUE(r.RegisterActivity("StopsHeartbeating", StopsHeartbeating).ok());
  ASSERT_TRUE(r.RegisterWorkflow("KeepsHeartbeating", KeepsHeartbeating).ok());
  ASSERT_TRUE(r.RegisterWorkflow("OutlivesHeartbeat", OutlivesHeartbeat).ok());
  ASSERT_TRUE(r.RegisterActivity("SlowActivity", SlowActivity).ok());
  ASSERT_TRUE(r.RegisterWorkflow("HitsTimeouts", HitsTimeouts).ok());
  ASSERT_TRUE(r.RegisterWorkflow("CountsRuns", CountsRuns).ok());
  ASSERT_TRUE(r.RegisterWorkflow("UsesSpecialQueue", UsesSpecialQueue).ok());
  ASSERT_TRUE(r.RegisterActivity("Charge", Charge).ok());
  ASSERT_TRUE(r.RegisterActivity("Explodes", Explodes).ok());
  ASSERT_TRUE(
      r.RegisterWorkflow("FailingSubWorkflow", FailingSubWorkflow).ok());
  ASSERT_TRUE(r.RegisterWorkflow("OrderWorkflow", OrderWorkflow).ok());
  ASSERT_TRUE(r.RegisterActivity("Add", Add).ok());
  ASSERT_TRUE(r.RegisterWorkflow("Runaway", Runaway).ok());
  ASSERT_TRUE(
      r.RegisterWorkflow("ReportsSubWorkflowOutcome", ReportsSubWorkflowOutcome)
          .ok());
  ASSERT_TRUE(r.RegisterWorkflow("WaitsThenAnswers", WaitsThenAnswers).ok());
  ASSERT_TRUE(
      r.RegisterWorkflow("DriftingSubWorkflow", DriftingSubWorkflowV1).ok());
  ASSERT_TRUE(r.RegisterActivity("TraceOf", TraceOf).ok());
  ASSERT_TRUE(r.RegisterWorkflow("SubWorkflowTrace", SubWorkflowTrace).ok());
  ASSERT_TRUE(
      r.RegisterWorkflow("PropagatesMetadata", PropagatesMetadata).ok());
}

class Harness : public ScenarioHarness {
 public:
  explicit Harness(const ScenarioParam& param,
                   const std::function<void(WorkerOptions&)>& configure = {})
      : ScenarioHarness(param, RegisterOrchestration, configure) {}

  template <class T, class... A>
  absl::StatusOr<T> Run(const WorkflowInstanceOptions& options,
                        std::string_view workflow, A&&... args) {
    absl::StatusOr<WorkflowInstance> instance = client().CreateWorkflowInstance(
        options, workflow, std::forward<A>(args)...);
    if (!instance.ok()) return instance.status();
    return client().GetWorkflowResult<T>(instance->instance_id,
                                         kScenarioTimeout);
  }
};

// --- 1. sub-workflows and cancellation
// -----------------------------------------

TEST_P(EndToEndScenarioTest, OrchestrationCancelingParentCancelsSubWorkflows) {
  Harness h(GetParam());
  WorkflowInstanceOptions options{.instance_id = "parent"};
  ASSERT_TRUE(h.client()
                  .CreateWorkflowInstance(options, ParentOfSleepers,
                                          std::string("sleeper"))
                  .ok());
  // Both sub-workflows are asleep (their 10 s timers are scheduled).
  ASSERT_TRUE(WaitUntil([&] {
    return HistoryHas(h.client(), "parent", "SubWorkflowScheduled") &&
           HistoryHas(h.client(), "sleeper-a", "TimerScheduled") &&
           HistoryHas(h.client(), "sleeper-b", "TimerScheduled");
  }));
  const absl::Time canceled_at = absl::Now();
  ASSERT_TRUE(h.client().CancelWorkflowInstance("parent", "enough").ok());

  absl::StatusOr<int> sum =
      h.client().GetWorkflowResult<int>("parent", kScenarioTimeout);
  ASSERT_TRUE(sum.ok()) << sum.status() << Dump(h.client(), "parent")
                        << Dump(h.client(), "sleeper-a")
                        << Dump(h.client(), "sleeper-b");
  EXPECT_EQ(*sum, 30) << "each sub-workflow must observe cancellation";
  EXPECT_LT(absl::Now() - canceled_at, absl::Seconds(9))
      << "the sub-workflows must not sleep their 10 s";
  EXPECT_EQ(*h.client().GetWorkflowResult<int>("sleeper-a", kScenarioTimeout),
            10);
  EXPECT_EQ(*h.client().GetWorkflowResult<int>("sleeper-b", kScenarioTimeout),
            20);

  std::vector<v1::HistoryEvent> history =
      *h.client().GetWorkflowHistory("parent");
  EXPECT_EQ(Count(history, "SubWorkflowScheduled"), 2);
  EXPECT_EQ(Count(history, "SubWorkflowCancellationRequested"), 2);
  EXPECT_EQ(Count(history, "SubWorkflowCompleted"), 2);
  std::vector<v1::HistoryEvent> sub_workflow =
      *h.client().GetWorkflowHistory("sleeper-a");
  EXPECT_EQ(sub_workflow[1].workflow_execution_started().parent().instance_id(),
            "parent");
}

TEST_P(EndToEndScenarioTest,
       OrchestrationSubWorkflowCanceledBeforeStartNeverRuns) {
  Harness h(GetParam());
  absl::StatusOr<bool> canceled =
      h.Run<bool>({.instance_id = "parent"}, "CancelsSubWorkflowAtOnce");
  ASSERT_TRUE(canceled.ok()) << canceled.status();
  EXPECT_TRUE(*canceled);
  EXPECT_EQ(h.client().GetWorkflowInstanceState("never-runs").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(EventKinds(*h.client().GetWorkflowHistory("parent")),
              Not(Contains("SubWorkflowScheduled")));
}

TEST_P(EndToEndScenarioTest, OrchestrationSubWorkflowIdOfActiveInstanceFails) {
  Harness h(GetParam());
  ASSERT_TRUE(h.client()
                  .CreateWorkflowInstance({.instance_id = "busy"}, WaitsForGo)
                  .ok());
  ASSERT_TRUE(h.Run<int>({.instance_id = "done"}, "Answer").ok());
  absl::StatusOr<std::string> result =
      h.Run<std::string>({.instance_id = "reuser"}, "ReusesSubWorkflowIds");
  ASSERT_TRUE(result.ok()) << result.status() << Dump(h.client(), "reuser");
  EXPECT_EQ(*result, "InstanceAlreadyExists,42");
  // The busy instance is untouched and still finishes normally.
  ASSERT_TRUE(h.client().SignalWorkflow("busy", "go", std::string("ok")).ok());
  EXPECT_EQ(
      *h.client().GetWorkflowResult<std::string>("busy", kScenarioTimeout),
      "ok");
}

// --- 2. continue-as-new
// ----------------------------------------------------------

TEST_P(EndToEndScenarioTest, OrchestrationSubWorkflowContinuesAsNewTwice) {
  for (bool remove_previous : {false, true}) {
    SCOPED_TRACE(remove_previous ? "removing previous executions"
                                 : "keeping previous executions");
    Harness h(GetParam());
    absl::StatusOr<WorkflowInstance> parent = h.client().CreateWorkflowInstance(
        {}, ParentOfCountdown, remove_previous);
    ASSERT_TRUE(parent.ok()) << parent.status();
    absl::StatusOr<int> result = h.client().GetWorkflowResult<int>(
        parent->instance_id, kScenarioTimeout);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, 103);  // 100 + 2 + 1

    // The parent recorded the sub-workflow's first execution; the
    // sub-workflow's latest execution continues from another one and finished
    // with the result.
    std::vector<v1::HistoryEvent> parent_history =
        *h.client().GetWorkflowHistory(parent->instance_id);
    std::string first_execution;
    for (const v1::HistoryEvent& event : parent_history) {
      if (event.has_sub_workflow_scheduled()) {
        first_execution = event.sub_workflow_scheduled().execution_id();
      }
    }
    ASSERT_FALSE(first_execution.empty())
        << "SubWorkflowScheduled names the sub-workflow's first execution";
    absl::StatusOr<v1::WorkflowInstanceState> state =
        h.client().GetWorkflowInstanceState("countdown");
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
    EXPECT_NE(state->execution_id(), first_execution);
    std::vector<v1::HistoryEvent> last =
        *h.client().GetWorkflowHistory("countdown");
    ASSERT_GE(last.size(), 3u);
    const v1::WorkflowExecutionStarted& started =
        last[1].workflow_execution_started();
    EXPECT_FALSE(started.continued_from_execution_id().empty());
    EXPECT_NE(started.continued_from_execution_id(), first_execution)
        << "the last execution continues the second, not the first";
    EXPECT_EQ(started.parent().instance_id(), parent->instance_id);
    EXPECT_THAT(EventKinds(last),
                ElementsAre("WorkflowTaskStarted", "WorkflowExecutionStarted",
                            "WorkflowExecutionFinished"));

    // Earlier executions: kept (ended in CONTINUED_AS_NEW) or removed.
    absl::StatusOr<std::vector<v1::WorkflowInstanceState>> executions =
        h.client().ListWorkflowExecutions("countdown");
    ASSERT_TRUE(executions.ok()) << executions.status();
    if (remove_previous) {
      ASSERT_EQ(executions->size(), 1u);
    } else {
      ASSERT_EQ(executions->size(), 3u);
      EXPECT_EQ((*executions)[0].state(), v1::WORKFLOW_STATE_CONTINUED_AS_NEW);
      EXPECT_EQ((*executions)[1].state(), v1::WORKFLOW_STATE_CONTINUED_AS_NEW);
      // The id the parent recorded is the one the sub-workflow ran under, and
      // the last execution continues the second one.
      EXPECT_EQ((*executions)[0].execution_id(), first_execution);
      EXPECT_EQ(started.continued_from_execution_id(),
                (*executions)[1].execution_id());
    }
    EXPECT_EQ(executions->back().execution_id(), state->execution_id());
    EXPECT_EQ(executions->back().state(), v1::WORKFLOW_STATE_FINISHED);
  }
}

TEST_P(EndToEndScenarioTest, OrchestrationClientGetsResultAfterContinueAsNew) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance = h.client().CreateWorkflowInstance(
      {.instance_id = "top"}, Countdown, 3, 0, false);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<int> result =
      h.client().GetWorkflowResult<int>("top", kScenarioTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 6);
  absl::StatusOr<v1::WorkflowInstanceState> state =
      h.client().GetWorkflowInstanceState("top");
  ASSERT_TRUE(state.ok());
  EXPECT_NE(state->execution_id(), instance->execution_id);
}

// --- 3. retries
// ------------------------------------------------------------------

TEST_P(EndToEndScenarioTest, OrchestrationActivityRetriesUntilItSucceeds) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, RetriesFlaky);
  ASSERT_TRUE(instance.ok());
  absl::StatusOr<int> attempt = h.client().GetWorkflowResult<int>(
      instance->instance_id, kScenarioTimeout);
  ASSERT_TRUE(attempt.ok()) << attempt.status();
  EXPECT_EQ(*attempt, 2);
  std::vector<v1::HistoryEvent> history =
      *h.client().GetWorkflowHistory(instance->instance_id);
  EXPECT_EQ(Count(history, "ActivityScheduled"), 1);
  EXPECT_EQ(Count(history, "ActivityCompleted"), 1);
  EXPECT_EQ(Count(history, "ActivityFailed"), 0);
  // Retries cost no workflow task: one to schedule, one for the result.
  EXPECT_EQ(Count(history, "WorkflowTaskStarted"), 2);
  EXPECT_EQ(history[2].activity_scheduled().retry_policy().maximum_attempts(),
            4);
}

TEST_P(EndToEndScenarioTest, OrchestrationFailedSubWorkflowIsRetriedPerPolicy) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, RetriesSubWorkflow);
  ASSERT_TRUE(instance.ok());
  absl::StatusOr<int> execution = h.client().GetWorkflowResult<int>(
      instance->instance_id, kScenarioTimeout);
  ASSERT_TRUE(execution.ok()) << execution.status();
  EXPECT_EQ(*execution, 2) << "the sub-workflow's second execution returned";
  std::vector<v1::HistoryEvent> history =
      *h.client().GetWorkflowHistory(instance->instance_id);
  EXPECT_EQ(Count(history, "SubWorkflowScheduled"), 1);
  EXPECT_EQ(Count(history, "SubWorkflowFailed"), 1);
  EXPECT_EQ(Count(history, "SubWorkflowCompleted"), 1);
}

TEST_P(EndToEndScenarioTest, OrchestrationNonRetryableErrorFailsAtOnce) {
  Harness h(GetParam());
  for (const char* workflow : {"RetriesFatal", "RetriesDeclined"}) {
    SCOPED_TRACE(workflow);
    absl::StatusOr<WorkflowInstance> instance =
        h.client().CreateWorkflowInstance({}, workflow);
    ASSERT_TRUE(instance.ok());
    absl::StatusOr<int> result = h.client().GetWorkflowResult<int>(
        instance->instance_id, kScenarioTimeout);
    ASSERT_FALSE(result.ok());
    EXPECT_THAT(result.status().message(), HasSubstr("attempt 0"));
    std::vector<v1::HistoryEvent> history =
        *h.client().GetWorkflowHistory(instance->instance_id);
    ASSERT_EQ(Count(history, "ActivityFailed"), 1);
    for (const v1::HistoryEvent& event : history) {
      if (event.has_activity_failed()) {
        EXPECT_EQ(event.activity_failed().attempt(), 0);
      }
    }
  }
}

// --- 4. heartbeats and timeouts
// ------------------------------------------------

TEST_P(EndToEndScenarioTest, OrchestrationHeartbeatingActivityCompletes) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, KeepsHeartbeating);
  ASSERT_TRUE(instance.ok());
  absl::StatusOr<int> beats = h.client().GetWorkflowResult<int>(
      instance->instance_id, kScenarioTimeout);
  ASSERT_TRUE(beats.ok()) << beats.status();
  EXPECT_GE(*beats, 20);  // ~2 s at one beat per >= 10 ms
}

TEST_P(EndToEndScenarioTest, OrchestrationMissedHeartbeatTimesOutAndRetries) {
  Harness h(GetParam());
  heartbeat_saw_timeout = false;
  // Attempt 0 misses its heartbeat; attempt 1 succeeds.
  absl::StatusOr<std::string> retried =
      h.Run<std::string>({}, "OutlivesHeartbeat", false);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(*retried, "attempt 1");
  EXPECT_TRUE(WaitUntil([] { return heartbeat_saw_timeout.load(); }))
      << "the timed-out attempt's Heartbeat() must report NotFound";
  // Every attempt misses it: the workflow sees a heartbeat timeout.
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, OutlivesHeartbeat, true);
  ASSERT_TRUE(instance.ok());
  absl::StatusOr<std::string> failed =
      h.client().GetWorkflowResult<std::string>(instance->instance_id,
                                                kScenarioTimeout);
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(*failed, "HeartbeatTimeout (timeout)");
  std::vector<v1::HistoryEvent> history =
      *h.client().GetWorkflowHistory(instance->instance_id);
  for (const v1::HistoryEvent& event : history) {
    if (event.has_activity_failed()) {
      EXPECT_EQ(event.activity_failed().attempt(), 1) << "it was retried";
      EXPECT_THAT(event.activity_failed().failure().message(),
                  HasSubstr("StopsHeartbeating"));
    }
  }
  EXPECT_EQ(Count(history, "ActivityFailed"), 1);
}

TEST_P(EndToEndScenarioTest, OrchestrationStartAndScheduleToCloseTimeouts) {
  Harness h(GetParam());
  absl::StatusOr<std::string> result = h.Run<std::string>({}, "HitsTimeouts");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "StartToCloseTimeout/10 ScheduleToCloseTimeout/11");
}

// --- 5. queues
// ---------------------------------------------------------------------

TEST_P(EndToEndScenarioTest, OrchestrationUnpolledQueueStaysPending) {
  Harness h(GetParam());
  unpolled_runs = 0;
  absl::StatusOr<WorkflowInstance> stranded = h.client().CreateWorkflowInstance(
      {.queue = "nobody-polls-this"}, CountsRuns);
  ASSERT_TRUE(stranded.ok());
  absl::StatusOr<int> normal = h.Run<int>({}, "CountsRuns");
  ASSERT_TRUE(normal.ok()) << normal.status();
  EXPECT_EQ(*normal, 1);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(unpolled_runs.load(), 1) << "only the default-queue instance ran";
  absl::StatusOr<v1::WorkflowInstanceState> state =
      h.client().GetWorkflowInstanceState(stranded->instance_id);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_EQ(state->queue(), "nobody-polls-this");
  EXPECT_THAT(EventKinds(*h.client().GetWorkflowHistory(stranded->instance_id)),
              Not(Contains("WorkflowTaskStarted")));
}

TEST_P(EndToEndScenarioTest,
       OrchestrationActivityAndSubWorkflowOnAnotherQueue) {
  Harness h(GetParam());
  // A second worker polls only "special" and runs only what it registered.
  Registry special;
  ASSERT_TRUE(special.RegisterActivity("WhereAmI", WhereAmI).ok());
  ASSERT_TRUE(
      special.RegisterWorkflow("SpecialSubWorkflow", SpecialSubWorkflow).ok());
  Worker special_worker(
      h.backend(), special,
      {.queues = {"special"}, .max_cached_workflows = std::get<1>(GetParam())});
  ASSERT_TRUE(special_worker.Start().ok());
  absl::StatusOr<std::string> result =
      h.Run<std::string>({}, "UsesSpecialQueue");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "a@special sub@special");
  ASSERT_TRUE(special_worker.Stop().ok());
}

// --- 6. typed errors
// -------------------------------------------------------------

TEST_P(EndToEndScenarioTest, OrchestrationCustomErrorReachesWorkflowAndClient) {
  Harness h(GetParam());
  absl::StatusOr<std::string> result = h.Run<std::string>({}, "OrderWorkflow");
  ASSERT_FALSE(result.ok()) << *result;
  std::optional<v1::Failure> failure = FailureFromStatus(result.status());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->type(), "OrderFailed");
  EXPECT_THAT(failure->message(),
              HasSubstr("could not charge: card expired (250 cents)"));
  EXPECT_THAT(failure->message(), HasSubstr("panic: kaboom"));
  EXPECT_THAT(failure->message(), HasSubstr("the sub-workflow gave up"));
  EXPECT_EQ(failure->details().data(), R"({"order":7})");
  EXPECT_EQ(failure->cause().type(), "PaymentDeclined");
  EXPECT_EQ(failure->cause().message(), "card expired (250 cents)");
  EXPECT_TRUE(IsApplicationError(result.status()));
}

// --- 7. versioning across a worker restart
// ---------------------------------------

// Version 1 adds 1 + 2 and waits for "go"; version 2 first adds an activity
// behind Patched("extra-activity").
Task<absl::StatusOr<int>> VersionedV1(WorkflowContext& ctx) {
  absl::StatusOr<int> a = co_await ctx.ExecuteActivity(Add, 1, 2);
  if (!a.ok()) co_return a.status();
  (void)co_await ctx.SignalChannel<std::string>("go").Receive();
  co_return *a;
}
Task<absl::StatusOr<int>> VersionedV2(WorkflowContext& ctx) {
  int extra = 0;
  if (ctx.Patched("extra-activity")) {
    absl::StatusOr<int> e = co_await ctx.ExecuteActivity(Add, 100, 0);
    if (!e.ok()) co_return e.status();
    extra = *e;
  }
  absl::StatusOr<int> a = co_await ctx.ExecuteActivity(Add, 1, 2);
  if (!a.ok()) co_return a.status();
  (void)co_await ctx.SignalChannel<std::string>("go").Receive();
  co_return *a + extra;
}

TEST_P(EndToEndScenarioTest, OrchestrationPatchedKeepsOldHistoriesReplaying) {
  absl::StatusOr<Backend> backend = Backend::Open(std::get<0>(GetParam())());
  ASSERT_TRUE(backend.ok()) << backend.status();
  Registry v1_registry, v2_registry;
  ASSERT_TRUE(v1_registry.RegisterWorkflow("Versioned", VersionedV1).ok());
  ASSERT_TRUE(v2_registry.RegisterWorkflow("Versioned", VersionedV2).ok());
  ASSERT_TRUE(v1_registry.RegisterActivity("Add", Add).ok());
  ASSERT_TRUE(v2_registry.RegisterActivity("Add", Add).ok());
  Client client(*backend);
  WorkerOptions options{.max_cached_workflows = std::get<1>(GetParam())};

  // Version 1 runs the instance up to its signal wait.
  {
    Worker v1_worker(*backend, v1_registry, options);
    ASSERT_TRUE(v1_worker.Start().ok());
    ASSERT_TRUE(
        client.CreateWorkflowInstance({.instance_id = "old"}, "Versioned")
            .ok());
    ASSERT_TRUE(WaitUntil([&] {
      absl::StatusOr<std::vector<v1::HistoryEvent>> history =
          client.GetWorkflowHistory("old");
      return history.ok() && Count(*history, "WorkflowTaskStarted") == 2;
    }));
    ASSERT_TRUE(v1_worker.Stop().ok());
  }

  // Version 2 finishes it on the old branch and runs new instances on the
  // new one.
  Worker v2_worker(*backend, v2_registry, options);
  ASSERT_TRUE(v2_worker.Start().ok());
  ASSERT_TRUE(client.SignalWorkflow("old", "go", std::string("now")).ok());
  absl::StatusOr<int> old_result =
      client.GetWorkflowResult<int>("old", kScenarioTimeout);
  ASSERT_TRUE(old_result.ok()) << old_result.status();
  EXPECT_EQ(*old_result, 3);
  absl::StatusOr<v1::WorkflowInstanceState> state =
      client.GetWorkflowInstanceState("old");
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->has_last_task_failure())
      << state->last_task_failure().message();
  EXPECT_THAT(EventKinds(*client.GetWorkflowHistory("old")),
              Not(Contains("MarkerRecorded")));

  ASSERT_TRUE(
      client.CreateWorkflowInstance({.instance_id = "new"}, "Versioned").ok());
  ASSERT_TRUE(WaitUntil([&] {
    absl::StatusOr<std::vector<v1::HistoryEvent>> history =
        client.GetWorkflowHistory("new");
    return history.ok() && Count(*history, "ActivityCompleted") == 2;
  }));
  ASSERT_TRUE(client.SignalWorkflow("new", "go", std::string("now")).ok());
  absl::StatusOr<int> new_result =
      client.GetWorkflowResult<int>("new", kScenarioTimeout);
  ASSERT_TRUE(new_result.ok()) << new_result.status();
  EXPECT_EQ(*new_result, 103);
  std::vector<v1::HistoryEvent> history = *client.GetWorkflowHistory("new");
  ASSERT_EQ(Count(history, "MarkerRecorded"), 1);
  for (const v1::HistoryEvent& event : history) {
    if (event.has_marker_recorded()) {
      EXPECT_EQ(event.marker_recorded().name(), "patch");
      EXPECT_EQ(event.marker_recorded().id(), "extra-activity");
    }
  }
  state = client.GetWorkflowInstanceState("new");
  EXPECT_FALSE(state->has_last_task_failure())
      << state->last_task_failure().message();
  ASSERT_TRUE(v2_worker.Stop().ok());
}

// --- 8. limits and metadata
// --------------------------------------------------------

TEST_P(EndToEndScenarioTest, OrchestrationHistoryLimitFailsRunawayWorkflow) {
  Harness h(GetParam(),
            [](WorkerOptions& options) { options.max_history_length = 30; });
  absl::StatusOr<int> result = h.Run<int>({}, "Runaway");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(FailureType(result.status()), "HistoryLimitExceeded")
      << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("over the limit of 30"));
}

TEST_P(EndToEndScenarioTest,
       OrchestrationMetadataReachesActivitiesAndSubWorkflows) {
  Harness h(GetParam());
  absl::StatusOr<std::string> result = h.Run<std::string>(
      {.metadata = {{"trace_id", "t-123"}}}, "PropagatesMetadata");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "t-123 t-123 t-123+x");
}

// --- 9. sub-workflows the engine fails report to their parent
// ----------------------------------------------------------------

// A sub-workflow that outgrows the history limit fails; its parent's future
// fails with the sub-workflow's failure type instead of waiting forever.
TEST_P(EndToEndScenarioTest,
       OrchestrationSubWorkflowOverHistoryLimitFailsParent) {
  Harness h(GetParam(),
            [](WorkerOptions& options) { options.max_history_length = 30; });
  absl::StatusOr<std::string> outcome = h.Run<std::string>(
      {}, "ReportsSubWorkflowOutcome", "Runaway", "runaway-sub");
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, "HistoryLimitExceeded")
      << Dump(h.client(), "runaway-sub");
}

// A sub-workflow whose stored history cannot be read fails as HistoryCorrupted,
// and its parent learns it (the store keeps the parent of every execution,
// so it is known without reading the sub-workflow's history).
TEST_P(EndToEndScenarioTest,
       OrchestrationSubWorkflowWithCorruptedHistoryFailsParent) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> parent = h.client().CreateWorkflowInstance(
      {.instance_id = "parent-of-corrupted"}, "ReportsSubWorkflowOutcome",
      "WaitsThenAnswers", "corrupted-sub");
  ASSERT_TRUE(parent.ok()) << parent.status();
  // The sub-workflow's first task (started, waiting for "go") is in its
  // history.
  ASSERT_TRUE(WaitUntil([&] {
    absl::StatusOr<std::vector<v1::HistoryEvent>> history =
        h.client().GetWorkflowHistory("corrupted-sub");
    return history.ok() && history->size() >= 2;
  }));
  // Nothing may keep the run cached past the damage: a fresh worker replays.
  ASSERT_TRUE(h.worker().Stop().ok());
  if (absl::Status damaged = h.CorruptHistory("corrupted-sub", 2);
      absl::IsUnimplemented(damaged)) {
    GTEST_SKIP() << damaged;
  } else {
    ASSERT_TRUE(damaged.ok()) << damaged;
  }
  Worker fresh(h.backend(), h.registry(), h.worker_options());
  ASSERT_TRUE(fresh.Start().ok());
  ASSERT_TRUE(h.client()
                  .SignalWorkflow("corrupted-sub", "go", std::string("now"))
                  .ok());
  absl::StatusOr<std::string> outcome =
      h.client().GetWorkflowResult<std::string>("parent-of-corrupted",
                                                kScenarioTimeout);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, "HistoryCorrupted");
  ASSERT_TRUE(fresh.Stop().ok());
}

// A sub-workflow whose code changed under it fails as NonDeterminism (with
// fail_workflow_on_nondeterminism), and its parent learns it.
TEST_P(EndToEndScenarioTest,
       OrchestrationNonDeterministicSubWorkflowFailsParent) {
  // Version 1 runs the sub-workflow's first task only (no activity pollers).
  Harness h(GetParam(),
            [](WorkerOptions& options) { options.activity_pollers = 0; });
  absl::StatusOr<WorkflowInstance> parent = h.client().CreateWorkflowInstance(
      {.instance_id = "parent-of-drifting"}, "ReportsSubWorkflowOutcome",
      "DriftingSubWorkflow", "drifting-sub");
  ASSERT_TRUE(parent.ok()) << parent.status();
  ASSERT_TRUE(WaitUntil([&] {
    return HistoryHas(h.client(), "drifting-sub", "ActivityScheduled");
  }));
  ASSERT_TRUE(h.worker().Stop().ok());

  Registry v2;
  ASSERT_TRUE(v2.RegisterWorkflow("ReportsSubWorkflowOutcome",
                                  ReportsSubWorkflowOutcome)
                  .ok());
  ASSERT_TRUE(
      v2.RegisterWorkflow("DriftingSubWorkflow", DriftingSubWorkflowV2).ok());
  ASSERT_TRUE(v2.RegisterActivity("Add", Add).ok());
  WorkerOptions options;
  options.max_cached_workflows = std::get<1>(GetParam());
  options.fail_workflow_on_nondeterminism = true;
  Worker v2_worker(h.backend(), v2, options);
  ASSERT_TRUE(v2_worker.Start().ok());
  absl::StatusOr<std::string> outcome =
      h.client().GetWorkflowResult<std::string>("parent-of-drifting",
                                                kScenarioTimeout);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, "NonDeterminism") << Dump(h.client(), "drifting-sub");
  ASSERT_TRUE(v2_worker.Stop().ok());
}

// --- 10. workers with different registries share a queue
// ----------------------------------------------------------------

// Two workers poll one queue, each running names the other does not (as a
// C++ and a Python worker would). Every task reaches the worker that runs
// it -- enough instances that one misrouted task would show -- and a name
// no live worker of the queue runs fails at once, typed, without retries.
TEST_P(EndToEndScenarioTest,
       OrchestrationWorkersWithDifferentNamesShareAQueue) {
  Harness h(GetParam());
  Registry one, two;
  ASSERT_TRUE(one.RegisterWorkflow("WorkflowA", WorkflowA).ok());
  ASSERT_TRUE(
      one.RegisterWorkflow("CallsNobodysActivity", CallsNobodysActivity).ok());
  ASSERT_TRUE(one.RegisterActivity("ActivityOfA", ActivityOfA).ok());
  ASSERT_TRUE(two.RegisterWorkflow("WorkflowB", WorkflowB).ok());
  ASSERT_TRUE(two.RegisterActivity("ActivityOfB", ActivityOfB).ok());
  const WorkerOptions options{.queues = {"shared"},
                              .max_cached_workflows = std::get<1>(GetParam())};
  Worker worker_one(h.backend(), one, options);
  Worker worker_two(h.backend(), two, options);
  ASSERT_TRUE(worker_one.Start().ok());
  ASSERT_TRUE(worker_two.Start().ok());

  // Operators see both, with what they run.
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers =
      h.client().ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  std::vector<std::string> shared;
  for (const v1::WorkerInfo& worker : *workers) {
    EXPECT_GT(worker.pid(), 0);
    EXPECT_FALSE(worker.host().empty());
    if (std::find(worker.queues().begin(), worker.queues().end(), "shared") !=
        worker.queues().end()) {
      shared.push_back(NamesOf(worker));
    }
  }
  std::sort(shared.begin(), shared.end());
  EXPECT_THAT(shared, ElementsAre("CallsNobodysActivity,WorkflowA|ActivityOfA",
                                  "WorkflowB|ActivityOfB"));

  constexpr int kInstances = 40;
  std::vector<std::string> ids;
  for (int i = 0; i < kInstances; ++i) {
    absl::StatusOr<WorkflowInstance> instance =
        h.client().CreateWorkflowInstance(
            {.queue = "shared"}, i % 2 == 0 ? "WorkflowA" : "WorkflowB");
    ASSERT_TRUE(instance.ok()) << instance.status();
    ids.push_back(instance->instance_id);
  }
  for (int i = 0; i < kInstances; ++i) {
    absl::StatusOr<std::string> result =
        h.client().GetWorkflowResult<std::string>(ids[i], kScenarioTimeout);
    ASSERT_TRUE(result.ok()) << result.status() << "\n"
                             << Dump(h.client(), ids[i]);
    EXPECT_EQ(*result, i % 2 == 0 ? "Ab" : "Ba");
  }

  // Names no live worker of the queue runs: one attempt, typed failures.
  absl::StatusOr<std::string> unknown_workflow =
      h.Run<std::string>({.queue = "shared"}, "NobodysWorkflow");
  ASSERT_FALSE(unknown_workflow.ok());
  EXPECT_EQ(FailureType(unknown_workflow.status()), "WorkflowNotRegistered")
      << unknown_workflow.status();
  EXPECT_THAT(unknown_workflow.status().message(),
              HasSubstr("\"NobodysWorkflow\" is not registered with any live "
                        "worker polling queue \"shared\""));
  absl::StatusOr<WorkflowInstance> calls_nobody =
      h.client().CreateWorkflowInstance({.queue = "shared"},
                                        "CallsNobodysActivity");
  ASSERT_TRUE(calls_nobody.ok()) << calls_nobody.status();
  absl::StatusOr<std::string> unknown_activity =
      h.client().GetWorkflowResult<std::string>(calls_nobody->instance_id,
                                                kScenarioTimeout);
  ASSERT_FALSE(unknown_activity.ok());
  EXPECT_EQ(FailureType(unknown_activity.status()), "ActivityNotRegistered")
      << unknown_activity.status();
  EXPECT_THAT(unknown_activity.status().message(),
              HasSubstr("\"NobodysActivity\" is not registered with any live "
                        "worker polling queue \"shared\""));
  std::vector<v1::HistoryEvent> history =
      *h.client().GetWorkflowHistory(calls_nobody->instance_id);
  ASSERT_EQ(Count(history, "ActivityFailed"), 1);
  for (const v1::HistoryEvent& event : history) {
    if (event.has_activity_failed()) {
      EXPECT_EQ(event.activity_failed().attempt(), 0) << "never retried";
    }
  }

  // A worker that stops leaves the registry at once, and what only it ran
  // is no longer reserved for it.
  ASSERT_TRUE(worker_two.Stop().ok());
  workers = h.client().ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  for (const v1::WorkerInfo& worker : *workers) {
    EXPECT_NE(NamesOf(worker), "WorkflowB|ActivityOfB") << "still listed";
  }
  absl::StatusOr<std::string> orphaned =
      h.Run<std::string>({.queue = "shared"}, "WorkflowB");
  ASSERT_FALSE(orphaned.ok());
  EXPECT_EQ(FailureType(orphaned.status()), "WorkflowNotRegistered")
      << orphaned.status();
  ASSERT_TRUE(worker_one.Stop().ok());
}

}  // namespace
}  // namespace durable::testing
