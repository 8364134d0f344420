// The facade's side of sub-workflows, continue-as-new, activity options,
// versioning, heartbeats and typed errors, driven with hand-built
// activations (no engine).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "durable/activity_context.h"
#include "durable/cancellation.h"
#include "durable/failure.h"
#include "durable/internal/workflow_run.h"
#include "durable/options.h"
#include "durable/payload.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

int Add(ActivityContext&, int a, int b) { return a + b; }

Task<absl::StatusOr<int>> Doubles(WorkflowContext&, int x) { co_return x * 2; }
Task<int> NotRegistered(WorkflowContext&) { co_return 0; }

Task<std::string> StartsSubWorkflow(WorkflowContext& ctx) {
  SubWorkflowOptions options{.instance_id = "kid", .queue = "q"};
  options.metadata["trace"] = "t";
  Future<int> sub_workflow =
      ctx.CreateSubWorkflowInstance(options, Doubles, 21);
  absl::StatusOr<int> result = co_await sub_workflow;
  co_return result.ok() ? absl::StrCat("ok ", *result)
                        : absl::StrCat(FailureType(result.status()), " ",
                                       result.status().message());
}

// Cancels its sub-workflow in the activation that started it (`at_once`), or
// after a timer fired.
Task<std::string> CancelsSubWorkflow(WorkflowContext& ctx, bool at_once) {
  auto [child_ctx, cancel] = WithCancel(ctx);
  Future<int> sub_workflow =
      child_ctx.CreateSubWorkflowInstance({}, Doubles, 1);
  if (!at_once) (void)co_await ctx.Sleep(absl::Seconds(1));
  cancel();
  absl::StatusOr<int> result = co_await sub_workflow;
  co_return result.ok()
      ? absl::StrCat("ok ", *result)
      : absl::StrCat(IsCanceled(result.status()) ? "canceled " : "failed ",
                     result.status().message());
}

Task<std::string> StartsUnregistered(WorkflowContext& ctx) {
  Future<int> sub_workflow = ctx.CreateSubWorkflowInstance({}, NotRegistered);
  co_return FailureType((co_await sub_workflow).status());
}

Task<absl::StatusOr<int>> Continues(WorkflowContext& ctx, int n) {
  if (n > 0) {
    co_return ctx.ContinueAsNew({.remove_previous_executions = true}, n - 1);
  }
  co_return ctx.ContinueAsNew(std::string("x"), 7);
}

Task<std::string> UsesPatches(WorkflowContext& ctx) {
  const bool first = ctx.Patched("a");
  const bool again = ctx.Patched("a");
  ctx.DeprecatePatch("b");
  ctx.DeprecatePatch("b");
  co_return absl::StrCat(first, again);
}

Task<absl::StatusOr<int>> WithOptions(WorkflowContext& ctx) {
  const ActivityOptions options{
      .queue = "gpu",
      .retry_policy = {.maximum_attempts = 3,
                       .initial_interval = absl::Milliseconds(1.5),
                       .backoff_coefficient = 1.5,
                       .maximum_interval = absl::Seconds(2),
                       .timeout = absl::Minutes(1),
                       .non_retryable_error_types = {"Fatal"}},
      .start_to_close_timeout = absl::Seconds(3),
      .schedule_to_close_timeout = absl::Seconds(4),
      .heartbeat_timeout = absl::Seconds(5)};
  absl::StatusOr<int> a = co_await ctx.ExecuteActivity(options, Add, 1, 2);
  absl::StatusOr<int> b = co_await ctx.ExecuteActivity(Add, 3, 4);
  if (!a.ok() || !b.ok()) co_return absl::InternalError("activity failed");
  co_return *a + *b;
}

constexpr char kRunId[] = "run-1";

v1::WorkflowActivation Activation(bool replaying = false) {
  v1::WorkflowActivation activation;
  activation.set_execution_id(kRunId);
  activation.set_instance_id("instance-1");
  activation.set_is_replaying(replaying);
  return activation;
}

v1::WorkflowActivation Start(const std::string& workflow,
                             std::vector<std::string> json_args = {},
                             bool replaying = false) {
  v1::WorkflowActivation activation = Activation(replaying);
  v1::StartWorkflow* start = activation.add_jobs()->mutable_start_workflow();
  start->set_workflow_name(workflow);
  for (std::string& arg : json_args) {
    *start->add_arguments() = JsonPayload(std::move(arg));
  }
  return activation;
}

