// Drives WorkflowRun / WorkflowExecutor with hand-built activations, the way
// the engine does, without the C ABI.
#include "durable/internal/workflow_run.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "durable/failure.h"
#include "durable/internal/activity_executor.h"
#include "durable/internal/workflow_executor.h"
#include "durable/payload.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---- Activities ------------------------------------------------------------

int Add(ActivityContext& ctx, int a, int b) { return a + b; }
absl::StatusOr<int> Twelve(ActivityContext& ctx) { return 12; }
absl::Status Declined(ActivityContext& ctx) {
  return FailureStatus("PaymentDeclined", "card expired");
}
int Throws(ActivityContext& ctx) { throw std::runtime_error("kaboom"); }
void Nothing(ActivityContext& ctx, std::string) {}
int NotRegistered(ActivityContext& ctx) { return 0; }

// ---- Workflows -------------------------------------------------------------

Task<absl::StatusOr<int>> Sum(WorkflowContext& ctx, std::string input) {
  absl::StatusOr<int> r1 = co_await ctx.ExecuteActivity(Add, 35, 12);
  if (!r1.ok()) co_return r1.status();
  ctx.Logf("Activity1 returned %d", *r1);
  absl::StatusOr<int> r2 = co_await ctx.ExecuteActivity<int>("Twelve");
  if (!r2.ok()) co_return r2.status();
  co_return *r1 + *r2;
}

Task<int> AddTwice(WorkflowContext& ctx, int x) {
  absl::StatusOr<int> once = co_await ctx.ExecuteActivity(Add, x, x);
  co_return once.value_or(-1);
}

Task<void> Nop(WorkflowContext& ctx) { co_return; }

// Nested tasks (value and void) awaited with symmetric transfer.
Task<int> Nested(WorkflowContext& ctx, int x) {
  co_await Nop(ctx);
  int doubled = co_await AddTwice(ctx, x);
  co_return doubled + 1;
}

Task<int> FanOut(WorkflowContext& ctx, int n) {
  std::vector<Future<int>> futures;
  for (int i = 0; i < n; ++i) futures.push_back(ctx.ExecuteActivity(Add, i, 1));
  int sum = 0;
  for (Future<int>& future : futures) sum += (co_await future).value();
  co_return sum;
}

Task<int> Panics(WorkflowContext& ctx) {
  (void)co_await ctx.ExecuteActivity(Twelve);
  throw std::runtime_error("boom");
}

// Returns the failure type of an activity that failed.
Task<std::string> CatchesFailure(WorkflowContext& ctx) {
  absl::Status status = co_await ctx.ExecuteActivity(Declined);
  co_return FailureType(status);
}

// Propagates the activity's failure as the workflow's.
Task<absl::Status> PropagatesFailure(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity(Declined);
}

Task<std::string> CallsUnregistered(WorkflowContext& ctx) {
  absl::StatusOr<int> result = co_await ctx.ExecuteActivity(NotRegistered);
  co_return std::string(result.status().message());
}

Task<int64_t> WorkflowTime(WorkflowContext& ctx) {
  co_return absl::ToUnixMicros(ctx.Now());
}

Task<std::string> ReadsMetadata(WorkflowContext& ctx) {
  co_return ctx.Metadata().at("trace") + "/" + ctx.InstanceId();
}

// ---- Helpers ---------------------------------------------------------------

constexpr char kRunId[] = "run-1";

