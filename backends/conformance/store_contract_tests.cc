#include "backends/conformance/store_contract_tests.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/conformance/history_events.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"

namespace durable::testing {

void StoreContractTest::SetUp() {
  store_ = GetParam()();
  ASSERT_NE(store_, nullptr) << "the store factory returned no store";
}

namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::Duration kLease = absl::Seconds(30);
// How long a poll waits when the test expects nothing: absence can only be
// observed over some interval, and nothing is asserted about its length.
constexpr absl::Duration kNothing = absl::Milliseconds(100);
// How long a poll waits when the test expects a task: generous, because the
// call returns as soon as the task is there.
constexpr absl::Duration kSomething = absl::Seconds(10);

// A completion that consumes the task's events and leaves the workflow
// active.
core::WorkflowTaskCompletion Continue(const core::WorkflowTask& task) {
  core::WorkflowTaskCompletion completion;
  completion.executed_events = TaskEvents(task);
  completion.completed_at = absl::Now();
  return completion;
}

// A completion that consumes the task's events and finishes the workflow
// with `data`.
core::WorkflowTaskCompletion Finish(const core::WorkflowTask& task,
                                    const std::string& data) {
  core::WorkflowTaskCompletion completion = Continue(task);
  completion.executed_events.push_back(
      Finished(task.history_length + 1 +
                   static_cast<int64_t>(completion.executed_events.size()),
               data));
  completion.state = v1::WORKFLOW_STATE_FINISHED;
  v1::WorkflowResult result;
  result.mutable_result()->set_data(data);
  completion.result = result;
  completion.completed_at = absl::Now();
  return completion;
}

// Adds an ActivityScheduled event and its activity task to `completion`.
void ScheduleActivity(core::WorkflowTaskCompletion& completion,
                      const core::WorkflowTask& task, const std::string& name,
                      const std::string& queue) {
  int64_t id = task.history_length + 1 +
               static_cast<int64_t>(completion.executed_events.size());
  completion.executed_events.push_back(ActivityScheduled(id, name, queue));
  core::ActivityTaskSpec spec;
  spec.scheduled_event = completion.executed_events.back();
  spec.queue = queue;
  spec.metadata = task.metadata;
  completion.activities.push_back(spec);
}

int64_t CountIn(const std::map<std::string, int64_t>& counts,
                const std::string& queue) {
  auto it = counts.find(queue);
  return it == counts.end() ? 0 : it->second;
}

// The sum of `counts` over every queue.
int64_t Total(const std::map<std::string, int64_t>& counts) {
  int64_t total = 0;
  for (const auto& [queue, count] : counts) total += count;
  return total;
}

// --- Thin wrappers that report errors as test failures -------------------

std::optional<core::WorkflowTask> Poll(core::Store& store,
                                       std::vector<std::string> queues = {},
                                       absl::Duration timeout = kNothing,
                                       absl::Duration lease = kLease) {
  auto task =
      store.GetWorkflowTask(queues, lease, absl::Now() + timeout, nullptr);
  EXPECT_TRUE(task.ok()) << task.status();
  return task.ok() ? *task : std::nullopt;
}

std::optional<core::ActivityTask> PollActivity(
    core::Store& store, std::vector<std::string> queues = {},
    absl::Duration timeout = kNothing, absl::Duration lease = kLease) {
  auto task =
      store.GetActivityTask(queues, lease, absl::Now() + timeout, nullptr);
  EXPECT_TRUE(task.ok()) << task.status();
  return task.ok() ? *task : std::nullopt;
}

void Create(core::Store& store, const std::string& id,
            const std::string& exec = "e1", const std::string& queue = "",
            std::map<std::string, std::string> metadata = {{"k", "v"}}) {
  absl::Status status = store.CreateWorkflowInstance(
      Instance(id, exec), Started("wf", queue, std::move(metadata)));
  ASSERT_TRUE(status.ok()) << status;
}

// Creates `id` on `queue` and runs it to completion with one workflow task.
void CreateAndFinish(core::Store& store, const std::string& id,
                     const std::string& queue = "") {
  Create(store, id, "e1", queue);
  std::optional<core::WorkflowTask> task =
      Poll(store, {queue.empty() ? core::kDefaultQueue : queue}, kSomething);
  ASSERT_TRUE(task.has_value());
  ASSERT_EQ(task->instance_id, id);
  absl::Status status =
      store.CompleteWorkflowTask(*task, Finish(*task, "done"));
  ASSERT_TRUE(status.ok()) << status;
}

// Waits until the wall clock has moved past `t` (timestamps are compared
// with microsecond resolution).
void WaitUntilAfter(absl::Time t) {
  while (absl::Now() <= t + absl::Microseconds(1)) {
    std::this_thread::yield();
  }
}

// --- Creating instances -----------------------------------------------------

TEST_P(StoreContractTest, CreatedInstanceIsReadable) {
  absl::Time before = absl::Now();
  Create(*store_, "i1", "e1", "q1");
  absl::Time after = absl::Now();
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->instance_id(), "i1");
  EXPECT_EQ(state->execution_id(), "e1");
  EXPECT_EQ(state->workflow_name(), "wf");
  EXPECT_EQ(state->queue(), "q1");
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_EQ(state->metadata().at("k"), "v");
  EXPECT_GE(state->created_at_unix_us(), absl::ToUnixMicros(before));
  EXPECT_LE(state->created_at_unix_us(), absl::ToUnixMicros(after));
  EXPECT_EQ(state->finished_at_unix_us(), 0);
  EXPECT_FALSE(state->has_result());
}

TEST_P(StoreContractTest, InstanceWithoutQueueIsOnDefaultQueue) {
  Create(*store_, "i1");
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->queue(), core::kDefaultQueue);
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {core::kDefaultQueue}, kSomething);
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->queue, core::kDefaultQueue);
}

TEST_P(StoreContractTest, SecondCreateWhileActiveIsAlreadyExists) {
  Create(*store_, "i1");
  absl::Status again =
      store_->CreateWorkflowInstance(Instance("i1", "e2"), Started("wf"));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_THAT(again.message(), HasSubstr("i1"));
  // The first execution is untouched.
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->execution_id(), "e1");
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);
  // Also while its first task is leased.
  ASSERT_TRUE(Poll(*store_, {}, kSomething).has_value());
  EXPECT_EQ(store_->CreateWorkflowInstance(Instance("i1", "e3"), Started("wf"))
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_P(StoreContractTest, FinishedInstanceCanBeStartedAgain) {
  CreateAndFinish(*store_, "i1");
  ASSERT_TRUE(
      store_->CreateWorkflowInstance(Instance("i1", "e2"), Started("wf")).ok());
  auto latest = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->execution_id(), "e2");
  EXPECT_EQ(latest->state(), v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_FALSE(latest->has_result());
  EXPECT_EQ(latest->finished_at_unix_us(), 0);
  // The old execution's history is still there.
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 3u);
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->execution_id, "e2");
  EXPECT_EQ(task->history_length, 0);
}

TEST_P(StoreContractTest, TaskCarriesStartedEventAndMetadata) {
  Create(*store_, "i1", "e1", "", {{"k", "v"}, {"tenant", "acme"}});
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->instance_id, "i1");
  EXPECT_EQ(task->execution_id, "e1");
  EXPECT_EQ(task->queue, core::kDefaultQueue);
  EXPECT_EQ(task->history_length, 0);
  EXPECT_FALSE(task->lease_token.empty());
  EXPECT_EQ(task->metadata, (std::map<std::string, std::string>{
                                {"k", "v"}, {"tenant", "acme"}}));
  ASSERT_EQ(task->new_events.size(), 1u);
  const v1::HistoryEvent& started = task->new_events[0];
  EXPECT_EQ(started.id(), 0);
  ASSERT_TRUE(started.has_workflow_execution_started());
  EXPECT_EQ(started.workflow_execution_started().workflow_name(), "wf");
  EXPECT_EQ(started.workflow_execution_started().metadata().at("tenant"),
            "acme");
}

TEST_P(StoreContractTest, CreateRejectsNonStartedEvent) {
  EXPECT_EQ(
      store_->CreateWorkflowInstance(Instance("i1", "e1"), Signal("x")).code(),
      absl::StatusCode::kInvalidArgument);
}

// --- Polling workflow tasks -------------------------------------------------

TEST_P(StoreContractTest, PollWithNothingReadyReturnsNoTaskAtDeadline) {
  const absl::Duration timeout = absl::Seconds(1);
  absl::Time start = absl::Now();
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, timeout);
  absl::Duration elapsed = absl::Now() - start;
  EXPECT_FALSE(task.has_value());
  // It waited (roughly) until the deadline, and not much longer.
  EXPECT_GE(elapsed, timeout / 2);
  EXPECT_LT(elapsed, timeout + absl::Seconds(5));
}

TEST_P(StoreContractTest, ReadyInstanceIsReturnedOnceAndLocked) {
  Create(*store_, "i1");
  // Several pollers race for the one ready instance: exactly one wins.
  std::atomic<int> won = 0;
  std::vector<std::thread> pollers;
  for (int i = 0; i < 4; ++i) {
    pollers.emplace_back([&] {
      auto task = store_->GetWorkflowTask(
          {}, kLease, absl::Now() + absl::Seconds(1), nullptr);
      EXPECT_TRUE(task.ok()) << task.status();
      if (task.ok() && task->has_value()) ++won;
    });
  }
  for (std::thread& poller : pollers) poller.join();
  EXPECT_EQ(won.load(), 1);
  // While leased, a later poller gets nothing either.
  EXPECT_FALSE(Poll(*store_).has_value());
}

TEST_P(StoreContractTest, TaskOnlyFromQueuesAskedFor) {
  Create(*store_, "i1", "e1", "q1");
  EXPECT_FALSE(Poll(*store_).has_value());  // Only "default".
  EXPECT_FALSE(Poll(*store_, {"q2"}).has_value());
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {"q2", "q1"}, kSomething);
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->instance_id, "i1");
  EXPECT_EQ(task->queue, "q1");
}

TEST_P(StoreContractTest, ExtendedLeaseKeepsTheTask) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {}, kSomething, absl::Seconds(1));
  ASSERT_TRUE(task.has_value());
  ASSERT_TRUE(store_->ExtendWorkflowTaskLease(*task, kLease).ok());
  // Past the original lease, nobody else gets the task.
  EXPECT_FALSE(Poll(*store_, {}, absl::Seconds(2)).has_value());
  EXPECT_TRUE(store_->CompleteWorkflowTask(*task, Continue(*task)).ok());
}

TEST_P(StoreContractTest, ExpiredLeaseIsTakenOverAndOldLeaseIsLost) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> first =
      Poll(*store_, {}, kSomething, absl::Milliseconds(100));
  ASSERT_TRUE(first.has_value());
  // Blocks until the first lease expires.
  std::optional<core::WorkflowTask> second = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->instance_id, "i1");
  EXPECT_NE(second->lease_token, first->lease_token);
  EXPECT_EQ(second->new_events.size(), 1u);

  EXPECT_EQ(store_->CompleteWorkflowTask(*first, Continue(*first)).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_->ExtendWorkflowTaskLease(*first, kLease).code(),
            absl::StatusCode::kAborted);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*second, Continue(*second)).ok());
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 2u);
}

// A lease is lost only when its token changed: a caller whose lease expired
// while nobody took the task over still holds it.
TEST_P(StoreContractTest, ExpiredLeaseNotTakenOverCanStillComplete) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {}, kSomething, absl::Milliseconds(1));
  ASSERT_TRUE(task.has_value());
  WaitUntilAfter(absl::Now() + absl::Milliseconds(2));
  ASSERT_TRUE(store_->ExtendWorkflowTaskLease(*task, kLease).ok());
  EXPECT_TRUE(store_->CompleteWorkflowTask(*task, Continue(*task)).ok());
}

// A completion of `task` that withdraws `count` pending events that do not
// exist: a commit that takes a while without writing much.
core::WorkflowTaskCompletion LargeCompletion(const core::WorkflowTask& task,
                                             int count) {
  core::WorkflowTaskCompletion completion = Continue(task);
  for (int i = 0; i < count; ++i) {
    completion.canceled_event_keys.push_back(absl::StrCat("none/", i));
  }
  return completion;
}