class OrchestrationTest : public ::testing::Test {
 protected:
  OrchestrationTest() {
    EXPECT_TRUE(registry_.RegisterActivity("Add", Add).ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("Doubles", Doubles).ok());
    EXPECT_TRUE(
        registry_.RegisterWorkflow("StartsSubWorkflow", StartsSubWorkflow)
            .ok());
    EXPECT_TRUE(
        registry_.RegisterWorkflow("CancelsSubWorkflow", CancelsSubWorkflow)
            .ok());
    EXPECT_TRUE(
        registry_.RegisterWorkflow("StartsUnregistered", StartsUnregistered)
            .ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("Continues", Continues).ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("UsesPatches", UsesPatches).ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("WithOptions", WithOptions).ok());
  }

  std::vector<v1::WorkflowCommand> Commands(
      const v1::WorkflowActivation& activation) {
    v1::WorkflowActivationCompletion completion = run_->Activate(activation);
    EXPECT_TRUE(completion.has_successful()) << completion.DebugString();
    return {completion.successful().commands().begin(),
            completion.successful().commands().end()};
  }

  static std::string ResultOf(const v1::WorkflowCommand& command) {
    EXPECT_TRUE(command.has_complete_workflow()) << command.DebugString();
    return command.complete_workflow().result().data();
  }

  void Restart() { run_ = std::make_unique<WorkflowRun>(registry_, kRunId); }

  Registry registry_;
  std::unique_ptr<WorkflowRun> run_ =
      std::make_unique<WorkflowRun>(registry_, kRunId);
};

TEST_F(OrchestrationTest, SubWorkflowIsStartedAndResolved) {
  std::vector<v1::WorkflowCommand> commands =
      Commands(Start("StartsSubWorkflow"));
  ASSERT_EQ(commands.size(), 1u);
  const v1::StartSubWorkflow& start = commands[0].start_sub_workflow();
  EXPECT_EQ(start.seq(), 1u);
  EXPECT_EQ(start.instance_id(), "kid");
  EXPECT_EQ(start.workflow_name(), "Doubles");
  EXPECT_EQ(start.queue(), "q");
  EXPECT_EQ(start.metadata().at("trace"), "t");
  ASSERT_EQ(start.arguments_size(), 1);
  EXPECT_EQ(start.arguments(0).data(), "21");
  EXPECT_FALSE(start.has_retry_policy());

  v1::WorkflowActivation resolve = Activation();
  auto* job = resolve.add_jobs()->mutable_resolve_sub_workflow();
  job->set_seq(1);
  *job->mutable_completed() = JsonPayload("42");
  commands = Commands(resolve);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(ResultOf(commands[0]), "\"ok 42\"");
}

TEST_F(OrchestrationTest, SubWorkflowFailureArrivesTyped) {
  Commands(Start("StartsSubWorkflow"));
  v1::WorkflowActivation resolve = Activation();
  auto* job = resolve.add_jobs()->mutable_resolve_sub_workflow();
  job->set_seq(1);
  *job->mutable_failed() = MakeFailure("InstanceAlreadyExists", "kid is busy");
  std::vector<v1::WorkflowCommand> commands = Commands(resolve);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(ResultOf(commands[0]),
            "\"InstanceAlreadyExists InstanceAlreadyExists: kid is busy\"");
}

TEST_F(OrchestrationTest, SubWorkflowCanceledInTheStartingActivationNeverRuns) {
  std::vector<v1::WorkflowCommand> commands =
      Commands(Start("CancelsSubWorkflow", {"true"}));
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_TRUE(commands[0].has_start_sub_workflow());
  EXPECT_EQ(commands[1].cancel_sub_workflow().seq(), 1u);
  EXPECT_EQ(ResultOf(commands[2]), "\"canceled context canceled\"");
}

