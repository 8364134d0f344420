#include "testing/scenarios/end_to_end_scenarios.h"

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/options.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "testing/scenarios/scenario_harness.h"

namespace durable::testing {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kResultTimeout = kScenarioTimeout;

// --- activities and workflows used by the scenarios ----------------------

int Activity1(ActivityContext&, int a, int b) { return a + b; }
int Activity2(ActivityContext&) { return 12; }
int Add(ActivityContext&, int a, int b) { return a + b; }

Task<absl::StatusOr<int>> Workflow1(WorkflowContext& ctx, std::string input) {
  absl::StatusOr<int> r1 = co_await ctx.ExecuteActivity(Activity1, 35, 12);
  if (!r1.ok()) co_return r1.status();
  absl::StatusOr<int> r2 = co_await ctx.ExecuteActivity(Activity2);
  if (!r2.ok()) co_return r2.status();
  co_return *r1 + *r2;
}

Task<int> Immediate(WorkflowContext&) { co_return 42; }

Task<absl::StatusOr<int>> FanOut(WorkflowContext& ctx, int n) {
  std::vector<Future<int>> futures;
  for (int i = 0; i < n; ++i) futures.push_back(ctx.ExecuteActivity(Add, i, 1));
  int sum = 0;
  for (Future<int>& future : futures) {
    absl::StatusOr<int> value = co_await future;
    if (!value.ok()) co_return value.status();
    sum += *value;
  }
  co_return sum;
}

// Calls an activity by a name no worker registered.
Task<absl::StatusOr<int>> CallsUnknownActivity(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity<int>("NoSuchActivity", 1);
}

// Calls Activity1 by name with one argument instead of two.
Task<absl::StatusOr<int>> CallsWithWrongArity(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity<int>("Activity1", 35);
}

// Each calls an activity in a way no retry can fix, under a policy that
// would otherwise try five times, and reports "<type> attempt <n>" of the
// failure the workflow sees (n = the attempt that produced it, from the
// ActivityFailed event).
ActivityOptions FiveAttempts() {
  return {.retry_policy = {.maximum_attempts = 5,
                           .initial_interval = absl::Milliseconds(10)}};
}
Task<absl::StatusOr<int>> RetriesUnknownActivity(WorkflowContext& ctx) {
  const ActivityOptions options = FiveAttempts();
  co_return co_await ctx.ExecuteActivity<int>(options, "NoSuchActivity", 1);
}
Task<absl::StatusOr<int>> RetriesWrongArity(WorkflowContext& ctx) {
  const ActivityOptions options = FiveAttempts();
  co_return co_await ctx.ExecuteActivity<int>(options, "Activity1", 35);
}
Task<absl::StatusOr<int>> RetriesUndecodableArgument(WorkflowContext& ctx) {
  const ActivityOptions options = FiveAttempts();
  co_return co_await ctx.ExecuteActivity<int>(options, "Activity1", 35,
                                              std::string("twelve"));
}

void RegisterAll(Registry& registry) {
  ASSERT_TRUE(registry.RegisterActivity("Activity1", Activity1).ok());
  ASSERT_TRUE(registry.RegisterActivity("Activity2", Activity2).ok());
  ASSERT_TRUE(registry.RegisterActivity("Add", Add).ok());
  ASSERT_TRUE(registry.RegisterWorkflow("Workflow1", Workflow1).ok());
  ASSERT_TRUE(registry.RegisterWorkflow("Immediate", Immediate).ok());
  ASSERT_TRUE(registry.RegisterWorkflow("FanOut", FanOut).ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("CallsUnknownActivity", CallsUnknownActivity)
          .ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("CallsWithWrongArity", CallsWithWrongArity)
          .ok());
  ASSERT_TRUE(
      registry
          .RegisterWorkflow("RetriesUnknownActivity", RetriesUnknownActivity)
          .ok());
  ASSERT_TRUE(
      registry.RegisterWorkflow("RetriesWrongArity", RetriesWrongArity).ok());
  ASSERT_TRUE(registry
                  .RegisterWorkflow("RetriesUndecodableArgument",
                                    RetriesUndecodableArgument)
                  .ok());
}

// A harness with every workflow of this file registered.
class Harness : public ScenarioHarness {
 public:
  explicit Harness(const ScenarioParam& param, int activity_pollers = 4)
      : ScenarioHarness(param, RegisterAll, [&](WorkerOptions& options) {
          options.activity_pollers = activity_pollers;
        }) {}
};

TEST_P(EndToEndScenarioTest, WorkflowReturningAtOnceHasThreeEventHistory) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, Immediate);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<int> result =
      h.client().GetWorkflowResult<int>(instance->instance_id, kResultTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 42);

  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      h.client().GetWorkflowHistory(instance->instance_id);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_THAT(
      EventKinds(*history),
      ::testing::ElementsAre("WorkflowTaskStarted", "WorkflowExecutionStarted",
                             "WorkflowExecutionFinished"));
  for (size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].id(), static_cast<int64_t>(i) + 1);
    EXPECT_GT((*history)[i].timestamp_unix_us(), 0);
  }
  // The started event keeps the time the client created it; events written
  // by the task carry the task's (workflow) time.
  const int64_t task_time = (*history)[0].timestamp_unix_us();
  EXPECT_LE((*history)[1].timestamp_unix_us(), task_time);
  EXPECT_EQ((*history)[2].timestamp_unix_us(), task_time);
  absl::StatusOr<v1::WorkflowInstanceState> state =
      h.client().GetWorkflowInstanceState(instance->instance_id);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
  EXPECT_GT(state->finished_at_unix_us(), 0);
}