// A lease's expiry is computed when it is granted, inside the transaction
// that grants it (core/storage/store.h), never from a clock read before the
// call waited for the store. Here every kind of grant -- a workflow task, an
// activity task, an eager activity -- waits behind another caller's large
// commit, for longer than its lease; right after each call returns, the task
// still has one owner.
TEST_P(StoreContractTest, LeaseRunsFromItsGrantNotFromTheCallsStart) {
  constexpr int kLargeCommit = 100000;
  // How long a large commit takes here. The leases are half of that: shorter
  // than the wait behind such a commit, long enough for the checks right
  // after the grants.
  Create(*store_, "warm-up", "e1", "large");
  std::optional<core::WorkflowTask> warm_up =
      Poll(*store_, {"large"}, kSomething);
  ASSERT_TRUE(warm_up.has_value());
  core::WorkflowTaskCompletion large = LargeCompletion(*warm_up, kLargeCommit);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(store_->CompleteWorkflowTask(*warm_up, large).ok());
  const absl::Duration lease =
      std::max(absl::Milliseconds(100), (absl::Now() - start) / 2);

  Create(*store_, "large", "e2", "large");
  std::optional<core::WorkflowTask> large_task =
      Poll(*store_, {"large"}, kSomething);
  ASSERT_TRUE(large_task.has_value());
  large = LargeCompletion(*large_task, kLargeCommit);
  Create(*store_, "workflow");              // A workflow task on "default".
  Create(*store_, "activity", "e3", "aw");  // An activity task on "aq".
  std::optional<core::WorkflowTask> task = Poll(*store_, {"aw"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", "aq");
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  Create(*store_, "eager", "e4", "ew");  // Schedules one on "eq" eagerly.
  std::optional<core::WorkflowTask> eager_task =
      Poll(*store_, {"ew"}, kSomething);
  ASSERT_TRUE(eager_task.has_value());
  core::WorkflowTaskCompletion eager = Continue(*eager_task);
  ScheduleActivity(eager, *eager_task, "act", "eq");
  eager.eager_activities = 1;
  eager.eager_activity_lease = lease;

  std::thread committer([&] {
    EXPECT_TRUE(store_->CompleteWorkflowTask(*large_task, large).ok());
  });
  // Most likely the large commit is under way now; if not, nothing waits.
  absl::SleepFor(absl::Milliseconds(20));
  // Each grant is checked right after it returns, by the thread that made
  // it: the grants need not wait equally long (one may even come before the
  // large commit), so a check after all of them could outlast the lease of
  // the first one.
  std::optional<core::WorkflowTask> workflow;
  std::optional<core::ActivityTask> activity;
  core::WorkflowTaskCommitResult eager_result;
  std::optional<core::WorkflowTask> workflow_again;
  std::optional<core::ActivityTask> activity_again;
  std::optional<core::ActivityTask> eager_again;
  std::vector<std::thread> grants;
  grants.emplace_back([&] {
    workflow = Poll(*store_, {}, kSomething, lease);
    workflow_again = Poll(*store_, {}, absl::ZeroDuration(), kLease);
  });
  grants.emplace_back([&] {
    activity = PollActivity(*store_, {"aq"}, kSomething, lease);
    activity_again =
        PollActivity(*store_, {"aq"}, absl::ZeroDuration(), kLease);
  });
  grants.emplace_back([&] {
    EXPECT_TRUE(
        store_->CompleteWorkflowTask(*eager_task, eager, &eager_result).ok());
    eager_again = PollActivity(*store_, {"eq"}, absl::ZeroDuration(), kLease);
  });
  for (std::thread& grant : grants) grant.join();
  committer.join();
  ASSERT_TRUE(workflow.has_value());
  ASSERT_TRUE(activity.has_value());
  ASSERT_EQ(eager_result.eager_activities.size(), 1u);
  EXPECT_FALSE(workflow_again.has_value())
      << "the workflow task's lease was granted already expired";
  EXPECT_FALSE(activity_again.has_value())
      << "the activity task's lease was granted already expired";
  EXPECT_FALSE(eager_again.has_value())
      << "the eager activity's lease was granted already expired";
}

TEST_P(StoreContractTest, AbandonRecordsFailureAndDelaysRetry) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  v1::WorkflowTaskFailure failure;
  failure.set_status_code(100);
  failure.set_message("nondeterminism: boom");
  failure.set_failed_at_unix_us(123);
  ASSERT_TRUE(
      store_->AbandonWorkflowTask(*task, failure, absl::Seconds(2)).ok());
  // The lease is gone.
  EXPECT_EQ(
      store_->AbandonWorkflowTask(*task, failure, absl::ZeroDuration()).code(),
      absl::StatusCode::kAborted);
  EXPECT_EQ(store_->CompleteWorkflowTask(*task, Continue(*task)).code(),
            absl::StatusCode::kAborted);

  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->last_task_failure().status_code(), 100);
  EXPECT_EQ(state->last_task_failure().message(), "nondeterminism: boom");

  // Not ready before the retry delay...
  EXPECT_FALSE(Poll(*store_).has_value());
  // ...but afterwards, with the same inbox and no history written.
  std::optional<core::WorkflowTask> retry = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->history_length, 0);
  ASSERT_EQ(retry->new_events.size(), 1u);
  EXPECT_TRUE(retry->new_events[0].has_workflow_execution_started());

  // A successful completion clears the failure.
  ASSERT_TRUE(store_->CompleteWorkflowTask(*retry, Continue(*retry)).ok());
  state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_FALSE(state->has_last_task_failure());
}

TEST_P(StoreContractTest, CreateWakesBlockedPoller) {
  std::optional<core::WorkflowTask> got;
  std::thread poller([&] { got = Poll(*store_, {}, absl::Seconds(20)); });
  // Whether or not the poller is already blocked, it must get the task; the
  // pause only makes the blocked case the likely one.
  absl::SleepFor(absl::Milliseconds(100));
  Create(*store_, "i1");
  poller.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->instance_id, "i1");
}

TEST_P(StoreContractTest, InterruptWithStopReturnsAtOnce) {
  std::atomic<bool> stop = false;
  std::optional<absl::StatusOr<std::optional<core::WorkflowTask>>> result;
  std::optional<absl::StatusOr<std::optional<core::ActivityTask>>> activity;
  absl::Time start = absl::Now();
  std::thread poller([&] {
    result = store_->GetWorkflowTask({}, kLease,
                                     absl::Now() + absl::Seconds(60), &stop);
  });
  std::thread activity_poller([&] {
    activity = store_->GetActivityTask({}, kLease,
                                       absl::Now() + absl::Seconds(60), &stop);
  });
  absl::SleepFor(absl::Milliseconds(100));  // See CreateWakesBlockedPoller.
  stop = true;
  store_->Interrupt();
  poller.join();
  activity_poller.join();
  ASSERT_TRUE(result.has_value() && activity.has_value());
  ASSERT_TRUE(result->ok()) << result->status();
  EXPECT_FALSE(result->value().has_value());
  ASSERT_TRUE(activity->ok()) << activity->status();
  EXPECT_FALSE(activity->value().has_value());
  // Far before the 60 s deadline.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// --- Completing workflow tasks ---------------------------------------------

TEST_P(StoreContractTest, CompletionAppendsHistoryInOrder) {
  Create(*store_, "i1", "e1", "", {{"k", "v"}, {"x", "y"}});
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  v1::HistoryEvent timer;
  timer.set_id(4);
  timer.mutable_timer_scheduled()->set_fire_at_unix_us(12345);
  timer.mutable_timer_scheduled()->set_name("t");
  completion.executed_events.push_back(timer);
  v1::HistoryEvent marker;
  marker.set_id(5);
  marker.mutable_marker_recorded()->set_name("m");
  completion.executed_events.push_back(marker);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), completion.executed_events.size());
  for (size_t i = 0; i < history->size(); ++i) {
    const v1::HistoryEvent& read = (*history)[i];
    const v1::HistoryEvent& written = completion.executed_events[i];
    EXPECT_EQ(read.id(), static_cast<int64_t>(i + 1));
    EXPECT_EQ(read.attributes_case(), written.attributes_case());
    EXPECT_TRUE(MessageDifferencer::Equals(read, written))
        << "event " << i + 1 << ": read " << read.ShortDebugString()
        << ", written " << written.ShortDebugString();
  }
  auto tail = store_->GetWorkflowHistory("i1", "e1", /*after_id=*/3);
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].id(), 4);
  EXPECT_TRUE((*tail)[0].has_timer_scheduled());

  // The inbox was consumed: no new workflow task; the instance stays active.
  EXPECT_FALSE(Poll(*store_).has_value());
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_EQ(state->finished_at_unix_us(), 0);

  // The scheduled activity is there, with the workflow's metadata.
  std::optional<core::ActivityTask> activity =
      PollActivity(*store_, {}, kSomething);
  ASSERT_TRUE(activity.has_value());
  EXPECT_EQ(activity->instance_id, "i1");
  EXPECT_EQ(activity->execution_id, "e1");
  EXPECT_EQ(activity->queue, core::kDefaultQueue);
  EXPECT_FALSE(activity->activity_id.empty());
  EXPECT_FALSE(activity->lease_token.empty());
  EXPECT_TRUE(
      MessageDifferencer::Equals(activity->scheduled_event, (*history)[2]));
  EXPECT_EQ(activity->metadata,
            (std::map<std::string, std::string>{{"k", "v"}, {"x", "y"}}));
}

TEST_P(StoreContractTest, NextTaskContinuesHistory) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, Continue(*task)).ok());
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("s")).ok());
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->history_length, 2);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*next, Continue(*next)).ok());
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 4u);
  EXPECT_TRUE((*history)[2].has_workflow_task_started());
  EXPECT_EQ((*history)[3].id(), 4);
  EXPECT_EQ((*history)[3].signal_received().signal_name(), "s");
}

TEST_P(StoreContractTest, CompletionSetsFinishedTimeAndResult) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  absl::Time before = absl::Now();
  core::WorkflowTaskCompletion completion = Finish(*task, "done");
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  absl::Time after = absl::Now();

  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
  EXPECT_EQ(state->result().result().data(), "done");
  EXPECT_GE(state->finished_at_unix_us(), absl::ToUnixMicros(before));
  EXPECT_LE(state->finished_at_unix_us(), absl::ToUnixMicros(after));
  EXPECT_GE(state->finished_at_unix_us(), state->created_at_unix_us());
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_TRUE(history->back().has_workflow_execution_finished());
  // A finished instance has no more workflow tasks.
  EXPECT_FALSE(Poll(*store_).has_value());
}

TEST_P(StoreContractTest, CompletingTheSameTaskTwiceFails) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  absl::Status again = store_->CompleteWorkflowTask(*task, completion);
  EXPECT_EQ(again.code(), absl::StatusCode::kAborted) << again;
  EXPECT_EQ(store_->ExtendWorkflowTaskLease(*task, kLease).code(),
            absl::StatusCode::kAborted);
  // The second completion wrote nothing.
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 2u);
}

TEST_P(StoreContractTest, StaleLeaseTokenIsAbortedAndWritesNothing) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTask stale = *task;
  stale.lease_token = "not-the-token";
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  EXPECT_EQ(store_->CompleteWorkflowTask(stale, completion).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_->ExtendWorkflowTaskLease(stale, kLease).code(),
            absl::StatusCode::kAborted);
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_TRUE(history->empty());
  EXPECT_FALSE(PollActivity(*store_).has_value());
  // The real lease still works.
  ASSERT_TRUE(store_->ExtendWorkflowTaskLease(*task, kLease).ok());
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
}