TEST_F(OrchestrationTest, SubWorkflowCanceledLaterStillDeliversItsOutcome) {
  std::vector<v1::WorkflowCommand> commands =
      Commands(Start("CancelsSubWorkflow", {"false"}));
  ASSERT_EQ(commands.size(), 2u);  // StartSubWorkflow, StartTimer
  v1::WorkflowActivation fire = Activation();
  fire.add_jobs()->mutable_fire_timer()->set_seq(1);
  commands = Commands(fire);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].cancel_sub_workflow().seq(), 1u);

  v1::WorkflowActivation resolve = Activation();
  auto* job = resolve.add_jobs()->mutable_resolve_sub_workflow();
  job->set_seq(1);
  *job->mutable_completed() = JsonPayload("5");
  commands = Commands(resolve);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(ResultOf(commands[0]), "\"ok 5\"");
}

TEST_F(OrchestrationTest, CanceledRootContextCancelsSubWorkflows) {
  Commands(Start("StartsSubWorkflow"));
  v1::WorkflowActivation cancel = Activation();
  cancel.add_jobs()->mutable_cancel_workflow()->set_reason("stop");
  std::vector<v1::WorkflowCommand> commands = Commands(cancel);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].cancel_sub_workflow().seq(), 1u);
}

TEST_F(OrchestrationTest, UnregisteredSubWorkflowFailsWithoutCommand) {
  std::vector<v1::WorkflowCommand> commands =
      Commands(Start("StartsUnregistered"));
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(ResultOf(commands[0]), "\"WorkflowNotRegistered\"");
}

TEST_F(OrchestrationTest, ContinueAsNewIsTheTerminalCommand) {
  std::vector<v1::WorkflowCommand> commands =
      Commands(Start("Continues", {"2"}));
  ASSERT_EQ(commands.size(), 1u);
  const v1::ContinueAsNew& next = commands[0].continue_as_new();
  EXPECT_TRUE(next.remove_previous_executions());
  EXPECT_EQ(next.workflow_name(), "");
  ASSERT_EQ(next.arguments_size(), 1);
  EXPECT_EQ(next.arguments(0).data(), "1");

  Restart();
  commands = Commands(Start("Continues", {"0"}));
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_FALSE(commands[0].continue_as_new().remove_previous_executions());
  EXPECT_EQ(commands[0].continue_as_new().arguments(0).data(), "\"x\"");
  EXPECT_EQ(commands[0].continue_as_new().arguments(1).data(), "7");
}

TEST_F(OrchestrationTest, PatchedLiveRecordsOneMarker) {
  std::vector<v1::WorkflowCommand> commands = Commands(Start("UsesPatches"));
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[0].set_patch_marker().patch_id(), "a");
  EXPECT_FALSE(commands[0].set_patch_marker().deprecated());
  EXPECT_EQ(commands[1].set_patch_marker().patch_id(), "b");
  EXPECT_TRUE(commands[1].set_patch_marker().deprecated());
  EXPECT_EQ(ResultOf(commands[2]), "\"11\"");
}

TEST_F(OrchestrationTest, PatchedOnReplayFollowsHistory) {
  // History without the marker: the old code path, no marker command.
  std::vector<v1::WorkflowCommand> commands =
      Commands(Start("UsesPatches", {}, /*replaying=*/true));
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_TRUE(commands[0].set_patch_marker().deprecated());
  EXPECT_EQ(ResultOf(commands[1]), "\"00\"");

  // History with the marker (NotifyHasPatch comes right after StartWorkflow).
  Restart();
  v1::WorkflowActivation start = Start("UsesPatches", {}, true);
  start.add_jobs()->mutable_notify_has_patch()->set_patch_id("a");
  commands = Commands(start);
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[0].set_patch_marker().patch_id(), "a");
  EXPECT_EQ(ResultOf(commands[2]), "\"11\"");
}