v1::WorkflowActivation Activation(bool replaying = false) {
  v1::WorkflowActivation activation;
  activation.set_execution_id(kRunId);
  activation.set_instance_id("instance-1");
  activation.set_workflow_time_unix_us(1'700'000'000'000'000);
  activation.set_is_replaying(replaying);
  return activation;
}

v1::WorkflowActivation Start(const std::string& workflow,
                             std::vector<std::string> json_args,
                             bool replaying = false) {
  v1::WorkflowActivation activation = Activation(replaying);
  v1::StartWorkflow* start = activation.add_jobs()->mutable_start_workflow();
  start->set_workflow_name(workflow);
  start->set_queue("default");
  for (std::string& arg : json_args) {
    *start->add_arguments() = JsonPayload(std::move(arg));
  }
  return activation;
}

void AddResolve(v1::WorkflowActivation& activation, uint32_t seq,
                std::string json) {
  v1::ResolveActivity* resolve =
      activation.add_jobs()->mutable_resolve_activity();
  resolve->set_seq(seq);
  *resolve->mutable_completed() = JsonPayload(std::move(json));
}

v1::WorkflowActivation Resolve(uint32_t seq, std::string json,
                               bool replaying = false) {
  v1::WorkflowActivation activation = Activation(replaying);
  AddResolve(activation, seq, std::move(json));
  return activation;
}

v1::WorkflowActivation ResolveFailed(uint32_t seq, const v1::Failure& failure) {
  v1::WorkflowActivation activation = Activation();
  v1::ResolveActivity* resolve =
      activation.add_jobs()->mutable_resolve_activity();
  resolve->set_seq(seq);
  *resolve->mutable_failed() = failure;
  return activation;
}

v1::WorkflowActivation Evict() {
  v1::WorkflowActivation activation = Activation();
  activation.add_jobs()->mutable_remove_from_cache()->set_reason("test");
  return activation;
}

class WorkflowRunTest : public ::testing::Test {
 protected:
  WorkflowRunTest() {
    EXPECT_TRUE(registry_.RegisterActivity("Add", Add).ok());
    EXPECT_TRUE(registry_.RegisterActivity("Twelve", Twelve).ok());
    EXPECT_TRUE(registry_.RegisterActivity("Declined", Declined).ok());
    EXPECT_TRUE(registry_.RegisterActivity("Throws", Throws).ok());
    EXPECT_TRUE(registry_.RegisterActivity("Nothing", Nothing).ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("Sum", Sum).ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("Nested", Nested).ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("FanOut", FanOut).ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("Panics", Panics).ok());
    EXPECT_TRUE(
        registry_.RegisterWorkflow("CatchesFailure", CatchesFailure).ok());
    EXPECT_TRUE(
        registry_.RegisterWorkflow("PropagatesFailure", PropagatesFailure)
            .ok());
    EXPECT_TRUE(
        registry_.RegisterWorkflow("CallsUnregistered", CallsUnregistered)
            .ok());
    EXPECT_TRUE(registry_.RegisterWorkflow("WorkflowTime", WorkflowTime).ok());
    EXPECT_TRUE(
        registry_.RegisterWorkflow("ReadsMetadata", ReadsMetadata).ok());
  }

  // Activates and expects a successful completion; returns its commands.
  std::vector<v1::WorkflowCommand> Commands(
      const v1::WorkflowActivation& activation) {
    v1::WorkflowActivationCompletion completion = run_.Activate(activation);
    EXPECT_EQ(completion.execution_id(), kRunId);
    EXPECT_TRUE(completion.has_successful()) << completion.DebugString();
    return {completion.successful().commands().begin(),
            completion.successful().commands().end()};
  }

  // The failure of a run whose only command is FailWorkflow.
  v1::Failure FailureOf(const std::vector<v1::WorkflowCommand>& commands) {
    EXPECT_EQ(commands.size(), 1u);
    if (commands.size() != 1 || !commands[0].has_fail_workflow()) {
      ADD_FAILURE() << "expected FailWorkflow";
      return {};
    }
    return commands[0].fail_workflow().failure();
  }

  // The JSON result of a run whose only command is CompleteWorkflow.
  std::string ResultOf(const std::vector<v1::WorkflowCommand>& commands) {
    EXPECT_EQ(commands.size(), 1u);
    if (commands.size() != 1 || !commands[0].has_complete_workflow()) {
      ADD_FAILURE() << "expected CompleteWorkflow";
      return "";
    }
    return commands[0].complete_workflow().result().data();
  }

  Registry registry_;
  WorkflowRun run_{registry_, kRunId};
};

TEST_F(WorkflowRunTest, StartSchedulesFirstActivityWithJsonArguments) {
  std::vector<v1::WorkflowCommand> commands = Commands(Start("Sum", {"\"x\""}));
  ASSERT_EQ(commands.size(), 1u);
  ASSERT_TRUE(commands[0].has_schedule_activity());
  const v1::ScheduleActivity& schedule = commands[0].schedule_activity();
  EXPECT_EQ(schedule.seq(), 1u);
  EXPECT_EQ(schedule.activity_name(), "Add");
  ASSERT_EQ(schedule.arguments_size(), 2);
  EXPECT_EQ(schedule.arguments(0).encoding(), "json/plain");
  EXPECT_EQ(schedule.arguments(0).data(), "35");
  EXPECT_EQ(schedule.arguments(1).data(), "12");
}

TEST_F(WorkflowRunTest, ResolutionsDriveTheWorkflowToCompletion) {
  Commands(Start("Sum", {"\"x\""}));
  std::vector<v1::WorkflowCommand> commands = Commands(Resolve(1, "47"));
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].schedule_activity().seq(), 2u);
  EXPECT_EQ(commands[0].schedule_activity().activity_name(), "Twelve");
  EXPECT_EQ(commands[0].schedule_activity().arguments_size(), 0);

  commands = Commands(Resolve(2, "12"));
  EXPECT_EQ(ResultOf(commands), "59");
  EXPECT_EQ(commands[0].complete_workflow().result().encoding(), "json/plain");
  EXPECT_TRUE(run_.finished());
}