TEST_P(StoreContractTest, CompletionDeliversEventsToOtherInstances) {
  Create(*store_, "sender", "e1", "q-sender");
  Create(*store_, "receiver", "e1", "q-receiver");
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {"q-sender"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  // To the receiver's current execution, and to an explicit execution.
  completion.outbound_events = {
      core::OutboundEvent{"receiver", "", Signal("hello"),
                          absl::InfinitePast()},
      core::OutboundEvent{"receiver", "e1", Signal("again"),
                          absl::InfinitePast()}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  std::optional<core::WorkflowTask> received =
      Poll(*store_, {"q-receiver"}, kSomething);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->instance_id, "receiver");
  ASSERT_EQ(received->new_events.size(), 3u);
  EXPECT_TRUE(received->new_events[0].has_workflow_execution_started());
  EXPECT_EQ(received->new_events[1].signal_received().signal_name(), "hello");
  EXPECT_EQ(received->new_events[1].signal_received().input().data(),
            "payload");
  EXPECT_EQ(received->new_events[2].signal_received().signal_name(), "again");
  // The sender got nothing from its own completion.
  EXPECT_FALSE(Poll(*store_, {"q-sender"}).has_value());
}

// A signal to `target` whose sender (execution e1 of "sender") waits for the
// answer; the answers name `sent_id`.
core::OutboundEvent SignalWithReply(const std::string& target,
                                    int64_t sent_id) {
  core::OutboundEvent signal{target, "", Signal("hello"), absl::InfinitePast()};
  core::OutboundEvent::Reply& reply = signal.reply.emplace();
  reply.instance_id = "sender";
  reply.execution_id = "e1";
  reply.delivered.mutable_signal_external_delivered()->set_scheduled_event_id(
      sent_id);
  reply.not_delivered.mutable_signal_external_failed()->set_scheduled_event_id(
      sent_id);
  return signal;
}

TEST_P(StoreContractTest, ReplyTellsTheSenderWhetherItWasDelivered) {
  Create(*store_, "sender", "e1", "q-sender");
  Create(*store_, "receiver", "e1", "q-receiver");
  CreateAndFinish(*store_, "finished", "q-finished");
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {"q-sender"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  completion.outbound_events = {SignalWithReply("receiver", 3),
                                SignalWithReply("nowhere", 4),
                                SignalWithReply("finished", 5)};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  // One answer per signal, in the sender's inbox, in delivery order.
  std::optional<core::WorkflowTask> answers =
      Poll(*store_, {"q-sender"}, kSomething);
  ASSERT_TRUE(answers.has_value());
  ASSERT_EQ(answers->new_events.size(), 3u);
  EXPECT_EQ(
      answers->new_events[0].signal_external_delivered().scheduled_event_id(),
      3);
  EXPECT_EQ(
      answers->new_events[1].signal_external_failed().scheduled_event_id(), 4);
  EXPECT_EQ(
      answers->new_events[2].signal_external_failed().scheduled_event_id(), 5);
  std::optional<core::WorkflowTask> received =
      Poll(*store_, {"q-receiver"}, kSomething);
  ASSERT_TRUE(received.has_value());
  ASSERT_EQ(received->new_events.size(), 2u);
  EXPECT_EQ(received->new_events[1].signal_received().signal_name(), "hello");
  EXPECT_FALSE(Poll(*store_, {"q-finished"}).has_value());

  // A sender that finishes in the same commit gets no answer; the signal is
  // still delivered.
  ASSERT_TRUE(
      store_->CompleteWorkflowTask(*received, Continue(*received)).ok());
  core::WorkflowTaskCompletion last = Finish(*answers, "done");
  last.outbound_events = {SignalWithReply("receiver", 9)};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*answers, last).ok());
  received = Poll(*store_, {"q-receiver"}, kSomething);
  ASSERT_TRUE(received.has_value());
  ASSERT_EQ(received->new_events.size(), 1u);
  EXPECT_TRUE(received->new_events[0].has_signal_received());
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q-sender"), 0);
  auto sender = store_->GetWorkflowInstanceState("sender");
  ASSERT_TRUE(sender.ok()) << sender.status();
  EXPECT_EQ(sender->state(), v1::WORKFLOW_STATE_FINISHED);
}

TEST_P(StoreContractTest, DelayedOutboundEventBecomesVisibleLater) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  v1::HistoryEvent fired;
  fired.mutable_timer_fired()->set_scheduled_event_id(1);
  completion.outbound_events = {core::OutboundEvent{
      "i1", task->execution_id, fired, absl::Now() + absl::Seconds(2)}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  // Not visible yet...
  EXPECT_FALSE(Poll(*store_).has_value());
  // ...then a blocked poller gets it when it becomes due.
  std::optional<core::WorkflowTask> timer_task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(timer_task.has_value());
  EXPECT_EQ(timer_task->history_length, 2);
  ASSERT_EQ(timer_task->new_events.size(), 1u);
  EXPECT_EQ(timer_task->new_events[0].timer_fired().scheduled_event_id(), 1);
}

// A task consumes the events it was handed and no others: an older event
// that was not visible yet when the task was taken (a timer that fires
// later) stays in the inbox for a later task.
TEST_P(StoreContractTest, CompletionLeavesEventsThatWereNotVisibleYet) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion waiting = Continue(*task);
  v1::HistoryEvent fired;
  fired.mutable_timer_fired()->set_scheduled_event_id(1);
  waiting.outbound_events = {core::OutboundEvent{
      "i1", task->execution_id, fired, absl::Now() + absl::Seconds(2)}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, waiting).ok());

  // A signal, newer than the timer firing, wakes a task first.
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("s")).ok());
  std::optional<core::WorkflowTask> signaled = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(signaled.has_value());
  int timers = 0;
  for (const v1::HistoryEvent& event : signaled->new_events) {
    if (event.has_timer_fired()) ++timers;
  }
  ASSERT_TRUE(
      store_->CompleteWorkflowTask(*signaled, Continue(*signaled)).ok());
  // Unless this machine was slow enough for the timer to be due already (then
  // the signal's task had it), a later task gets it when it becomes due.
  if (timers == 0) {
    std::optional<core::WorkflowTask> later = Poll(*store_, {}, kSomething);
    ASSERT_TRUE(later.has_value())
        << "the timer firing, not yet visible when the signal's task was "
           "taken, was consumed with that task";
    for (const v1::HistoryEvent& event : later->new_events) {
      if (event.has_timer_fired()) ++timers;
    }
  }
  EXPECT_EQ(timers, 1);
}

TEST_P(StoreContractTest, CanceledEventKeyWithdrawsPendingEvent) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  v1::HistoryEvent fired;
  fired.mutable_timer_fired()->set_scheduled_event_id(1);
  core::OutboundEvent timer{"i1", task->execution_id, fired,
                            absl::Now() + absl::Milliseconds(500)};
  timer.key = "timer/1";
  completion.outbound_events = {timer};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  // A later task (woken by a signal) cancels the timer...
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("stop")).ok());
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->new_events.size(), 1u);
  core::WorkflowTaskCompletion cancel = Continue(*next);
  cancel.canceled_event_keys = {"timer/1", "timer/unknown"};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*next, cancel).ok());

  // ...so nothing becomes due: no task even well after the fire time.
  EXPECT_FALSE(Poll(*store_, {}, absl::Milliseconds(1500)).has_value());
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, core::kDefaultQueue), 0);
}

// Withdrawing a key removes the withdrawing execution's own pending event
// only: another instance's event under the same key still arrives.
TEST_P(StoreContractTest, WithdrawnKeyLeavesOtherInstancesAlone) {
  for (const char* name : {"a", "b"}) {
    const std::string id = name;
    Create(*store_, id, "e1", "q-" + id);
    std::optional<core::WorkflowTask> task =
        Poll(*store_, {"q-" + id}, kSomething);
    ASSERT_TRUE(task.has_value());
    core::WorkflowTaskCompletion completion = Continue(*task);
    v1::HistoryEvent fired;
    fired.mutable_timer_fired()->set_scheduled_event_id(1);
    core::OutboundEvent timer{id, "e1", fired,
                              absl::Now() + absl::Milliseconds(300)};
    timer.key = "timer/1";
    completion.outbound_events = {timer};
    ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  }
  // "a" cancels its timer.
  ASSERT_TRUE(store_->DeliverWorkflowEvent("a", Signal("stop")).ok());
  std::optional<core::WorkflowTask> next = Poll(*store_, {"q-a"}, kSomething);
  ASSERT_TRUE(next.has_value());
  core::WorkflowTaskCompletion cancel = Continue(*next);
  cancel.canceled_event_keys = {"timer/1"};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*next, cancel).ok());

  // "b"'s timer fires all the same.
  std::optional<core::WorkflowTask> fired = Poll(*store_, {"q-b"}, kSomething);
  ASSERT_TRUE(fired.has_value())
      << "withdrawing \"timer/1\" of \"a\" withdrew the one of \"b\"";
  ASSERT_EQ(fired->new_events.size(), 1u);
  EXPECT_TRUE(fired->new_events[0].has_timer_fired());
}

TEST_P(StoreContractTest, ContinueAsNewStartsNextExecution) {
  Create(*store_, "i1", "e1", "q1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {"q1"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  completion.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
  v1::HistoryEvent next_started = Started("wf", "q1", task->metadata);
  next_started.mutable_workflow_execution_started()
      ->set_continued_from_execution_id("e1");
  completion.outbound_events = {
      core::OutboundEvent{"i1", "e2", next_started, absl::InfinitePast()}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->execution_id(), "e2");
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);
  std::optional<core::WorkflowTask> next = Poll(*store_, {"q1"}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->execution_id, "e2");
  EXPECT_EQ(next->history_length, 0);
  EXPECT_EQ(next->metadata.at("k"), "v");
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0]
                .workflow_execution_started()
                .continued_from_execution_id(),
            "e1");
  // The previous execution keeps its history.
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 2u);
}

TEST_P(StoreContractTest, ContinueAsNewCarriesEventsThatArrivedInFlight) {
  for (bool remove_previous : {false, true}) {
    SCOPED_TRACE(remove_previous ? "removing previous executions"
                                 : "keeping previous executions");
    const std::string id = remove_previous ? "i2" : "i1";
    Create(*store_, id, "e1", "q1");
    std::optional<core::WorkflowTask> task = Poll(*store_, {"q1"}, kSomething);
    ASSERT_TRUE(task.has_value());
    // A timer of the first execution that fires later: it must not follow
    // the instance into the next execution.
    {
      core::WorkflowTaskCompletion waiting = Continue(*task);
      v1::HistoryEvent fired;
      fired.mutable_timer_fired()->set_scheduled_event_id(1);
      waiting.outbound_events = {core::OutboundEvent{
          id, "e1", fired, absl::Now() + absl::Milliseconds(300), "timer/1"}};
      ASSERT_TRUE(store_->CompleteWorkflowTask(*task, waiting).ok());
    }
    ASSERT_TRUE(store_->DeliverWorkflowEvent(id, Signal("consumed")).ok());
    task = Poll(*store_, {"q1"}, kSomething);
    ASSERT_TRUE(task.has_value());
    ASSERT_EQ(task->new_events.size(), 1u);
    // Accepted while the task that continues as new is in flight.
    ASSERT_TRUE(store_->DeliverWorkflowEvent(id, Signal("first")).ok());
    ASSERT_TRUE(store_->DeliverWorkflowEvent(id, Cancel("stop")).ok());
    ASSERT_TRUE(store_->DeliverWorkflowEvent(id, Signal("second")).ok());

    core::WorkflowTaskCompletion completion = Continue(*task);
    completion.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
    completion.next_execution_id = "e2";
    completion.remove_previous_executions = remove_previous;
    v1::HistoryEvent next_started = Started("wf", "q1");
    next_started.mutable_workflow_execution_started()
        ->set_continued_from_execution_id("e1");
    // Delivered by the commit itself (e.g. signals the code had not
    // received): these come before what was still in the inbox.
    completion.outbound_events = {
        core::OutboundEvent{id, "e2", next_started, absl::InfinitePast()},
        core::OutboundEvent{id, "e2", Signal("unreceived"),
                            absl::InfinitePast()}};
    ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

    std::optional<core::WorkflowTask> next = Poll(*store_, {"q1"}, kSomething);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->execution_id, "e2");
    std::vector<std::string> kinds;
    for (const v1::HistoryEvent& event : next->new_events) {
      if (event.has_signal_received()) {
        kinds.push_back(event.signal_received().signal_name());
      } else if (event.has_workflow_execution_canceled()) {
        kinds.push_back("cancel:" +
                        event.workflow_execution_canceled().reason());
      } else {
        kinds.push_back(event.has_workflow_execution_started() ? "started"
                                                               : "other");
      }
    }
    EXPECT_THAT(kinds, ElementsAre("started", "unreceived", "first",
                                   "cancel:stop", "second"));
    ASSERT_TRUE(store_->CompleteWorkflowTask(*next, Continue(*next)).ok());
    // The first execution's timer firing ended with it: the next execution,
    // still active, never gets it.
    EXPECT_FALSE(Poll(*store_, {"q1"}, absl::Milliseconds(600)).has_value());
  }
}

// Executed events continue the history: history_length + 1, + 2, ...
TEST_P(StoreContractTest, ExecutedEventIdsMustContinueHistory) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion;
  completion.executed_events = {TaskStarted(5)};
  EXPECT_EQ(store_->CompleteWorkflowTask(*task, completion).code(),
            absl::StatusCode::kInvalidArgument);
}