TEST_P(EndToEndScenarioTest, ClassicWorkflowReturnsSumOfActivities) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, Workflow1, "input");
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<int> result =
      h.client().GetWorkflowResult<int>(instance->instance_id, kResultTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 59);

  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      h.client().GetWorkflowHistory(instance->instance_id);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_THAT(
      EventKinds(*history),
      ::testing::ElementsAre("WorkflowTaskStarted", "WorkflowExecutionStarted",
                             "ActivityScheduled", "WorkflowTaskStarted",
                             "ActivityCompleted", "ActivityScheduled",
                             "WorkflowTaskStarted", "ActivityCompleted",
                             "WorkflowExecutionFinished"));
  EXPECT_EQ((*history)[2].activity_scheduled().activity_name(), "Activity1");
  EXPECT_EQ((*history)[5].activity_scheduled().activity_name(), "Activity2");
}

TEST_P(EndToEndScenarioTest, HundredConcurrentActivitiesSum) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, FanOut, 100);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<int> result =
      h.client().GetWorkflowResult<int>(instance->instance_id, kResultTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 5050);  // sum of (i + 1) for i in [0, 100)

  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      h.client().GetWorkflowHistory(instance->instance_id);
  ASSERT_TRUE(history.ok());
  int scheduled = 0, completed = 0;
  for (const auto& event : *history) {
    scheduled += event.has_activity_scheduled();
    completed += event.has_activity_completed();
  }
  EXPECT_EQ(scheduled, 100);
  EXPECT_EQ(completed, 100);
}

TEST_P(EndToEndScenarioTest, UnregisteredWorkflowFailsNamingIt) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, "NoSuchWorkflow", 1);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<int> result =
      h.client().GetWorkflowResult<int>(instance->instance_id, kResultTimeout);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().code(), absl::StatusCode::kDeadlineExceeded)
      << "the instance must fail, not hang";
  EXPECT_EQ(FailureType(result.status()), "WorkflowNotRegistered");
  EXPECT_THAT(result.status().message(), HasSubstr("NoSuchWorkflow"));
}

TEST_P(EndToEndScenarioTest, UnregisteredActivityFailsNamingIt) {
  Harness h(GetParam());
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, CallsUnknownActivity);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<int> result =
      h.client().GetWorkflowResult<int>(instance->instance_id, kResultTimeout);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(FailureType(result.status()), "ActivityNotRegistered")
      << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("NoSuchActivity"));
}

TEST_P(EndToEndScenarioTest, WrongArgumentCountSaysExpectedAndGot) {
  Harness h(GetParam());
  // An activity called by name with too few arguments.
  absl::StatusOr<WorkflowInstance> instance =
      h.client().CreateWorkflowInstance({}, CallsWithWrongArity);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<int> result =
      h.client().GetWorkflowResult<int>(instance->instance_id, kResultTimeout);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(FailureType(result.status()), "InvalidArgument") << result.status();
  EXPECT_THAT(result.status().message(),
              HasSubstr("activity \"Activity1\" expects 2 argument(s), got 1"));

  // A workflow started by name with too many arguments.
  instance = h.client().CreateWorkflowInstance({}, "Workflow1", "a", "b");
  ASSERT_TRUE(instance.ok()) << instance.status();
  result =
      h.client().GetWorkflowResult<int>(instance->instance_id, kResultTimeout);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(FailureType(result.status()), "InvalidArgument") << result.status();
  EXPECT_THAT(result.status().message(),
              HasSubstr("workflow \"Workflow1\" expects 1 argument(s), got 2"));
}