TEST_F(WorkflowRunTest, NestedTasksAreAwaited) {
  std::vector<v1::WorkflowCommand> commands = Commands(Start("Nested", {"5"}));
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].schedule_activity().arguments(0).data(), "5");
  EXPECT_EQ(ResultOf(Commands(Resolve(1, "10"))), "11");
}

TEST_F(WorkflowRunTest, UnregisteredWorkflowFails) {
  v1::Failure failure = FailureOf(Commands(Start("Nope", {})));
  EXPECT_EQ(failure.type(), "WorkflowNotRegistered");
  EXPECT_THAT(std::string(failure.message()),
              StartsWith("workflow \"Nope\" is not registered with this "
                         "worker (registered: CallsUnregistered, "));
  EXPECT_TRUE(run_.finished());
}

TEST_F(WorkflowRunTest, WrongArgumentCountFails) {
  v1::Failure failure = FailureOf(Commands(Start("Sum", {})));
  EXPECT_EQ(failure.type(), "InvalidArgument");
  EXPECT_EQ(failure.message(), "workflow \"Sum\" expects 1 argument(s), got 0");
}

TEST_F(WorkflowRunTest, UndecodableArgumentFails) {
  v1::Failure failure = FailureOf(Commands(Start("Sum", {"42"})));
  EXPECT_EQ(failure.type(), "InvalidArgument");
  EXPECT_THAT(std::string(failure.message()),
              StartsWith("workflow \"Sum\" argument 1 of 1: cannot decode "
                         "payload as std::string: "));
}

TEST_F(WorkflowRunTest, ExceptionBecomesPanic) {
  Commands(Start("Panics", {}));
  v1::Failure failure = FailureOf(Commands(Resolve(1, "12")));
  EXPECT_EQ(failure.type(), "panic");
  EXPECT_EQ(failure.message(), "boom");
}

TEST_F(WorkflowRunTest, ActivityFailureIsVisibleWithItsType) {
  Commands(Start("CatchesFailure", {}));
  EXPECT_EQ(ResultOf(Commands(ResolveFailed(
                1, MakeFailure("PaymentDeclined", "card expired")))),
            "\"PaymentDeclined\"");
}

TEST_F(WorkflowRunTest, ReturnedActivityFailureFailsTheWorkflow) {
  Commands(Start("PropagatesFailure", {}));
  v1::Failure failure = FailureOf(Commands(
      ResolveFailed(1, MakeFailure("PaymentDeclined", "card expired"))));
  EXPECT_EQ(failure.type(), "PaymentDeclined");
  EXPECT_EQ(failure.message(), "card expired");
}

TEST_F(WorkflowRunTest, UnregisteredActivityFailsTheFutureWithoutACommand) {
  std::string result = ResultOf(Commands(Start("CallsUnregistered", {})));
  EXPECT_THAT(result, HasSubstr("ActivityNotRegistered: the function passed "
                                "to ExecuteActivity is not registered"));
}

TEST_F(WorkflowRunTest, NowIsTheActivationTime) {
  EXPECT_EQ(ResultOf(Commands(Start("WorkflowTime", {}))), "1700000000000000");
}

TEST_F(WorkflowRunTest, MetadataAndInstanceId) {
  v1::WorkflowActivation start = Start("ReadsMetadata", {});
  (*start.mutable_jobs(0)
        ->mutable_start_workflow()
        ->mutable_metadata())["trace"] = "t-1";
  EXPECT_EQ(ResultOf(Commands(start)), "\"t-1/instance-1\"");
}