// A child start for an instance that already has an active execution leaves
// that execution alone, and the parent learns that its child could not
// start (SubWorkflowFailed of type InstanceAlreadyExists).
TEST_P(StoreContractTest, SubWorkflowStartOfActiveInstanceFailsToParent) {
  Create(*store_, "parent");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  Create(*store_, "child");
  core::WorkflowTaskCompletion completion = Continue(*task);
  v1::HistoryEvent start = Started("subwf");
  v1::WorkflowParent* parent =
      start.mutable_workflow_execution_started()->mutable_parent();
  parent->set_instance_id("parent");
  parent->set_execution_id("e1");
  parent->set_scheduled_event_id(2);
  completion.outbound_events = {
      core::OutboundEvent{"child", "e9", start, absl::InfinitePast()}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  // The existing child execution is untouched...
  auto subwf = store_->GetWorkflowInstanceState("child");
  ASSERT_TRUE(subwf.ok());
  EXPECT_EQ(subwf->execution_id(), "e1");
  // ...and the parent learns that its child could not start.
  std::optional<core::WorkflowTask> parent_task = Poll(*store_, {}, kSomething);
  std::optional<core::WorkflowTask> subwf_task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(parent_task.has_value() && subwf_task.has_value());
  if (parent_task->instance_id != "parent") std::swap(parent_task, subwf_task);
  ASSERT_EQ(parent_task->new_events.size(), 1u);
  const v1::SubWorkflowFailed& failed =
      parent_task->new_events[0].sub_workflow_failed();
  EXPECT_EQ(failed.scheduled_event_id(), 2);
  EXPECT_EQ(failed.failure().type(), "InstanceAlreadyExists");
}

// A start of the execution that is already the instance's active one (its
// start was committed before) is not refused: nothing is written, and the
// parent is not told that its child could not start.
TEST_P(StoreContractTest, RepeatedStartOfTheActiveExecutionIsNotRefused) {
  Create(*store_, "parent", "e1", "q-parent");
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {"q-parent"}, kSomething);
  ASSERT_TRUE(task.has_value());
  Create(*store_, "child", "c1", "q-child");
  core::WorkflowTaskCompletion completion = Continue(*task);
  v1::HistoryEvent start = Started("wf", "q-child");
  v1::WorkflowParent* parent =
      start.mutable_workflow_execution_started()->mutable_parent();
  parent->set_instance_id("parent");
  parent->set_execution_id("e1");
  parent->set_scheduled_event_id(2);
  completion.outbound_events = {
      core::OutboundEvent{"child", "c1", start, absl::InfinitePast()}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  EXPECT_FALSE(Poll(*store_, {"q-parent"}).has_value())
      << "the parent was told that its running child could not start";
  auto executions = store_->ListWorkflowExecutions("child");
  ASSERT_TRUE(executions.ok()) << executions.status();
  ASSERT_EQ(executions->size(), 1u);
  EXPECT_EQ((*executions)[0].execution_id(), "c1");
  std::optional<core::WorkflowTask> subwf =
      Poll(*store_, {"q-child"}, kSomething);
  ASSERT_TRUE(subwf.has_value());
  EXPECT_EQ(subwf->new_events.size(), 1u);  // Its own started event only.
}

// A child start naming an execution that exists already, and has ended, is
// refused like one whose instance is active: nothing is written, and the
// parent learns that its child could not start. Creating that execution
// again is ALREADY_EXISTS.
TEST_P(StoreContractTest, StartOfAnEndedExecutionIsRefused) {
  CreateAndFinish(*store_, "child", "q-child");
  EXPECT_EQ(store_
                ->CreateWorkflowInstance(Instance("child", "e1"),
                                         Started("wf", "q-child"))
                .code(),
            absl::StatusCode::kAlreadyExists);
  Create(*store_, "parent", "e1", "q-parent");
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {"q-parent"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  v1::HistoryEvent start = Started("wf", "q-child");
  v1::WorkflowParent* parent =
      start.mutable_workflow_execution_started()->mutable_parent();
  parent->set_instance_id("parent");
  parent->set_execution_id("e1");
  parent->set_scheduled_event_id(2);
  completion.outbound_events = {
      core::OutboundEvent{"child", "e1", start, absl::InfinitePast()}};
  absl::Status committed = store_->CompleteWorkflowTask(*task, completion);
  ASSERT_TRUE(committed.ok()) << committed;

  auto executions = store_->ListWorkflowExecutions("child");
  ASSERT_TRUE(executions.ok()) << executions.status();
  ASSERT_EQ(executions->size(), 1u);
  EXPECT_EQ((*executions)[0].state(), v1::WORKFLOW_STATE_FINISHED);
  EXPECT_FALSE(Poll(*store_, {"q-child"}).has_value());
  std::optional<core::WorkflowTask> parent_task =
      Poll(*store_, {"q-parent"}, kSomething);
  ASSERT_TRUE(parent_task.has_value());
  ASSERT_EQ(parent_task->new_events.size(), 1u);
  const v1::SubWorkflowFailed& failed =
      parent_task->new_events[0].sub_workflow_failed();
  EXPECT_EQ(failed.scheduled_event_id(), 2);
  EXPECT_EQ(failed.failure().type(), "InstanceAlreadyExists");
}

// Outbound events for an instance, or an execution, that is not active are
// dropped: they create nothing and wake nobody.
TEST_P(StoreContractTest, OutboundEventsForInactiveInstancesAreDropped) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  completion.outbound_events = {
      core::OutboundEvent{"unknown", "", Signal("x"), absl::InfinitePast()},
      core::OutboundEvent{"i1", "no-such-execution", Signal("y"),
                          absl::InfinitePast()}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  EXPECT_FALSE(Poll(*store_).has_value());
  EXPECT_EQ(store_->GetWorkflowInstanceState("unknown").status().code(),
            absl::StatusCode::kNotFound);
}

// Runs the first task of `id` (execution e1 on `queue`) and continues it as
// new as execution e2, keeping e1; returns with e2's first task completed.
void ContinueOnce(core::Store& store, const std::string& id,
                  const std::string& queue) {
  Create(store, id, "e1", queue);
  std::optional<core::WorkflowTask> task = Poll(store, {queue}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  completion.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
  completion.next_execution_id = "e2";
  completion.outbound_events = {core::OutboundEvent{
      id, "e2", Started("wf", queue), absl::InfinitePast()}};
  ASSERT_TRUE(store.CompleteWorkflowTask(*task, completion).ok());
  task = Poll(store, {queue}, kSomething);
  ASSERT_TRUE(task.has_value());
  ASSERT_EQ(task->execution_id, "e2");
  ASSERT_TRUE(store.CompleteWorkflowTask(*task, Continue(*task)).ok());
}

// An event for an instance without an execution id goes to its newest
// active execution, not to an earlier one that continued as new.
TEST_P(StoreContractTest, EventsWithoutExecutionGoToTheActiveExecution) {
  ContinueOnce(*store_, "target", "q-target");
  Create(*store_, "sender", "e1", "q-sender");
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {"q-sender"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  completion.outbound_events = {SignalWithReply("target", 3)};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  std::optional<core::WorkflowTask> received =
      Poll(*store_, {"q-target"}, kSomething);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->execution_id, "e2");
  ASSERT_EQ(received->new_events.size(), 1u);
  EXPECT_EQ(received->new_events[0].signal_received().signal_name(), "hello");
  std::optional<core::WorkflowTask> answer =
      Poll(*store_, {"q-sender"}, kSomething);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->new_events.size(), 1u);
  EXPECT_TRUE(answer->new_events[0].has_signal_external_delivered());
}

// An event for a named execution that has ended is dropped, even though
// the instance has an active execution now, and a waiting sender is told
// that it was not delivered.
TEST_P(StoreContractTest, EventsForAnEndedExecutionAreDropped) {
  ContinueOnce(*store_, "target", "q-target");
  Create(*store_, "sender", "e1", "q-sender");
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {"q-sender"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  core::OutboundEvent signal = SignalWithReply("target", 3);
  signal.execution_id = "e1";
  completion.outbound_events = {signal};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  std::optional<core::WorkflowTask> answer =
      Poll(*store_, {"q-sender"}, kSomething);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->new_events.size(), 1u);
  EXPECT_TRUE(answer->new_events[0].has_signal_external_failed())
      << answer->new_events[0].ShortDebugString();
  EXPECT_FALSE(Poll(*store_, {"q-target"}).has_value());
}

// Continue-as-new with remove_previous_executions deletes every earlier
// execution of the instance (rows and histories), the one that ends
// included; the next execution is all that is left.
TEST_P(StoreContractTest, ContinueAsNewWithRemovalDeletesEarlierExecutions) {
  ContinueOnce(*store_, "i1", "q1");
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("again")).ok());
  std::optional<core::WorkflowTask> task = Poll(*store_, {"q1"}, kSomething);
  ASSERT_TRUE(task.has_value());
  ASSERT_EQ(task->execution_id, "e2");
  core::WorkflowTaskCompletion completion = Continue(*task);
  completion.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
  completion.next_execution_id = "e3";
  completion.remove_previous_executions = true;
  completion.outbound_events = {core::OutboundEvent{
      "i1", "e3", Started("wf", "q1"), absl::InfinitePast()}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  auto executions = store_->ListWorkflowExecutions("i1");
  ASSERT_TRUE(executions.ok()) << executions.status();
  ASSERT_EQ(executions->size(), 1u);
  EXPECT_EQ((*executions)[0].execution_id(), "e3");
  EXPECT_EQ((*executions)[0].state(), v1::WORKFLOW_STATE_ACTIVE);
  for (const char* execution : {"e1", "e2"}) {
    EXPECT_EQ(store_->GetWorkflowHistory("i1", execution).status().code(),
              absl::StatusCode::kNotFound)
        << execution;
  }
  std::optional<core::WorkflowTask> next = Poll(*store_, {"q1"}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->execution_id, "e3");
}

// --- Delivering events (signals, cancellation) -------------------------------

TEST_P(StoreContractTest, DeliveringToUnknownInstanceIsNotFound) {
  absl::Status signal = store_->DeliverWorkflowEvent("nope", Signal("s"));
  EXPECT_EQ(signal.code(), absl::StatusCode::kNotFound) << signal;
  EXPECT_THAT(signal.message(), HasSubstr("nope"));
  absl::Status cancel = store_->DeliverWorkflowEvent("nope", Cancel("r"));
  EXPECT_EQ(cancel.code(), absl::StatusCode::kNotFound) << cancel;
  EXPECT_THAT(cancel.message(), HasSubstr("nope"));
}

TEST_P(StoreContractTest, DeliveringToFinishedInstanceIsNotFound) {
  CreateAndFinish(*store_, "i1");
  absl::Status cancel = store_->DeliverWorkflowEvent("i1", Cancel("late"));
  EXPECT_EQ(cancel.code(), absl::StatusCode::kNotFound) << cancel;
  EXPECT_THAT(cancel.message(), HasSubstr("i1"));
  EXPECT_FALSE(Poll(*store_).has_value());
}

// The message says which of the two it was.
TEST_P(StoreContractTest, DeliverToFinishedInstanceSaysNotActive) {
  CreateAndFinish(*store_, "i1");
  absl::Status status = store_->DeliverWorkflowEvent("i1", Signal("s"));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(),
              HasSubstr("workflow instance \"i1\" is not active"));
  status = store_->DeliverWorkflowEvent("nope", Signal("s"));
  EXPECT_THAT(status.message(),
              HasSubstr("workflow instance \"nope\" not found"));
}

TEST_P(StoreContractTest, CancellationShowsUpInNextTask) {
  Create(*store_, "i1", "e1", "q1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {"q1"}, kSomething);
  ASSERT_TRUE(task.has_value());
  // Delivered while the first task is leased: that task's completion must
  // not consume it.
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Cancel("user")).ok());
  EXPECT_FALSE(Poll(*store_, {"q1"}).has_value());  // Still leased.
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, Continue(*task)).ok());

  std::optional<core::WorkflowTask> next = Poll(*store_, {"q1"}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->instance_id, "i1");
  EXPECT_EQ(next->history_length, 2);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].id(), 0);
  ASSERT_TRUE(next->new_events[0].has_workflow_execution_canceled());
  EXPECT_EQ(next->new_events[0].workflow_execution_canceled().reason(), "user");
}

TEST_P(StoreContractTest, SignalsArriveInOrder) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, Continue(*task)).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        store_->DeliverWorkflowEvent("i1", Signal(absl::StrCat("s", i))).ok());
  }
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->new_events.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(next->new_events[i].signal_received().signal_name(),
              absl::StrCat("s", i));
  }
}

// --- Activity tasks
// -----------------------------------------------------------

TEST_P(StoreContractTest, NoActivityTaskWhenEmpty) {
  const absl::Duration timeout = absl::Seconds(1);
  absl::Time start = absl::Now();
  EXPECT_FALSE(PollActivity(*store_, {}, timeout).has_value());
  absl::Duration elapsed = absl::Now() - start;
  EXPECT_GE(elapsed, timeout / 2);
  EXPECT_LT(elapsed, timeout + absl::Seconds(5));
}