// An unregistered activity, a wrong argument count and an undecodable
// argument can never succeed: one attempt, whatever the retry policy says,
// and the workflow sees the typed, non-retryable failure.
TEST_P(EndToEndScenarioTest, PermanentActivityErrorsAreNotRetried) {
  Harness h(GetParam());
  struct Case {
    const char* workflow;
    const char* type;
    const char* message;
  };
  for (const Case& c : {
           Case{"RetriesUnknownActivity", "ActivityNotRegistered",
                "\"NoSuchActivity\" is not registered"},
           Case{"RetriesWrongArity", "InvalidArgument",
                "activity \"Activity1\" expects 2 argument(s), got 1"},
           Case{"RetriesUndecodableArgument", "InvalidArgument",
                "activity \"Activity1\" argument 2 of 2: cannot decode"},
       }) {
    SCOPED_TRACE(c.workflow);
    absl::StatusOr<WorkflowInstance> instance =
        h.client().CreateWorkflowInstance({}, c.workflow);
    ASSERT_TRUE(instance.ok()) << instance.status();
    absl::StatusOr<int> result = h.client().GetWorkflowResult<int>(
        instance->instance_id, kResultTimeout);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(FailureType(result.status()), c.type) << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(c.message));
    EXPECT_TRUE(IsNonRetryable(result.status())) << result.status();
    absl::StatusOr<std::vector<v1::HistoryEvent>> history =
        h.client().GetWorkflowHistory(instance->instance_id);
    ASSERT_TRUE(history.ok()) << history.status();
    int failed = 0;
    for (const v1::HistoryEvent& event : *history) {
      if (!event.has_activity_failed()) continue;
      ++failed;
      EXPECT_EQ(event.activity_failed().attempt(), 0)
          << "retried: " << event.ShortDebugString();
    }
    EXPECT_EQ(failed, 1);
  }
}

TEST_P(EndToEndScenarioTest, DuplicateActiveInstanceIdIsRejected) {
  Harness h(GetParam(), /*activity_pollers=*/0);
  WorkflowInstanceOptions options;
  options.instance_id = "duplicate-id";
  ASSERT_TRUE(h.client().CreateWorkflowInstance(options, Workflow1, "x").ok());
  absl::StatusOr<WorkflowInstance> again =
      h.client().CreateWorkflowInstance(options, Workflow1, "x");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("duplicate-id"));
}

// --- non-determinism ------------------------------------------------------

// Version 1 schedules Activity1 first; version 2, deployed while an instance
// is in flight, schedules Activity2 first.
Task<absl::StatusOr<int>> DriftV1(WorkflowContext& ctx) {
  absl::StatusOr<int> a = co_await ctx.ExecuteActivity(Activity1, 1, 2);
  if (!a.ok()) co_return a.status();
  co_return *a;
}
Task<absl::StatusOr<int>> DriftV2(WorkflowContext& ctx) {
  absl::StatusOr<int> b = co_await ctx.ExecuteActivity(Activity2);
  if (!b.ok()) co_return b.status();
  co_return *b;
}

// A "Drift" instance whose first workflow task ran under version 1 of the
// code, continued by workers running version 2.
class DriftScenario {
 public:
  explicit DriftScenario(const ScenarioParam& param) {
    absl::StatusOr<Backend> backend = Backend::Open(std::get<0>(param)());
    EXPECT_TRUE(backend.ok()) << backend.status();
    backend_ = *std::move(backend);
    EXPECT_TRUE(v1_registry_.RegisterWorkflow("Drift", DriftV1).ok());
    EXPECT_TRUE(v2_registry_.RegisterWorkflow("Drift", DriftV2).ok());
    for (Registry* r : {&v1_registry_, &v2_registry_}) {
      EXPECT_TRUE(r->RegisterActivity("Activity1", Activity1).ok());
      EXPECT_TRUE(r->RegisterActivity("Activity2", Activity2).ok());
    }
    client_ = std::make_unique<Client>(*backend_);
    cache_size_ = std::get<1>(param);
  }