TEST_F(WorkflowRunTest, HundredActivitiesAtOnce) {
  std::vector<v1::WorkflowCommand> commands =
      Commands(Start("FanOut", {"100"}));
  ASSERT_EQ(commands.size(), 100u);
  for (uint32_t i = 0; i < 100; ++i) {
    EXPECT_EQ(commands[i].schedule_activity().seq(), i + 1);
    EXPECT_EQ(commands[i].schedule_activity().arguments(0).data(),
              absl::StrCat(i));
  }
  // Results arrive in reverse order, some in one activation, the rest in
  // another.
  v1::WorkflowActivation first = Activation();
  for (uint32_t seq = 100; seq > 50; --seq) {
    AddResolve(first, seq, absl::StrCat(seq));  // Add(seq - 1, 1) == seq
  }
  EXPECT_TRUE(Commands(first).empty());
  v1::WorkflowActivation rest = Activation();
  for (uint32_t seq = 50; seq >= 1; --seq)
    AddResolve(rest, seq, absl::StrCat(seq));
  EXPECT_EQ(ResultOf(Commands(rest)), "5050");
}

TEST_F(WorkflowRunTest, ActivationWithoutStartForUnknownRunFails) {
  v1::WorkflowActivationCompletion completion = run_.Activate(Resolve(1, "1"));
  ASSERT_TRUE(completion.has_failed());
  EXPECT_THAT(std::string(completion.failed().message()),
              HasSubstr("is not cached"));
}

TEST_F(WorkflowRunTest, ResolveOfUnknownSeqFailsTheActivation) {
  Commands(Start("Sum", {"\"x\""}));
  v1::WorkflowActivationCompletion completion = run_.Activate(Resolve(7, "1"));
  ASSERT_TRUE(completion.has_failed());
  EXPECT_THAT(std::string(completion.failed().message()), HasSubstr("seq 7"));
}

TEST_F(WorkflowRunTest, LoggerIsQuietWhileReplaying) {
  WorkflowRun replay(registry_, kRunId);
  replay.Activate(Start("Sum", {"\"x\""}, /*replaying=*/true));
  ::testing::internal::CaptureStderr();
  replay.Activate(Resolve(1, "47", /*replaying=*/true));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");

  Commands(Start("Sum", {"\"x\""}));
  ::testing::internal::CaptureStderr();
  Commands(Resolve(1, "47"));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "[durable] workflow instance-1: Activity1 returned 47\n");
}

// ---- WorkflowExecutor: the run cache and replay after eviction -------------

std::string Serialized(const v1::WorkflowActivationCompletion& completion) {
  return completion.SerializeAsString();
}

TEST_F(WorkflowRunTest, ReplayAfterEvictionIssuesIdenticalCommands) {
  WorkflowExecutor executor(registry_);
  const std::string first =
      Serialized(executor.Process(Start("Sum", {"\"x\""})));
  const std::string second = Serialized(executor.Process(Resolve(1, "47")));
  EXPECT_EQ(executor.cached_runs(), 1u);

  v1::WorkflowActivationCompletion evicted = executor.Process(Evict());
  EXPECT_TRUE(evicted.has_successful());
  EXPECT_EQ(evicted.successful().commands_size(), 0);
  EXPECT_EQ(evicted.execution_id(), kRunId);
  EXPECT_EQ(executor.cached_runs(), 0u);

  EXPECT_EQ(Serialized(executor.Process(Start("Sum", {"\"x\""}, true))), first);
  EXPECT_EQ(Serialized(executor.Process(Resolve(1, "47", true))), second);
  v1::WorkflowActivationCompletion done = executor.Process(Resolve(2, "12"));
  ASSERT_EQ(done.successful().commands_size(), 1);
  EXPECT_EQ(done.successful().commands(0).complete_workflow().result().data(),
            "59");
}

TEST_F(WorkflowRunTest, ExecutorHandlesBatchedReplay) {
  // Robustness: history of several tasks in one activation still replays.
  WorkflowExecutor executor(registry_);
  v1::WorkflowActivation batched = Start("Sum", {"\"x\""}, true);
  AddResolve(batched, 1, "47");
  AddResolve(batched, 2, "12");
  v1::WorkflowActivationCompletion completion = executor.Process(batched);
  ASSERT_TRUE(completion.has_successful()) << completion.DebugString();
  ASSERT_EQ(completion.successful().commands_size(), 3);
  EXPECT_EQ(
      completion.successful().commands(2).complete_workflow().result().data(),
      "59");
}