TEST_P(StoreContractTest, ActivityTaskOnlyFromQueuesAskedFor) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", "aq1");
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  EXPECT_FALSE(PollActivity(*store_).has_value());  // Only "default".
  EXPECT_FALSE(PollActivity(*store_, {"aq2"}).has_value());
  std::optional<core::ActivityTask> activity =
      PollActivity(*store_, {"aq2", "aq1"}, kSomething);
  ASSERT_TRUE(activity.has_value());
  EXPECT_EQ(activity->queue, "aq1");
  EXPECT_EQ(activity->scheduled_event.activity_scheduled().activity_name(),
            "act");
  // Leased: nobody else gets it.
  EXPECT_FALSE(PollActivity(*store_, {"aq1"}).has_value());
}

TEST_P(StoreContractTest, RetriedActivityReturnsAfterItsDelay) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  std::optional<core::ActivityTask> first =
      PollActivity(*store_, {}, kSomething);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->attempt, 0);
  const absl::Time retry_at = absl::Now() + absl::Milliseconds(400);
  ASSERT_TRUE(store_->RetryActivityTask(*first, 1, retry_at).ok());
  // The old lease is gone; nothing reached the workflow.
  EXPECT_EQ(store_->RetryActivityTask(*first, 2, retry_at).code(),
            absl::StatusCode::kAborted);
  EXPECT_FALSE(Poll(*store_).has_value());
  // Invisible during the backoff, then handed out as the next attempt.
  EXPECT_FALSE(PollActivity(*store_).has_value());
  std::optional<core::ActivityTask> second =
      PollActivity(*store_, {}, kSomething);
  ASSERT_TRUE(second.has_value());
  EXPECT_GE(absl::Now(), retry_at);
  EXPECT_EQ(second->attempt, 1);
  EXPECT_EQ(second->activity_id, first->activity_id);
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, core::kDefaultQueue), 1);
}

TEST_P(StoreContractTest, ActivityResultGoesToOwningInstanceQueue) {
  Create(*store_, "i1", "e1", "wq");
  std::optional<core::WorkflowTask> task = Poll(*store_, {"wq"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", "aq");
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());

  std::optional<core::ActivityTask> activity =
      PollActivity(*store_, {"aq"}, kSomething);
  ASSERT_TRUE(activity.has_value());
  ASSERT_TRUE(store_->ExtendActivityTaskLease(*activity, kLease).ok());
  v1::HistoryEvent result;
  result.mutable_activity_completed()->set_scheduled_event_id(3);
  result.mutable_activity_completed()->mutable_result()->set_data("42");
  ASSERT_TRUE(store_->CompleteActivityTask(*activity, result).ok());

  // Not on the activity's queue...
  EXPECT_FALSE(Poll(*store_, {"aq"}).has_value());
  // ...but in the next workflow task of the instance, on its own queue.
  std::optional<core::WorkflowTask> next = Poll(*store_, {"wq"}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->instance_id, "i1");
  EXPECT_EQ(next->queue, "wq");
  EXPECT_EQ(next->history_length, 3);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].activity_completed().scheduled_event_id(), 3);
  EXPECT_EQ(next->new_events[0].activity_completed().result().data(), "42");
}

TEST_P(StoreContractTest, CompletingAnActivityTwiceIsAborted) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  std::optional<core::ActivityTask> activity =
      PollActivity(*store_, {}, kSomething);
  ASSERT_TRUE(activity.has_value());
  v1::HistoryEvent result;
  result.mutable_activity_failed()->set_scheduled_event_id(3);
  result.mutable_activity_failed()->mutable_failure()->set_message("no");
  ASSERT_TRUE(store_->CompleteActivityTask(*activity, result).ok());
  EXPECT_EQ(store_->CompleteActivityTask(*activity, result).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_->ExtendActivityTaskLease(*activity, kLease).code(),
            absl::StatusCode::kAborted);
  // Exactly one result reached the instance.
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].activity_failed().failure().message(), "no");
}

TEST_P(StoreContractTest, ExpiredActivityLeaseIsTakenOver) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  std::optional<core::ActivityTask> first =
      PollActivity(*store_, {}, kSomething, absl::Milliseconds(100));
  ASSERT_TRUE(first.has_value());
  // Blocks until the first lease expires.
  std::optional<core::ActivityTask> second =
      PollActivity(*store_, {}, kSomething);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->activity_id, first->activity_id);
  EXPECT_NE(second->lease_token, first->lease_token);
  v1::HistoryEvent result;
  result.mutable_activity_completed()->set_scheduled_event_id(3);
  EXPECT_EQ(store_->CompleteActivityTask(*first, result).code(),
            absl::StatusCode::kAborted);
  EXPECT_TRUE(store_->CompleteActivityTask(*second, result).ok());
}

TEST_P(StoreContractTest, ActivityResultForFinishedExecutionIsDropped) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Finish(*task, "early");
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  std::optional<core::ActivityTask> activity =
      PollActivity(*store_, {}, kSomething);
  ASSERT_TRUE(activity.has_value());
  v1::HistoryEvent result;
  result.mutable_activity_completed()->set_scheduled_event_id(4);
  EXPECT_TRUE(store_->CompleteActivityTask(*activity, result).ok());
  EXPECT_FALSE(Poll(*store_).has_value());
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
}

// --- Eager activity dispatch ------------------------------------------------

// An ActivityCompleted result for the activity scheduled at `scheduled_id`.
v1::HistoryEvent ActivityCompleted(int64_t scheduled_id,
                                   const std::string& data) {
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  event.mutable_activity_completed()->set_scheduled_event_id(scheduled_id);
  event.mutable_activity_completed()->mutable_result()->set_data(data);
  return event;
}

// Once an activity's expired lease was taken over, the old lease is lost for
// every call -- extending, retrying, completing -- and the new holder is
// undisturbed.
TEST_P(StoreContractTest, TakenOverActivityLeaseIsLostForEveryCall) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  std::optional<core::ActivityTask> first =
      PollActivity(*store_, {}, kSomething, absl::Milliseconds(100));
  ASSERT_TRUE(first.has_value());
  // Blocks until the first lease expires.
  std::optional<core::ActivityTask> second =
      PollActivity(*store_, {}, kSomething);
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->activity_id, first->activity_id);

  EXPECT_EQ(store_->ExtendActivityTaskLease(*first, kLease).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_->RetryActivityTask(*first, 1, absl::Now()).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(
      store_->CompleteActivityTask(*first, ActivityCompleted(3, "old")).code(),
      absl::StatusCode::kAborted);
  ASSERT_TRUE(store_->ExtendActivityTaskLease(*second, kLease).ok());
  EXPECT_FALSE(PollActivity(*store_).has_value());
  ASSERT_TRUE(
      store_->CompleteActivityTask(*second, ActivityCompleted(3, "new")).ok());
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].activity_completed().result().data(), "new");
}

TEST_P(StoreContractTest, EagerDispatchLeasesFirstActivitiesToCaller) {
  Create(*store_, "i1", "e1", "", {{"k", "v"}});
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act1", "aq");  // Event 3.
  ScheduleActivity(completion, *task, "act2", "aq");  // Event 4.
  completion.eager_activities = 1;
  completion.eager_activity_lease = kLease;
  const absl::Time before = absl::Now();
  core::WorkflowTaskCommitResult result;
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion, &result).ok());
  const absl::Time after = absl::Now();
  EXPECT_TRUE(result.workflow_task_committed);

  // The first activity comes back leased, complete as a poll would return it.
  ASSERT_EQ(result.eager_activities.size(), 1u);
  const core::ActivityTask& eager = result.eager_activities[0];
  EXPECT_EQ(eager.activity_id, "e1:3");
  EXPECT_EQ(eager.instance_id, "i1");
  EXPECT_EQ(eager.execution_id, "e1");
  EXPECT_EQ(eager.queue, "aq");
  EXPECT_TRUE(MessageDifferencer::Equals(eager.scheduled_event,
                                         completion.executed_events[2]))
      << eager.scheduled_event.ShortDebugString();
  EXPECT_EQ(eager.attempt, 0);
  EXPECT_EQ(eager.metadata, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_GE(absl::ToUnixMicros(eager.scheduled_at), absl::ToUnixMicros(before));
  EXPECT_LE(eager.scheduled_at, after);
  EXPECT_FALSE(eager.lease_token.empty());

  // Both count as pending, the leased one included.
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 2);

  // Pollers get only the other one.
  std::optional<core::ActivityTask> polled =
      PollActivity(*store_, {"aq"}, kSomething);
  ASSERT_TRUE(polled.has_value());
  EXPECT_EQ(polled->scheduled_event.id(), 4);
  EXPECT_EQ(polled->scheduled_event.activity_scheduled().activity_name(),
            "act2");
  EXPECT_NE(polled->lease_token, eager.lease_token);
  EXPECT_FALSE(PollActivity(*store_, {"aq"}).has_value());

  // The eager lease is a real one: it extends and completes the activity,
  // and the result reaches the instance.
  ASSERT_TRUE(store_->ExtendActivityTaskLease(eager, kLease).ok());
  ASSERT_TRUE(
      store_->CompleteActivityTask(eager, ActivityCompleted(3, "r1")).ok());
  EXPECT_EQ(
      store_->CompleteActivityTask(eager, ActivityCompleted(3, "r1")).code(),
      absl::StatusCode::kAborted);
  stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 1);
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->history_length, 4);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].activity_completed().scheduled_event_id(), 3);
  EXPECT_EQ(next->new_events[0].activity_completed().result().data(), "r1");
}

TEST_P(StoreContractTest, EagerDispatchIsClampedToScheduledActivities) {
  Create(*store_, "more", "e1", "q-more");
  // Activity ids are "<execution_id>:<event id>": distinct executions.
  Create(*store_, "negative", "e2", "q-negative");

  // More than scheduled: all of them, in order, each with its own lease.
  std::optional<core::WorkflowTask> task =
      Poll(*store_, {"q-more"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act1", "aq");
  ScheduleActivity(completion, *task, "act2", "aq");
  completion.eager_activities = 5;
  completion.eager_activity_lease = kLease;
  core::WorkflowTaskCommitResult result;
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion, &result).ok());
  EXPECT_TRUE(result.workflow_task_committed);
  ASSERT_EQ(result.eager_activities.size(), 2u);
  EXPECT_EQ(result.eager_activities[0].scheduled_event.id(), 3);
  EXPECT_EQ(result.eager_activities[1].scheduled_event.id(), 4);
  EXPECT_NE(result.eager_activities[0].lease_token,
            result.eager_activities[1].lease_token);
  EXPECT_FALSE(PollActivity(*store_, {"aq"}).has_value());
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 2);

  // Negative: none; the activity is queued for pollers.
  task = Poll(*store_, {"q-negative"}, kSomething);
  ASSERT_TRUE(task.has_value());
  completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", "aq2");
  completion.eager_activities = -3;
  completion.eager_activity_lease = kLease;
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion, &result).ok());
  EXPECT_TRUE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());
  EXPECT_TRUE(PollActivity(*store_, {"aq2"}, kSomething).has_value());
}

TEST_P(StoreContractTest, EagerDispatchWithoutResultQueuesEverything) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", "aq");
  completion.eager_activities = 1;
  completion.eager_activity_lease = kLease;
  // Nobody could receive an eagerly leased task: it is queued instead.
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion, nullptr).ok());
  std::optional<core::ActivityTask> polled =
      PollActivity(*store_, {"aq"}, kSomething);
  ASSERT_TRUE(polled.has_value());
  EXPECT_EQ(polled->scheduled_event.id(), 3);
  EXPECT_EQ(polled->attempt, 0);
}

// Continue-as-new removing previous executions deletes this execution's
// activities too, so it hands out no eager tasks for them.
TEST_P(StoreContractTest, ContinueAsNewWithRemovalReturnsNoEagerTasks) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  completion.eager_activities = 1;
  completion.eager_activity_lease = kLease;
  completion.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
  completion.remove_previous_executions = true;
  completion.outbound_events = {
      core::OutboundEvent{"i1", "e2", Started("wf"), absl::InfinitePast()}};
  core::WorkflowTaskCommitResult result;
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion, &result).ok());
  EXPECT_TRUE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(Total(stats->pending_activity_tasks), 0);
}

// --- The fused step: activity result + workflow task in one commit ----------