  // Version 1 runs the first workflow task only (no activity pollers).
  void RunVersion1() {
    WorkerOptions options;
    options.max_cached_workflows = cache_size_;
    options.activity_pollers = 0;
    Worker v1_worker(*backend_, v1_registry_, options);
    ASSERT_TRUE(v1_worker.Start().ok());
    absl::StatusOr<WorkflowInstance> instance =
        client_->CreateWorkflowInstance({}, "Drift");
    ASSERT_TRUE(instance.ok()) << instance.status();
    instance_id_ = instance->instance_id;
    for (absl::Time deadline = absl::Now() + kResultTimeout;
         history_before_.size() < 3 && absl::Now() < deadline;
         absl::SleepFor(absl::Milliseconds(5))) {
      history_before_ = *client_->GetWorkflowHistory(instance_id_);
    }
    ASSERT_EQ(history_before_.size(), 3u);
    ASSERT_TRUE(v1_worker.Stop().ok());
  }

  // Version 2 runs the activity, then replays the first task and diverges.
  std::unique_ptr<Worker> StartVersion2(bool fail_workflow) {
    WorkerOptions options;
    options.max_cached_workflows = cache_size_;
    options.fail_workflow_on_nondeterminism = fail_workflow;
    auto worker = std::make_unique<Worker>(*backend_, v2_registry_, options);
    EXPECT_TRUE(worker->Start().ok());
    return worker;
  }

  Client& client() { return *client_; }
  const std::string& instance_id() const { return instance_id_; }
  const std::vector<v1::HistoryEvent>& history_before() const {
    return history_before_;
  }

 private:
  std::optional<Backend> backend_;
  Registry v1_registry_, v2_registry_;
  std::unique_ptr<Client> client_;
  int cache_size_ = 0;
  std::string instance_id_;
  std::vector<v1::HistoryEvent> history_before_;
};

TEST_P(EndToEndScenarioTest, ChangedWorkflowCodeIsNonDeterminism) {
  DriftScenario drift(GetParam());
  ASSERT_NO_FATAL_FAILURE(drift.RunVersion1());
  std::unique_ptr<Worker> v2_worker = drift.StartVersion2(false);

  v1::WorkflowInstanceState state;
  for (absl::Time deadline = absl::Now() + kResultTimeout;
       absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(10))) {
    state = *drift.client().GetWorkflowInstanceState(drift.instance_id());
    if (state.has_last_task_failure()) break;
  }
  ASSERT_TRUE(state.has_last_task_failure()) << "no workflow task failed";
  EXPECT_EQ(state.last_task_failure().status_code(), 100)  // NON_DETERMINISM
      << state.last_task_failure().message();
  EXPECT_THAT(state.last_task_failure().message(),
              HasSubstr("ActivityScheduled(\"Activity1\")"));
  EXPECT_EQ(state.state(), v1::WORKFLOW_STATE_ACTIVE);
  ASSERT_TRUE(v2_worker->Stop().ok());

  std::vector<v1::HistoryEvent> after =
      *drift.client().GetWorkflowHistory(drift.instance_id());
  ASSERT_EQ(after.size(), drift.history_before().size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(),
              drift.history_before()[i].SerializeAsString())
        << "history event " << i + 1 << " changed";
  }
}

TEST_P(EndToEndScenarioTest, NonDeterminismCanFailTheWorkflowInstead) {
  DriftScenario drift(GetParam());
  ASSERT_NO_FATAL_FAILURE(drift.RunVersion1());
  std::unique_ptr<Worker> v2_worker = drift.StartVersion2(true);
  absl::StatusOr<int> result = drift.client().GetWorkflowResult<int>(
      drift.instance_id(), kResultTimeout);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(FailureType(result.status()), "NonDeterminism") << result.status();
  EXPECT_THAT(result.status().message(),
              HasSubstr("ActivityScheduled(\"Activity1\")"));
  ASSERT_TRUE(v2_worker->Stop().ok());
  // The recorded history is kept; the failure is appended after it.
  std::vector<v1::HistoryEvent> after =
      *drift.client().GetWorkflowHistory(drift.instance_id());
  ASSERT_GT(after.size(), drift.history_before().size());
  EXPECT_EQ(after[2].SerializeAsString(),
            drift.history_before()[2].SerializeAsString());
  EXPECT_TRUE(after.back().workflow_execution_finished().has_failure());
}

}  // namespace

std::string TempPath(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", counter++, "-", name);
}

std::string ScenarioName(const ::testing::TestParamInfo<ScenarioParam>& info) {
  return absl::StrCat("cache", std::get<1>(info.param));
}

}  // namespace durable::testing