TEST_F(OrchestrationTest, ActivityOptionsReachTheCommand) {
  std::vector<v1::WorkflowCommand> commands = Commands(Start("WithOptions"));
  ASSERT_EQ(commands.size(), 1u);
  const v1::ScheduleActivity& schedule = commands[0].schedule_activity();
  EXPECT_EQ(schedule.queue(), "gpu");
  EXPECT_EQ(schedule.retry_policy().maximum_attempts(), 3);
  EXPECT_EQ(schedule.retry_policy().initial_interval_us(), 1500);
  EXPECT_EQ(schedule.retry_policy().backoff_coefficient(), 1.5);
  EXPECT_EQ(schedule.retry_policy().maximum_interval_us(), 2'000'000);
  EXPECT_EQ(schedule.retry_policy().timeout_us(), 60'000'000);
  EXPECT_THAT(schedule.retry_policy().non_retryable_error_types(),
              ElementsAre("Fatal"));
  EXPECT_EQ(schedule.start_to_close_timeout_us(), 3'000'000);
  EXPECT_EQ(schedule.schedule_to_close_timeout_us(), 4'000'000);
  EXPECT_EQ(schedule.heartbeat_timeout_us(), 5'000'000);

  v1::WorkflowActivation resolve = Activation();
  auto* job = resolve.add_jobs()->mutable_resolve_activity();
  job->set_seq(1);
  *job->mutable_completed() = JsonPayload("3");
  commands = Commands(resolve);
  ASSERT_EQ(commands.size(), 1u);
  const v1::ScheduleActivity& plain = commands[0].schedule_activity();
  EXPECT_EQ(plain.seq(), 2u);
  EXPECT_EQ(plain.queue(), "");
  EXPECT_FALSE(plain.has_retry_policy());
  EXPECT_EQ(plain.heartbeat_timeout_us(), 0);
}

TEST(ActivityHeartbeatTest, NotFoundMeansTimedOut) {
  v1::ActivityTask task;
  task.set_task_token("token");
  std::vector<std::string> seen;
  int calls = 0;
  ActivityContext ctx(task, [&](const v1::ActivityHeartbeat& heartbeat) {
    seen.push_back(heartbeat.task_token() + ":" + heartbeat.details().data());
    return ++calls < 2 ? absl::OkStatus()
                       : absl::NotFoundError("attempt timed out");
  });
  EXPECT_TRUE(ctx.Heartbeat(3).ok());
  EXPECT_FALSE(ctx.TimedOut());
  EXPECT_TRUE(absl::IsNotFound(ctx.Heartbeat()));
  EXPECT_TRUE(ctx.TimedOut());
  EXPECT_TRUE(absl::IsNotFound(ctx.Heartbeat()));  // no further call
  EXPECT_THAT(seen, ElementsAre("token:3", "token:"));

  ActivityContext without_worker(task);
  EXPECT_TRUE(without_worker.Heartbeat().ok());
}

TEST(FailureClassificationTest, TellsKindsApart) {
  absl::Status timeout = FailureStatus("HeartbeatTimeout", "no heartbeat");
  absl::Status final_timeout = StatusFromFailure([] {
    v1::Failure f = MakeFailure("ScheduleToCloseTimeout", "too late");
    f.set_non_retryable(true);
    return f;
  }());
  absl::Status canceled = absl::CancelledError("context canceled");
  absl::Status declined = NonRetryableFailureStatus("Declined", "no");
  absl::Status app = FailureStatus("PaymentDeclined", "card expired");
  absl::Status panic = FailureStatus(kPanicFailure, "boom");

  EXPECT_TRUE(IsTimeout(timeout));
  EXPECT_FALSE(IsNonRetryable(timeout));
  EXPECT_TRUE(IsTimeout(final_timeout));
  EXPECT_TRUE(IsNonRetryable(final_timeout));
  EXPECT_TRUE(IsCanceled(canceled));
  EXPECT_TRUE(IsCanceled(StatusFromFailure(*FailureFromStatus(canceled))));
  EXPECT_FALSE(IsTimeout(canceled));
  EXPECT_TRUE(IsNonRetryable(declined));
  EXPECT_TRUE(IsApplicationError(declined));
  EXPECT_TRUE(IsApplicationError(app));
  EXPECT_FALSE(IsApplicationError(timeout));
  EXPECT_FALSE(IsApplicationError(canceled));
  EXPECT_TRUE(IsPanic(panic));
  EXPECT_FALSE(IsApplicationError(panic));
  for (auto is :
       {IsTimeout, IsCanceled, IsNonRetryable, IsPanic, IsApplicationError}) {
    EXPECT_FALSE(is(absl::OkStatus()));
  }

  absl::Status wrapped =
      FailureStatus("OrderFailed", "could not charge", JsonPayload("1"), app);
  std::optional<v1::Failure> failure = FailureFromStatus(wrapped);
  EXPECT_EQ(failure->details().data(), "1");
  EXPECT_EQ(failure->cause().type(), "PaymentDeclined");
  EXPECT_THAT(std::string(wrapped.message()), HasSubstr("could not charge"));
}

}  // namespace
}  // namespace durable::internal