// Creates `id` (execution "e1", default queue) and runs its first workflow
// task, which schedules activity "act" as event 3 on the default queue; returns
// the leased activity, leased eagerly by that completion or polled.
std::optional<core::ActivityTask> StartWithActivity(core::Store& store,
                                                    const std::string& id,
                                                    bool eager) {
  Create(store, id);
  std::optional<core::WorkflowTask> task = Poll(store, {}, kSomething);
  EXPECT_TRUE(task.has_value());
  if (!task.has_value()) return std::nullopt;
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", core::kDefaultQueue);
  completion.eager_activities = eager ? 1 : 0;
  completion.eager_activity_lease = kLease;
  core::WorkflowTaskCommitResult result;
  absl::Status status = store.CompleteWorkflowTask(*task, completion, &result);
  EXPECT_TRUE(status.ok()) << status;
  if (!status.ok()) return std::nullopt;
  if (!eager) return PollActivity(store, {}, kSomething);
  EXPECT_EQ(result.eager_activities.size(), 1u);
  if (result.eager_activities.size() != 1) return std::nullopt;
  return result.eager_activities[0];
}

// The unleased workflow task a worker runs on its cached copy of the run
// (`history_length` events long) when `activity`'s result wakes it.
core::WorkflowTask CachedTask(const core::ActivityTask& activity,
                              int64_t history_length) {
  core::WorkflowTask task;
  task.instance_id = activity.instance_id;
  task.execution_id = activity.execution_id;
  task.queue = core::kDefaultQueue;
  task.history_length = history_length;
  task.metadata = activity.metadata;
  return task;
}

// What the worker appends for that task: WorkflowTaskStarted, then the
// activity's result.
core::WorkflowTaskCompletion FusedCompletion(
    const core::WorkflowTask& task, const v1::HistoryEvent& activity_result) {
  core::WorkflowTaskCompletion completion;
  completion.executed_events = {TaskStarted(task.history_length + 1),
                                activity_result};
  completion.executed_events.back().set_id(task.history_length + 2);
  completion.completed_at = absl::Now();
  return completion;
}

// ...and then finishes the workflow with `data`.
core::WorkflowTaskCompletion FusedFinish(
    const core::WorkflowTask& task, const v1::HistoryEvent& activity_result,
    const std::string& data) {
  core::WorkflowTaskCompletion completion =
      FusedCompletion(task, activity_result);
  completion.executed_events.push_back(Finished(task.history_length + 3, data));
  completion.state = v1::WORKFLOW_STATE_FINISHED;
  v1::WorkflowResult result;
  result.mutable_result()->set_data(data);
  completion.result = result;
  return completion;
}

// A result that claims committed eager tasks, to see it overwritten.
core::WorkflowTaskCommitResult StaleResult(bool committed) {
  core::WorkflowTaskCommitResult result;
  result.workflow_task_committed = committed;
  result.eager_activities.emplace_back().activity_id = "stale";
  return result;
}

TEST_P(StoreContractTest, FusedStepCommitsActivityAndWorkflowTask) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/true);
  ASSERT_TRUE(activity.has_value());
  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  const core::WorkflowTaskCompletion completion =
      FusedFinish(cached, activity_result, "done");
  core::WorkflowTaskCommitResult result = StaleResult(false);
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached, completion, &result)
                  .ok());
  EXPECT_TRUE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());

  // History: the first task's three events, then the fused task's three.
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 6u);
  for (size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].id(), static_cast<int64_t>(i + 1));
  }
  for (size_t i = 0; i < completion.executed_events.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals((*history)[3 + i],
                                           completion.executed_events[i]))
        << "event " << 4 + i << ": " << (*history)[3 + i].ShortDebugString();
  }
  EXPECT_TRUE((*history)[3].has_workflow_task_started());
  EXPECT_EQ((*history)[4].activity_completed().result().data(), "42");
  EXPECT_TRUE((*history)[5].has_workflow_execution_finished());

  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
  EXPECT_EQ(state->result().result().data(), "done");
  EXPECT_GT(state->finished_at_unix_us(), 0);

  // The activity is gone and its result was not left in the inbox.
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->active_instances, 0);
  EXPECT_TRUE(stats->pending_activity_tasks.empty());
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, core::kDefaultQueue), 0);
  EXPECT_FALSE(Poll(*store_).has_value());
  EXPECT_EQ(store_->CompleteActivityTask(*activity, activity_result).code(),
            absl::StatusCode::kAborted);
}

TEST_P(StoreContractTest, FusedStepLeavesEventsThatArrivedMeanwhile) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/false);
  ASSERT_TRUE(activity.has_value());
  // A signal arrives while the activity runs; nobody has taken it yet.
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("meanwhile")).ok());
  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  core::WorkflowTaskCommitResult result;
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached,
                      FusedCompletion(cached, activity_result), &result)
                  .ok());
  EXPECT_TRUE(result.workflow_task_committed);
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 5u);
  EXPECT_EQ((*history)[4].activity_completed().scheduled_event_id(), 3);

  // The signal waits for the next task, which continues the new history and
  // does not see the activity result a second time.
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->history_length, 5);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].signal_received().signal_name(), "meanwhile");
}

TEST_P(StoreContractTest, FusedStepRefusedWhileInstanceIsLeased) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/false);
  ASSERT_TRUE(activity.has_value());
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("s")).ok());
  std::optional<core::WorkflowTask> leased = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(leased.has_value());
  ASSERT_EQ(leased->history_length, 3);

  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  core::WorkflowTaskCompletion completion =
      FusedCompletion(cached, activity_result);
  // Asks for a next activity eagerly: nothing of the completion is written.
  ScheduleActivity(completion, cached, "next", "aq");
  completion.eager_activities = 1;
  completion.eager_activity_lease = kLease;
  core::WorkflowTaskCommitResult result = StaleResult(true);
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached, completion, &result)
                  .ok());
  EXPECT_FALSE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 3u);
  // The activity is done (its lease is gone) and "next" was not scheduled.
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(stats->pending_activity_tasks.empty());
  EXPECT_EQ(store_->CompleteActivityTask(*activity, activity_result).code(),
            absl::StatusCode::kAborted);

  // The lease holder is undisturbed; its next task has the result.
  ASSERT_TRUE(
      store_->CompleteWorkflowTask(*leased, Continue(*leased), nullptr).ok());
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->history_length, 5);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].activity_completed().scheduled_event_id(), 3);
  EXPECT_EQ(next->new_events[0].activity_completed().result().data(), "42");
}

TEST_P(StoreContractTest, FusedStepRefusedWhenHistoryMovedOn) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/true);
  ASSERT_TRUE(activity.has_value());
  // Another task ran meanwhile (a signal): history is 5 events long now.
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("s")).ok());
  std::optional<core::WorkflowTask> other = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(store_->CompleteWorkflowTask(*other, Continue(*other)).ok());

  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  core::WorkflowTaskCommitResult result = StaleResult(true);
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached,
                      FusedFinish(cached, activity_result, "stale"), &result)
                  .ok());
  EXPECT_FALSE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 5u);
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);

  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->history_length, 5);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].activity_completed().scheduled_event_id(), 3);
}

TEST_P(StoreContractTest, FusedStepTakesOverAnExpiredWorkflowLease) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/false);
  ASSERT_TRUE(activity.has_value());
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("s")).ok());
  std::optional<core::WorkflowTask> expired =
      Poll(*store_, {}, kSomething, absl::Milliseconds(100));
  ASSERT_TRUE(expired.has_value());
  absl::SleepFor(absl::Milliseconds(300));

  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  core::WorkflowTaskCommitResult result;
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached,
                      FusedCompletion(cached, activity_result), &result)
                  .ok());
  EXPECT_TRUE(result.workflow_task_committed);
  // The expired lease is lost; its signal waits for the next task.
  EXPECT_EQ(store_->CompleteWorkflowTask(*expired, Continue(*expired)).code(),
            absl::StatusCode::kAborted);
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 5u);
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->history_length, 5);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].signal_received().signal_name(), "s");
}

// The fused step never commits on an execution that has ended, even when
// the caller's copy has its whole history: the activity's result is dropped
// as for any ended execution.
TEST_P(StoreContractTest, FusedStepRefusedWhenExecutionEnded) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion finish = Finish(*task, "early");
  ScheduleActivity(finish, *task, "act", core::kDefaultQueue);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, finish).ok());
  std::optional<core::ActivityTask> activity =
      PollActivity(*store_, {}, kSomething);
  ASSERT_TRUE(activity.has_value());

  const core::WorkflowTask cached = CachedTask(*activity, 4);
  const v1::HistoryEvent activity_result = ActivityCompleted(4, "42");
  core::WorkflowTaskCommitResult result = StaleResult(true);
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached,
                      FusedCompletion(cached, activity_result), &result)
                  .ok());
  EXPECT_FALSE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 4u);
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
  EXPECT_EQ(state->result().result().data(), "early");
  EXPECT_FALSE(Poll(*store_).has_value());
  EXPECT_EQ(store_->CompleteActivityTask(*activity, activity_result).code(),
            absl::StatusCode::kAborted);
}

// Committing a workflow task ends a pending retry delay of an abandoned
// task and clears its failure, the fused step's commit too: the events
// waiting in the inbox are ready at once, not when the delay would have
// ended.
TEST_P(StoreContractTest, FusedStepEndsARetryDelay) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/true);
  ASSERT_TRUE(activity.has_value());
  ASSERT_TRUE(store_->DeliverWorkflowEvent("i1", Signal("waiting")).ok());
  std::optional<core::WorkflowTask> failing = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(failing.has_value());
  ASSERT_EQ(failing->history_length, 3);
  v1::WorkflowTaskFailure failure;
  failure.set_message("boom");
  ASSERT_TRUE(
      store_->AbandonWorkflowTask(*failing, failure, absl::Hours(1)).ok());

  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  core::WorkflowTaskCommitResult result;
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached,
                      FusedCompletion(cached, activity_result), &result)
                  .ok());
  ASSERT_TRUE(result.workflow_task_committed);
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_FALSE(state->has_last_task_failure());

  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value())
      << "the abandoned task's retry delay outlived the fused step's commit";
  EXPECT_EQ(next->history_length, 5);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].signal_received().signal_name(), "waiting");
}

TEST_P(StoreContractTest, FusedStepWithLostActivityLeaseWritesNothing) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/true);
  ASSERT_TRUE(activity.has_value());
  core::ActivityTask stale = *activity;
  stale.lease_token = "not-the-token";
  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  core::WorkflowTaskCommitResult result;
  absl::Status status = store_->CompleteActivityWithWorkflowTask(
      stale, activity_result, cached,
      FusedFinish(cached, activity_result, "done"), &result);
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;

  // Neither the workflow task nor the activity result was written.
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 3u);
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_FALSE(Poll(*store_).has_value());
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, core::kDefaultQueue), 1);

  // The real lease still completes the activity.
  ASSERT_TRUE(store_->CompleteActivityTask(*activity, activity_result).ok());
  std::optional<core::WorkflowTask> next = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].activity_completed().scheduled_event_id(), 3);
}

TEST_P(StoreContractTest, FusedStepCanDispatchNextActivityEagerly) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/true);
  ASSERT_TRUE(activity.has_value());
  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  core::WorkflowTaskCompletion completion =
      FusedCompletion(cached, activity_result);
  ScheduleActivity(completion, cached, "next", "aq");  // Event 6.
  completion.eager_activities = 1;
  completion.eager_activity_lease = kLease;
  core::WorkflowTaskCommitResult result;
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached, completion, &result)
                  .ok());
  EXPECT_TRUE(result.workflow_task_committed);
  ASSERT_EQ(result.eager_activities.size(), 1u);
  const core::ActivityTask next = result.eager_activities[0];
  EXPECT_EQ(next.activity_id, "e1:6");
  EXPECT_EQ(next.instance_id, "i1");
  EXPECT_EQ(next.queue, "aq");
  EXPECT_EQ(next.attempt, 0);
  EXPECT_FALSE(next.lease_token.empty());
  EXPECT_TRUE(MessageDifferencer::Equals(next.scheduled_event,
                                         completion.executed_events[2]));
  EXPECT_FALSE(PollActivity(*store_, {"aq"}).has_value());
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 1);
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, core::kDefaultQueue), 0);

  // The chain goes on: the eager activity's own fused step finishes the run.
  const core::WorkflowTask cached_next = CachedTask(next, 6);
  const v1::HistoryEvent next_result = ActivityCompleted(6, "43");
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      next, next_result, cached_next,
                      FusedFinish(cached_next, next_result, "done"), &result)
                  .ok());
  EXPECT_TRUE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 9u);
  auto state = store_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
}