TEST_F(WorkflowRunTest, ExecutorEvictsRunsWhoseActivationFailed) {
  WorkflowExecutor executor(registry_);
  executor.Process(Start("Sum", {"\"x\""}));
  EXPECT_TRUE(executor.Process(Resolve(9, "1")).has_failed());
  EXPECT_EQ(executor.cached_runs(), 0u);
}

// ---- Activities ------------------------------------------------------------

v1::ActivityTask Task(const std::string& name,
                      std::vector<std::string> json_args) {
  v1::ActivityTask task;
  task.set_task_token("token");
  task.set_activity_name(name);
  for (std::string& arg : json_args) {
    *task.add_arguments() = JsonPayload(std::move(arg));
  }
  return task;
}

TEST_F(WorkflowRunTest, ActivityCompletes) {
  v1::ActivityTaskResult result =
      ExecuteActivityTask(registry_, Task("Add", {"35", "12"}));
  EXPECT_EQ(result.task_token(), "token");
  EXPECT_EQ(result.completed().data(), "47");
  EXPECT_EQ(ExecuteActivityTask(registry_, Task("Nothing", {"\"s\""}))
                .completed()
                .encoding(),
            "binary/null");
}

TEST_F(WorkflowRunTest, ActivityWrongArgumentCount) {
  v1::ActivityTaskResult result =
      ExecuteActivityTask(registry_, Task("Add", {"35"}));
  EXPECT_EQ(result.failed().type(), "InvalidArgument");
  EXPECT_EQ(result.failed().message(),
            "activity \"Add\" expects 2 argument(s), got 1");
  EXPECT_TRUE(result.failed().non_retryable()) << "no retry can fix it";
}

TEST_F(WorkflowRunTest, ActivityUndecodableArgument) {
  v1::ActivityTaskResult result =
      ExecuteActivityTask(registry_, Task("Add", {"1", "\"two\""}));
  EXPECT_EQ(result.failed().type(), "InvalidArgument");
  EXPECT_THAT(std::string(result.failed().message()),
              StartsWith("activity \"Add\" argument 2 of 2: cannot decode "
                         "payload as int: "));
  EXPECT_TRUE(result.failed().non_retryable()) << "no retry can fix it";
}

TEST_F(WorkflowRunTest, ActivityArgumentsAreNeverNarrowed) {
  // Today's callers in other languages may send any JSON number: an int
  // parameter takes only what it holds exactly.
  v1::ActivityTaskResult fraction =
      ExecuteActivityTask(registry_, Task("Add", {"1.5", "2.7"}));
  EXPECT_EQ(fraction.failed().type(), "InvalidArgument");
  EXPECT_EQ(fraction.failed().message(),
            "activity \"Add\" argument 1 of 2: cannot decode payload as int: "
            "1.5 is not an integer");
  v1::ActivityTaskResult too_big =
      ExecuteActivityTask(registry_, Task("Add", {"1", "1099511627776"}));
  EXPECT_EQ(too_big.failed().message(),
            "activity \"Add\" argument 2 of 2: cannot decode payload as int: "
            "1099511627776 does not fit in int (-2147483648 to 2147483647)");
}

TEST_F(WorkflowRunTest, ActivityFailuresAndPanics) {
  EXPECT_EQ(
      ExecuteActivityTask(registry_, Task("Declined", {})).failed().type(),
      "PaymentDeclined");
  v1::ActivityTaskResult panic =
      ExecuteActivityTask(registry_, Task("Throws", {}));
  EXPECT_EQ(panic.failed().type(), "panic");
  EXPECT_EQ(panic.failed().message(), "kaboom");
  v1::ActivityTaskResult missing =
      ExecuteActivityTask(registry_, Task("Foo", {}));
  EXPECT_EQ(missing.failed().type(), "ActivityNotRegistered");
  EXPECT_THAT(
      std::string(missing.failed().message()),
      StartsWith("activity \"Foo\" is not registered with this worker "
                 "(registered: Add, Declined, Nothing, Throws, Twelve)"));
  EXPECT_TRUE(missing.failed().non_retryable()) << "no retry can fix it";
  EXPECT_FALSE(ExecuteActivityTask(registry_, Task("Declined", {}))
                   .failed()
                   .non_retryable())
      << "application failures keep their own flag";
}

TEST_F(WorkflowRunTest, DuplicateRegistrationIsRejected) {
  EXPECT_EQ(registry_.RegisterActivity("Add", Add).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry_.RegisterWorkflow("", Sum).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace durable::internal