TEST_P(StoreContractTest, FusedStepWithMisnumberedEventsWritesNothing) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/false);
  ASSERT_TRUE(activity.has_value());
  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  core::WorkflowTaskCompletion completion =
      FusedFinish(cached, activity_result, "done");
  completion.executed_events[1].set_id(7);  // The first one (4) is right.
  core::WorkflowTaskCommitResult result;
  absl::Status status = store_->CompleteActivityWithWorkflowTask(
      *activity, activity_result, cached, completion, &result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;

  // Nothing was written: not even the first event, the activity is still
  // there and its result is not in the inbox.
  auto history = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 3u);
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, core::kDefaultQueue), 1);
  EXPECT_EQ(stats->active_instances, 1);
  EXPECT_FALSE(Poll(*store_).has_value());
  // A correct fused step still works with the same lease.
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached,
                      FusedFinish(cached, activity_result, "done"), &result)
                  .ok());
  EXPECT_TRUE(result.workflow_task_committed);
}

// A commit that fails leaves the caller's WorkflowTaskCommitResult at its
// defaults, whatever it held before: it claims no committed task and no
// eager activities.
TEST_P(StoreContractTest, FailedCommitsLeaveTheResultEmpty) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTask stale = *task;
  stale.lease_token = "not-the-token";
  core::WorkflowTaskCommitResult result = StaleResult(/*committed=*/true);
  EXPECT_EQ(
      store_->CompleteWorkflowTask(stale, Continue(*task), &result).code(),
      absl::StatusCode::kAborted);
  EXPECT_FALSE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());

  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i2", /*eager=*/true);
  ASSERT_TRUE(activity.has_value());
  core::ActivityTask lost = *activity;
  lost.lease_token = "not-the-token";
  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  result = StaleResult(/*committed=*/true);
  EXPECT_EQ(store_
                ->CompleteActivityWithWorkflowTask(
                    lost, activity_result, cached,
                    FusedCompletion(cached, activity_result), &result)
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_FALSE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());
}

// The fused step refuses, writing nothing: no result to report into, an
// activity of another execution than the task's, a completion without a
// state.
TEST_P(StoreContractTest, FusedStepRejectsBadArguments) {
  std::optional<core::ActivityTask> activity =
      StartWithActivity(*store_, "i1", /*eager=*/true);
  ASSERT_TRUE(activity.has_value());
  const core::WorkflowTask cached = CachedTask(*activity, 3);
  const v1::HistoryEvent activity_result = ActivityCompleted(3, "42");
  // No result to report into.
  EXPECT_EQ(store_
                ->CompleteActivityWithWorkflowTask(
                    *activity, activity_result, cached,
                    FusedCompletion(cached, activity_result), nullptr)
                .code(),
            absl::StatusCode::kInvalidArgument);
  // The activity belongs to another execution than the task.
  core::WorkflowTask other = cached;
  other.execution_id = "e2";
  core::WorkflowTaskCommitResult result;
  absl::Status status = store_->CompleteActivityWithWorkflowTask(
      *activity, activity_result, other,
      FusedCompletion(other, activity_result), &result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("e2"));
  // A completion without a state.
  core::WorkflowTaskCompletion no_state =
      FusedCompletion(cached, activity_result);
  no_state.state = v1::WORKFLOW_STATE_UNSPECIFIED;
  EXPECT_EQ(store_
                ->CompleteActivityWithWorkflowTask(*activity, activity_result,
                                                   cached, no_state, &result)
                .code(),
            absl::StatusCode::kInvalidArgument);
  // None of them wrote anything: the lease still works.
  ASSERT_TRUE(store_
                  ->CompleteActivityWithWorkflowTask(
                      *activity, activity_result, cached,
                      FusedCompletion(cached, activity_result), &result)
                  .ok());
  EXPECT_TRUE(result.workflow_task_committed);
}

// --- Reading
// ------------------------------------------------------------------

TEST_P(StoreContractTest, UnknownInstanceIsNotFound) {
  auto state = store_->GetWorkflowInstanceState("nope");
  EXPECT_EQ(state.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(state.status().message(), HasSubstr("nope"));
  EXPECT_EQ(store_->GetWorkflowHistory("nope", "e1").status().code(),
            absl::StatusCode::kNotFound);
  Create(*store_, "i1");
  EXPECT_EQ(store_->GetWorkflowHistory("i1", "other").status().code(),
            absl::StatusCode::kNotFound);
  auto empty = store_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  auto wait = store_->WaitForWorkflowInstanceFinished(
      "nope", absl::Now() + absl::Seconds(1));
  EXPECT_EQ(wait.status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, WaitForFinishedTimesOut) {
  Create(*store_, "i1");
  auto state = store_->WaitForWorkflowInstanceFinished(
      "i1", absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(state.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(state.status().message(), HasSubstr("i1"));
}

TEST_P(StoreContractTest, WaitForFinishedReturnsResult) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  std::thread finisher([&] {
    EXPECT_TRUE(
        store_->CompleteWorkflowTask(*task, Finish(*task, "done")).ok());
  });
  auto state = store_->WaitForWorkflowInstanceFinished(
      "i1", absl::Now() + absl::Seconds(20));
  finisher.join();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
  EXPECT_EQ(state->result().result().data(), "done");
  EXPECT_GT(state->finished_at_unix_us(), 0);
}

// --- Removal ----------------------------------------------------------------

TEST_P(StoreContractTest, RemovingActiveInstanceFailsNotFinished) {
  Create(*store_, "i1");
  absl::Status status = store_->RemoveWorkflowInstance("i1");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("not finished"));
  EXPECT_THAT(status.message(), HasSubstr("i1"));
  // Nothing was removed: the instance still runs.
  EXPECT_TRUE(store_->GetWorkflowInstanceState("i1").ok());
  EXPECT_TRUE(Poll(*store_, {}, kSomething).has_value());
}

TEST_P(StoreContractTest, RemovingUnknownInstanceIsNotFound) {
  absl::Status status = store_->RemoveWorkflowInstance("nope");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(status.message(), HasSubstr("nope"));
}

TEST_P(StoreContractTest, RemovingFinishedInstanceDeletesAllExecutions) {
  CreateAndFinish(*store_, "i1");
  // A second execution, also finished.
  ASSERT_TRUE(
      store_->CreateWorkflowInstance(Instance("i1", "e2"), Started("wf")).ok());
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, Finish(*task, "again")).ok());
  CreateAndFinish(*store_, "other");

  ASSERT_TRUE(store_->RemoveWorkflowInstance("i1").ok());
  EXPECT_EQ(store_->GetWorkflowInstanceState("i1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetWorkflowHistory("i1", "e1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetWorkflowHistory("i1", "e2").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->RemoveWorkflowInstance("i1").code(),
            absl::StatusCode::kNotFound);
  // Other instances are untouched, and the id can be used again.
  EXPECT_TRUE(store_->GetWorkflowInstanceState("other").ok());
  Create(*store_, "i1", "e3");
  std::optional<core::WorkflowTask> fresh = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->execution_id, "e3");
  EXPECT_EQ(fresh->history_length, 0);
}

TEST_P(StoreContractTest, RemovingFinishedInstancesOlderThanATime) {
  CreateAndFinish(*store_, "old1");
  CreateAndFinish(*store_, "old2");
  absl::Time cutoff = absl::Now();
  WaitUntilAfter(cutoff);
  CreateAndFinish(*store_, "new");
  Create(*store_, "active");

  auto removed = store_->RemoveWorkflowInstances(cutoff);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(store_->GetWorkflowInstanceState("old1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetWorkflowInstanceState("old2").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetWorkflowHistory("old1", "e1").status().code(),
            absl::StatusCode::kNotFound);
  auto kept = store_->GetWorkflowInstanceState("new");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->state(), v1::WORKFLOW_STATE_FINISHED);
  auto history = store_->GetWorkflowHistory("new", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->size(), 3u);
  EXPECT_TRUE(store_->GetWorkflowInstanceState("active").ok());

  // Nothing older is left; a later cutoff takes the rest but never the
  // active instance.
  auto none = store_->RemoveWorkflowInstances(cutoff);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, 0);
  WaitUntilAfter(absl::Now());
  auto rest = store_->RemoveWorkflowInstances(absl::Now());
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, 1);
  auto active = store_->GetWorkflowInstanceState("active");
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_EQ(active->state(), v1::WORKFLOW_STATE_ACTIVE);
}

TEST_P(StoreContractTest, RemovalDeletesPendingActivities) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", "aq");
  completion.state = v1::WORKFLOW_STATE_FINISHED;
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 1);

  ASSERT_TRUE(store_->RemoveWorkflowInstance("i1").ok());
  stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(Total(stats->pending_activity_tasks), 0);
  auto activity = store_->GetActivityTask({"aq"}, kLease, absl::Now(), nullptr);
  ASSERT_TRUE(activity.ok()) << activity.status();
  EXPECT_FALSE(activity->has_value());
}

// An activity that is running when its instance is removed loses its lease:
// its result has nowhere to go.
TEST_P(StoreContractTest, RemovalTakesTheLeaseOfARunningActivity) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", "aq");
  completion.state = v1::WORKFLOW_STATE_FINISHED;
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  std::optional<core::ActivityTask> running =
      PollActivity(*store_, {"aq"}, kSomething);
  ASSERT_TRUE(running.has_value());

  ASSERT_TRUE(store_->RemoveWorkflowInstance("i1").ok());
  EXPECT_EQ(store_->ExtendActivityTaskLease(*running, kLease).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_->CompleteActivityTask(*running, ActivityCompleted(3, "late"))
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_->GetWorkflowInstanceState("i1").status().code(),
            absl::StatusCode::kNotFound);
}

// RemoveWorkflowInstances deletes the activity tasks of the executions it
// removes, as RemoveWorkflowInstance does: queued ones go, and a running
// one loses its lease.
TEST_P(StoreContractTest, RemovingOldInstancesDeletesTheirActivities) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act", "aq");
  ScheduleActivity(completion, *task, "act", "aq");
  completion.state = v1::WORKFLOW_STATE_FINISHED;
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  std::optional<core::ActivityTask> running =
      PollActivity(*store_, {"aq"}, kSomething);
  ASSERT_TRUE(running.has_value());
  const absl::Time cutoff = absl::Now();
  WaitUntilAfter(cutoff);

  auto removed = store_->RemoveWorkflowInstances(cutoff);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(Total(stats->pending_activity_tasks), 0);
  EXPECT_FALSE(PollActivity(*store_, {"aq"}).has_value());
  EXPECT_EQ(store_->ExtendActivityTaskLease(*running, kLease).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_->CompleteActivityTask(*running, ActivityCompleted(3, "late"))
                .code(),
            absl::StatusCode::kAborted);
}

// --- Listing
// ------------------------------------------------------------------

TEST_P(StoreContractTest, ListsInstancesNewestFirstWithCursor) {
  constexpr int kInstances = 50;
  constexpr int kPageSize = 10;
  for (int i = 0; i < kInstances; ++i) {
    Create(*store_, absl::StrCat("i", i), "e1", absl::StrCat("q", i % 3));
  }
  std::vector<v1::WorkflowInstanceState> listed;
  std::string cursor;
  for (int page_number = 0; page_number < kInstances / kPageSize;
       ++page_number) {
    auto page = store_->ListWorkflowInstances(cursor, kPageSize);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->instances.size(), static_cast<size_t>(kPageSize))
        << "page " << page_number;
    listed.insert(listed.end(), page->instances.begin(), page->instances.end());
    if (page_number + 1 < kInstances / kPageSize) {
      ASSERT_FALSE(page->next_cursor.empty()) << "page " << page_number;
    }
    cursor = page->next_cursor;
  }
  // After the fifth page: either its cursor already said "the end", or the
  // page it leads to is empty and says so.
  if (!cursor.empty()) {
    auto last = store_->ListWorkflowInstances(cursor, kPageSize);
    ASSERT_TRUE(last.ok()) << last.status();
    EXPECT_TRUE(last->instances.empty());
    EXPECT_TRUE(last->next_cursor.empty());
  }

  // Every instance exactly once, newest first. Instances created within the
  // same microsecond may come in either order (the tiebreak is the
  // store's), so creation order is only checked where the times differ.
  auto number = [](const v1::WorkflowInstanceState& state) {
    return std::stoi(state.instance_id().substr(1));
  };
  std::set<std::string> ids;
  for (size_t i = 0; i < listed.size(); ++i) {
    ids.insert(listed[i].instance_id());
    if (i == 0) continue;
    EXPECT_LE(listed[i].created_at_unix_us(),
              listed[i - 1].created_at_unix_us())
        << "not newest first at position " << i;
    if (listed[i].created_at_unix_us() < listed[i - 1].created_at_unix_us()) {
      EXPECT_LT(number(listed[i]), number(listed[i - 1]))
          << "not newest first at position " << i;
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kInstances));
  // Entries carry the instance's queue, state and times.
  for (const v1::WorkflowInstanceState& state : listed) {
    EXPECT_EQ(state.queue(), absl::StrCat("q", number(state) % 3));
    EXPECT_EQ(state.state(), v1::WORKFLOW_STATE_ACTIVE);
    EXPECT_EQ(state.workflow_name(), "wf");
    EXPECT_GT(state.created_at_unix_us(), 0);
  }
}

TEST_P(StoreContractTest, ListingShowsLatestExecutionOnly) {
  CreateAndFinish(*store_, "i1");
  ASSERT_TRUE(
      store_->CreateWorkflowInstance(Instance("i1", "e2"), Started("wf")).ok());
  auto page = store_->ListWorkflowInstances("", 10);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->instances.size(), 1u);
  EXPECT_EQ(page->instances[0].execution_id(), "e2");
  EXPECT_EQ(page->instances[0].state(), v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_TRUE(page->next_cursor.empty());
}

TEST_P(StoreContractTest, ListingShowsFinishedState) {
  CreateAndFinish(*store_, "i1");
  auto page = store_->ListWorkflowInstances("", 10);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->instances.size(), 1u);
  const v1::WorkflowInstanceState& state = page->instances[0];
  EXPECT_EQ(state.state(), v1::WORKFLOW_STATE_FINISHED);
  EXPECT_EQ(state.queue(), core::kDefaultQueue);
  EXPECT_GE(state.finished_at_unix_us(), state.created_at_unix_us());
  EXPECT_EQ(state.result().result().data(), "done");
}

TEST_P(StoreContractTest, ListingRejectsBadArguments) {
  Create(*store_, "i1");
  EXPECT_EQ(store_->ListWorkflowInstances("not a cursor", 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListWorkflowInstances("", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto empty = store_->ListWorkflowInstances("", 10);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->instances.size(), 1u);
}

// A cursor is the store's own encoding; a string it never handed out is
// refused as malformed rather than read as some position. A full page
// carries a cursor even when nothing follows (admin_store.h).
TEST_P(StoreContractTest, MalformedListCursorsAreInvalid) {
  Create(*store_, "i1");
  for (const char* cursor : {"x", "not a cursor"}) {
    absl::StatusOr<core::WorkflowInstancePage> page =
        store_->ListWorkflowInstances(cursor, 10);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument)
        << cursor;
    EXPECT_THAT(page.status().message(), HasSubstr("malformed cursor"));
  }
  // A full page carries a cursor even when nothing follows.
  auto page = store_->ListWorkflowInstances("", 1);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->instances.size(), 1u);
  ASSERT_FALSE(page->next_cursor.empty());
  auto next = store_->ListWorkflowInstances(page->next_cursor, 1);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(next->instances.empty());
  EXPECT_TRUE(next->next_cursor.empty());
}

// --- Stats ------------------------------------------------------------------

TEST_P(StoreContractTest, StatsCountActiveInstancesAndPendingTasks) {
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->active_instances, 0);
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q1"), 0);
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 0);

  Create(*store_, "a", "e1", "q1");
  Create(*store_, "b", "e1", "q1");
  Create(*store_, "c", "e1", "q2");
  stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->active_instances, 3);
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q1"), 2);
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q2"), 1);

  // A leased workflow task still counts until it is completed.
  std::optional<core::WorkflowTask> task = Poll(*store_, {"q1"}, kSomething);
  ASSERT_TRUE(task.has_value());
  stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q1"), 2);
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "act1", "aq");
  ScheduleActivity(completion, *task, "act2", "aq");
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->active_instances, 3);
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q1"), 1);
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 2);

  // A leased activity still counts until it is completed.
  std::optional<core::ActivityTask> activity =
      PollActivity(*store_, {"aq"}, kSomething);
  ASSERT_TRUE(activity.has_value());
  stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 2);
  v1::HistoryEvent result;
  result.mutable_activity_completed()->set_scheduled_event_id(
      activity->scheduled_event.id());
  ASSERT_TRUE(store_->CompleteActivityTask(*activity, result).ok());
  stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(CountIn(stats->pending_activity_tasks, "aq"), 1);
  // The result made the owning instance's workflow task pending again.
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q1"), 2);

  // A finished instance is no longer active.
  std::optional<core::WorkflowTask> c_task = Poll(*store_, {"q2"}, kSomething);
  ASSERT_TRUE(c_task.has_value());
  ASSERT_TRUE(
      store_->CompleteWorkflowTask(*c_task, Finish(*c_task, "done")).ok());
  stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->active_instances, 2);
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q2"), 0);
}

// A workflow task is pending only once one of its inbox events is visible:
// an instance whose only event is a timer firing later has none.
TEST_P(StoreContractTest, StatsCountOnlyVisibleEvents) {
  Create(*store_, "i1", "e1", "q1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {"q1"}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  v1::HistoryEvent fired;
  fired.mutable_timer_fired()->set_scheduled_event_id(1);
  completion.outbound_events = {core::OutboundEvent{
      "i1", task->execution_id, fired, absl::Now() + absl::Hours(1)}};
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->active_instances, 1);
  EXPECT_EQ(CountIn(stats->pending_workflow_tasks, "q1"), 0);
}

// --- Task identity: workflow name and parent --------------------------------

TEST_P(StoreContractTest, TaskCarriesWorkflowNameAndParent) {
  Create(*store_, "parent");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->workflow_name, "wf");
  EXPECT_TRUE(task->parent.instance_id().empty()) << "a root has no parent";
  core::WorkflowTaskCompletion completion = Continue(*task);
  core::OutboundEvent& subwf = completion.outbound_events.emplace_back();
  subwf.instance_id = "child";
  subwf.event = Started("subwf");
  v1::WorkflowParent* parent =
      subwf.event.mutable_workflow_execution_started()->mutable_parent();
  parent->set_instance_id("parent");
  parent->set_execution_id("e1");
  parent->set_scheduled_event_id(7);
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  std::optional<core::WorkflowTask> subwf_task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(subwf_task.has_value());
  EXPECT_EQ(subwf_task->instance_id, "child");
  EXPECT_EQ(subwf_task->workflow_name, "subwf");
  EXPECT_TRUE(MessageDifferencer::Equals(subwf_task->parent, *parent))
      << subwf_task->parent.ShortDebugString();
  // The parent is the store's, not the history's: it comes with every
  // task, also once the started event has been consumed.
  ASSERT_TRUE(
      store_->CompleteWorkflowTask(*subwf_task, Continue(*subwf_task)).ok());
  ASSERT_TRUE(store_->DeliverWorkflowEvent("child", Signal("s")).ok());
  subwf_task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(subwf_task.has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(subwf_task->parent, *parent))
      << subwf_task->parent.ShortDebugString();
}

// --- Name filters
// -------------------------------------------------------------

// A filter for a poller that runs `names`, on a queue where other live
// workers run `claimed`.
core::TaskNameFilter Runs(
    std::vector<std::string> names,
    std::map<std::string, core::TaskNameFilter::Claims> claimed = {}) {
  core::TaskNameFilter filter;
  filter.restricted = true;
  filter.names = std::move(names);
  filter.claimed = std::move(claimed);
  return filter;
}

std::optional<core::WorkflowTask> PollNamed(core::Store& store,
                                            const core::TaskNameFilter& names,
                                            absl::Duration timeout) {
  auto task = store.GetWorkflowTask({"q"}, names, kLease, absl::Now() + timeout,
                                    nullptr);
  EXPECT_TRUE(task.ok()) << task.status();
  return task.ok() ? *task : std::nullopt;
}

TEST_P(StoreContractTest, WorkflowPollsTakeOnlyMatchingNames) {
  ASSERT_TRUE(
      store_->CreateWorkflowInstance(Instance("a", "e1"), Started("A", "q"))
          .ok());
  ASSERT_TRUE(
      store_->CreateWorkflowInstance(Instance("b", "e1"), Started("B", "q"))
          .ok());
  ASSERT_TRUE(
      store_->CreateWorkflowInstance(Instance("c", "e1"), Started("C", "q"))
          .ok());
  const std::map<std::string, core::TaskNameFilter::Claims> others = {
      {"q", {.all = false, .names = {"B", "C"}}}};
  // Runs A, others run B and C: only A.
  std::optional<core::WorkflowTask> task =
      PollNamed(*store_, Runs({"A"}, others), kSomething);
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->instance_id, "a");
  EXPECT_FALSE(PollNamed(*store_, Runs({"A"}, others), kNothing).has_value());
  // A name nobody else claims matches the second clause.
  EXPECT_EQ(PollNamed(*store_, Runs({}, {{"q", {.names = {"B"}}}}), kSomething)
                ->instance_id,
            "c");
  // Claims of other queues do not matter for this one.
  EXPECT_FALSE(PollNamed(*store_, Runs({}, {{"q", {.all = true}}}), kNothing)
                   .has_value())
      << "a live worker of q that runs any name claims them all";
  EXPECT_EQ(PollNamed(*store_, Runs({}, {{"other", {.all = true}}}), kSomething)
                ->instance_id,
            "b");
}

TEST_P(StoreContractTest, ActivityPollsTakeOnlyMatchingNames) {
  Create(*store_, "i1");
  std::optional<core::WorkflowTask> task = Poll(*store_, {}, kSomething);
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion = Continue(*task);
  ScheduleActivity(completion, *task, "Mine", "aq");
  ScheduleActivity(completion, *task, "Theirs", "aq");
  ScheduleActivity(completion, *task, "Nobodys", "aq");
  ASSERT_TRUE(store_->CompleteWorkflowTask(*task, completion).ok());
  const core::TaskNameFilter mine =
      Runs({"Mine"}, {{"aq", {.names = {"Theirs", "Nobodys"}}}});
  auto poll = [&](const core::TaskNameFilter& names, absl::Duration timeout) {
    auto activity = store_->GetActivityTask({"aq"}, names, kLease,
                                            absl::Now() + timeout, nullptr);
    EXPECT_TRUE(activity.ok()) << activity.status();
    return activity.ok() ? *activity : std::nullopt;
  };
  std::optional<core::ActivityTask> activity = poll(mine, kSomething);
  ASSERT_TRUE(activity.has_value());
  EXPECT_EQ(activity->scheduled_event.activity_scheduled().activity_name(),
            "Mine");
  EXPECT_FALSE(poll(mine, kNothing).has_value());
  activity = poll(Runs({}, {{"aq", {.names = {"Theirs"}}}}), kSomething);
  ASSERT_TRUE(activity.has_value());
  EXPECT_EQ(activity->scheduled_event.activity_scheduled().activity_name(),
            "Nobodys");
  activity = poll(core::TaskNameFilter(), kSomething);
  ASSERT_TRUE(activity.has_value()) << "an unrestricted poll takes any name";
  EXPECT_EQ(activity->scheduled_event.activity_scheduled().activity_name(),
            "Theirs");
}

// --- The worker registry
// ---------------------------------------------------------

v1::WorkerInfo WorkerEntry(const std::string& id, int64_t last_seen_us) {
  v1::WorkerInfo worker;
  worker.set_worker_id(id);
  worker.set_host("host");
  worker.set_pid(42);
  worker.add_queues("q");
  worker.mutable_registered_names()->add_workflow_names("A");
  worker.set_last_seen_unix_us(last_seen_us);
  worker.set_ttl_us(1'000'000);
  return worker;
}

TEST_P(StoreContractTest, WorkerRegistryKeepsEntriesAsGiven) {
  auto empty = store_->ListWorkers();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  // Entries are kept as given, expired or not: liveness is the reader's.
  ASSERT_TRUE(store_->RecordWorker(WorkerEntry("w2", 5)).ok());
  ASSERT_TRUE(store_->RecordWorker(WorkerEntry("w1", 1)).ok());
  v1::WorkerInfo renewed = WorkerEntry("w2", 9);
  renewed.mutable_registered_names()->add_activity_names("X");
  ASSERT_TRUE(store_->RecordWorker(renewed).ok());
  auto workers = store_->ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->size(), 2u);
  EXPECT_TRUE(MessageDifferencer::Equals((*workers)[0], WorkerEntry("w1", 1)))
      << (*workers)[0].ShortDebugString();
  EXPECT_TRUE(MessageDifferencer::Equals((*workers)[1], renewed))
      << (*workers)[1].ShortDebugString();
  ASSERT_TRUE(store_->RemoveWorker("w1").ok());
  ASSERT_TRUE(store_->RemoveWorker("unknown").ok());
  workers = store_->ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].worker_id(), "w2");
  EXPECT_EQ(store_->RecordWorker(v1::WorkerInfo()).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace durable::testing
