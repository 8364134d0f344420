#include "backends/sqlite/sqlite_backend.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/backend.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sqlite {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kLease = absl::Seconds(30);

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs `sql` on `path` through a separate raw SQLite connection.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

v1::WorkflowInstance Instance(const std::string& id, const std::string& exec) {
  v1::WorkflowInstance instance;
  instance.set_instance_id(id);
  instance.set_execution_id(exec);
  return instance;
}

v1::HistoryEvent Started(const std::string& workflow,
                         const std::string& queue = "",
                         std::map<std::string, std::string> metadata = {}) {
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  auto* started = event.mutable_workflow_execution_started();
  started->set_workflow_name(workflow);
  started->set_queue(queue);
  started->mutable_metadata()->insert(metadata.begin(), metadata.end());
  return event;
}

v1::HistoryEvent TaskStarted(int64_t id) {
  v1::HistoryEvent event;
  event.set_id(id);
  event.mutable_workflow_task_started();
  return event;
}

v1::HistoryEvent ActivityScheduled(int64_t id, const std::string& name) {
  v1::HistoryEvent event;
  event.set_id(id);
  event.mutable_activity_scheduled()->set_activity_name(name);
  return event;
}

v1::HistoryEvent Signal(const std::string& name) {
  v1::HistoryEvent event;
  event.mutable_signal_received()->set_signal_name(name);
  return event;
}

// The history a first workflow task appends: task started + the consumed
// started event.
std::vector<v1::HistoryEvent> FirstTaskEvents(const core::WorkflowTask& task) {
  std::vector<v1::HistoryEvent> events = {TaskStarted(task.history_length + 1)};
  for (const v1::HistoryEvent& inbound : task.new_events) {
    events.push_back(inbound);
    events.back().set_id(task.history_length + events.size());
  }
  return events;
}

class SqliteBackendTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SqliteOptions options;
    options.in_memory = GetParam();
    if (!options.in_memory) {
      // Parameterized test names contain '/', so name the file by a hash.
      path_ = TempPath(absl::StrCat(
          "backend_",
          std::hash<std::string>()(
              ::testing::UnitTest::GetInstance()->current_test_info()->name()),
          ".db"));
      options.path = path_;
    }
    auto backend = SqliteBackend::Open(options);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
  }

  std::optional<core::WorkflowTask> Poll(
      std::vector<std::string> queues = {},
      absl::Duration timeout = absl::Milliseconds(50),
      absl::Duration lease = kLease) {
    auto task = backend_->GetWorkflowTask(queues, lease, absl::Now() + timeout,
                                          nullptr);
    EXPECT_TRUE(task.ok()) << task.status();
    return task.ok() ? *task : std::nullopt;
  }

  std::optional<core::ActivityTask> PollActivity(
      absl::Duration timeout = absl::Milliseconds(50)) {
    auto task =
        backend_->GetActivityTask({}, kLease, absl::Now() + timeout, nullptr);
    EXPECT_TRUE(task.ok()) << task.status();
    return task.ok() ? *task : std::nullopt;
  }

  void Create(const std::string& id, const std::string& exec = "e1",
              const std::string& queue = "") {
    ASSERT_TRUE(backend_
                    ->CreateWorkflowInstance(Instance(id, exec),
                                             Started("wf", queue, {{"k", "v"}}))
                    .ok());
  }

  std::string path_;
  std::unique_ptr<SqliteBackend> backend_;
};

TEST_P(SqliteBackendTest, CreateRefusesSecondActiveExecution) {
  Create("i1");
  absl::Status again =
      backend_->CreateWorkflowInstance(Instance("i1", "e2"), Started("wf"));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(
      again.message(),
      HasSubstr("workflow instance \"i1\" already exists and is active"));
  auto state = backend_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->execution_id(), "e1");
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_EQ(state->workflow_name(), "wf");
  EXPECT_EQ(state->queue(), core::kDefaultQueue);
  EXPECT_EQ(state->metadata().at("k"), "v");
  EXPECT_GT(state->created_at_unix_us(), 0);
  EXPECT_EQ(state->finished_at_unix_us(), 0);
}

TEST_P(SqliteBackendTest, CreateRejectsNonStartedEvent) {
  EXPECT_EQ(backend_->CreateWorkflowInstance(Instance("i1", "e1"), Signal("x"))
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(SqliteBackendTest, TaskCarriesStartedEventAndIsLocked) {
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->instance_id, "i1");
  EXPECT_EQ(task->execution_id, "e1");
  EXPECT_EQ(task->queue, core::kDefaultQueue);
  EXPECT_EQ(task->history_length, 0);
  EXPECT_FALSE(task->lease_token.empty());
  EXPECT_EQ(task->metadata.at("k"), "v");
  ASSERT_EQ(task->new_events.size(), 1u);
  const v1::HistoryEvent& started = task->new_events[0];
  EXPECT_EQ(started.id(), 0);
  ASSERT_TRUE(started.has_workflow_execution_started());
  EXPECT_EQ(started.workflow_execution_started().workflow_name(), "wf");
  EXPECT_EQ(started.workflow_execution_started().queue(), core::kDefaultQueue);
  EXPECT_EQ(started.workflow_execution_started().metadata().at("k"), "v");
  // Leased: a second poller gets nothing.
  EXPECT_FALSE(Poll().has_value());
}

TEST_P(SqliteBackendTest, PollWithNothingReadyTimesOut) {
  absl::Time start = absl::Now();
  EXPECT_FALSE(Poll({}, absl::Milliseconds(200)).has_value());
  absl::Duration elapsed = absl::Now() - start;
  EXPECT_GE(elapsed, absl::Milliseconds(150));
  EXPECT_LT(elapsed, absl::Seconds(2));
}

TEST_P(SqliteBackendTest, QueuesFilterTasks) {
  Create("i1", "e1", "q1");
  EXPECT_FALSE(Poll().has_value());  // "default"
  EXPECT_FALSE(Poll({"q2"}).has_value());
  std::optional<core::WorkflowTask> task = Poll({"q2", "q1"});
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->queue, "q1");
}

TEST_P(SqliteBackendTest, CompleteAppendsHistoryAndSchedulesActivity) {
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(*task);
  completion.executed_events.push_back(ActivityScheduled(3, "act"));
  core::ActivityTaskSpec spec;
  spec.scheduled_event = completion.executed_events.back();
  spec.queue = core::kDefaultQueue;
  spec.metadata = task->metadata;
  completion.activities.push_back(spec);
  ASSERT_TRUE(backend_->CompleteWorkflowTask(*task, completion).ok());

  auto history = backend_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  for (size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].id(), static_cast<int64_t>(i + 1));
    EXPECT_EQ((*history)[i].SerializeAsString(),
              completion.executed_events[i].SerializeAsString());
  }
  auto tail = backend_->GetWorkflowHistory("i1", "e1", /*after_id=*/2);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_TRUE((*tail)[0].has_activity_scheduled());

  // The inbox was consumed: no new workflow task.
  EXPECT_FALSE(Poll().has_value());

  std::optional<core::ActivityTask> activity = PollActivity();
  ASSERT_TRUE(activity.has_value());
  EXPECT_EQ(activity->activity_id, "e1:3");
  EXPECT_EQ(activity->instance_id, "i1");
  EXPECT_EQ(activity->execution_id, "e1");
  EXPECT_EQ(activity->queue, core::kDefaultQueue);
  EXPECT_EQ(activity->attempt, 0);
  EXPECT_EQ(activity->scheduled_event.activity_scheduled().activity_name(),
            "act");
  EXPECT_EQ(activity->metadata.at("k"), "v");
  // Leased to us.
  EXPECT_FALSE(PollActivity().has_value());
}

TEST_P(SqliteBackendTest, ActivityResultReachesOwningInstance) {
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(*task);
  completion.executed_events.push_back(ActivityScheduled(3, "act"));
  core::ActivityTaskSpec spec;
  spec.scheduled_event = completion.executed_events.back();
  spec.queue = core::kDefaultQueue;
  completion.activities.push_back(spec);
  ASSERT_TRUE(backend_->CompleteWorkflowTask(*task, completion).ok());

  std::optional<core::ActivityTask> activity = PollActivity();
  ASSERT_TRUE(activity.has_value());
  ASSERT_TRUE(backend_->ExtendActivityTaskLease(*activity, kLease).ok());
  v1::HistoryEvent result;
  result.mutable_activity_completed()->set_scheduled_event_id(3);
  result.mutable_activity_completed()->mutable_result()->set_data("42");
  ASSERT_TRUE(backend_->CompleteActivityTask(*activity, result).ok());
  // Completing again: the task is gone, so the lease is lost.
  absl::Status again = backend_->CompleteActivityTask(*activity, result);
  EXPECT_EQ(again.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(backend_->ExtendActivityTaskLease(*activity, kLease).code(),
            absl::StatusCode::kAborted);

  std::optional<core::WorkflowTask> next = Poll();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->history_length, 3);
  ASSERT_EQ(next->new_events.size(), 1u);
  EXPECT_EQ(next->new_events[0].activity_completed().result().data(), "42");
}

TEST_P(SqliteBackendTest, CompletingTwiceOrWithStaleTokenIsAborted) {
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  core::WorkflowTask stale = *task;
  stale.lease_token = "not-the-token";
  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(*task);
  absl::Status status = backend_->CompleteWorkflowTask(stale, completion);
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(status.message(), HasSubstr("was lost"));
  EXPECT_EQ(backend_->ExtendWorkflowTaskLease(stale, kLease).code(),
            absl::StatusCode::kAborted);
  // Nothing was written by the rejected completion.
  auto history = backend_->GetWorkflowHistory("i1", "e1");
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->empty());

  ASSERT_TRUE(backend_->ExtendWorkflowTaskLease(*task, kLease).ok());
  ASSERT_TRUE(backend_->CompleteWorkflowTask(*task, completion).ok());
  EXPECT_EQ(backend_->CompleteWorkflowTask(*task, completion).code(),
            absl::StatusCode::kAborted);
}

TEST_P(SqliteBackendTest, ExecutedEventIdsMustContinueHistory) {
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  core::WorkflowTaskCompletion completion;
  completion.executed_events = {TaskStarted(5)};
  EXPECT_EQ(backend_->CompleteWorkflowTask(*task, completion).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(SqliteBackendTest, ExpiredLeaseCanBeTakenOver) {
  Create("i1");
  std::optional<core::WorkflowTask> first =
      Poll({}, absl::Milliseconds(50), absl::Milliseconds(100));
  ASSERT_TRUE(first.has_value());
  absl::SleepFor(absl::Milliseconds(150));
  std::optional<core::WorkflowTask> second = Poll({}, absl::Seconds(2));
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->lease_token, first->lease_token);
  EXPECT_EQ(second->new_events.size(), 1u);

  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(*first);
  EXPECT_EQ(backend_->CompleteWorkflowTask(*first, completion).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(backend_->ExtendWorkflowTaskLease(*first, kLease).code(),
            absl::StatusCode::kAborted);
  EXPECT_TRUE(backend_->CompleteWorkflowTask(*second, completion).ok());
}

TEST_P(SqliteBackendTest, AbandonRecordsFailureAndDelaysRetry) {
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  v1::WorkflowTaskFailure failure;
  failure.set_status_code(100);
  failure.set_message("nondeterminism: boom");
  failure.set_failed_at_unix_us(123);
  ASSERT_TRUE(
      backend_->AbandonWorkflowTask(*task, failure, absl::Milliseconds(500))
          .ok());
  EXPECT_EQ(backend_->AbandonWorkflowTask(*task, failure, absl::ZeroDuration())
                .code(),
            absl::StatusCode::kAborted);

  auto state = backend_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->last_task_failure().status_code(), 100);
  EXPECT_EQ(state->last_task_failure().message(), "nondeterminism: boom");

  // Not ready before the retry delay...
  EXPECT_FALSE(Poll().has_value());
  // ...but ready afterwards, with the same inbox.
  std::optional<core::WorkflowTask> retry = Poll({}, absl::Seconds(5));
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->new_events.size(), 1u);

  // A successful completion clears the failure.
  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(*retry);
  ASSERT_TRUE(backend_->CompleteWorkflowTask(*retry, completion).ok());
  state = backend_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->has_last_task_failure());
}

TEST_P(SqliteBackendTest, UnknownInstanceIsNotFound) {
  auto state = backend_->GetWorkflowInstanceState("nope");
  EXPECT_EQ(state.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(state.status().message(),
              HasSubstr("workflow instance \"nope\" not found"));
  EXPECT_EQ(backend_->GetWorkflowHistory("nope", "e1").status().code(),
            absl::StatusCode::kNotFound);
  Create("i1");
  EXPECT_EQ(backend_->GetWorkflowHistory("i1", "other").status().code(),
            absl::StatusCode::kNotFound);
  auto wait = backend_->WaitForWorkflowInstanceFinished(
      "nope", absl::Now() + absl::Seconds(1));
  EXPECT_EQ(wait.status().code(), absl::StatusCode::kNotFound);
}

TEST_P(SqliteBackendTest, WaitForFinishedTimesOut) {
  Create("i1");
  absl::Time start = absl::Now();
  auto state = backend_->WaitForWorkflowInstanceFinished(
      "i1", start + absl::Milliseconds(200));
  EXPECT_EQ(state.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(state.status().message(),
              HasSubstr("workflow instance \"i1\" did not finish within"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_P(SqliteBackendTest, WaitForFinishedReturnsResultAndNewExecutionWorks) {
  Create("i1");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  std::thread finisher([&] {
    absl::SleepFor(absl::Milliseconds(100));
    core::WorkflowTaskCompletion completion;
    completion.executed_events = FirstTaskEvents(*task);
    v1::HistoryEvent finished;
    finished.set_id(3);
    finished.mutable_workflow_execution_finished()->mutable_result()->set_data(
        "done");
    completion.executed_events.push_back(finished);
    completion.state = v1::WORKFLOW_STATE_FINISHED;
    v1::WorkflowResult result;
    result.mutable_result()->set_data("done");
    completion.result = result;
    completion.completed_at = absl::Now();
    EXPECT_TRUE(backend_->CompleteWorkflowTask(*task, completion).ok());
  });
  auto state = backend_->WaitForWorkflowInstanceFinished(
      "i1", absl::Now() + absl::Seconds(10));
  finisher.join();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
  EXPECT_EQ(state->result().result().data(), "done");
  EXPECT_GT(state->finished_at_unix_us(), 0);

  // A finished instance id can be started again as a new execution.
  ASSERT_TRUE(
      backend_->CreateWorkflowInstance(Instance("i1", "e2"), Started("wf"))
          .ok());
  auto latest = backend_->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->execution_id(), "e2");
  EXPECT_EQ(latest->state(), v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_FALSE(latest->has_result());
}

TEST_P(SqliteBackendTest, CreateWakesBlockedPoller) {
  std::optional<core::WorkflowTask> got;
  absl::Time start = absl::Now();
  std::thread poller([&] {
    auto task = backend_->GetWorkflowTask(
        {}, kLease, absl::Now() + absl::Seconds(20), nullptr);
    ASSERT_TRUE(task.ok()) << task.status();
    got = *task;
  });
  absl::SleepFor(absl::Milliseconds(200));
  Create("i1");
  poller.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->instance_id, "i1");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_P(SqliteBackendTest, InterruptWithStopReturnsAtOnce) {
  std::atomic<bool> stop = false;
  std::optional<absl::StatusOr<std::optional<core::WorkflowTask>>> result;
  absl::Time start = absl::Now();
  std::thread poller([&] {
    result = backend_->GetWorkflowTask({}, kLease,
                                       absl::Now() + absl::Seconds(20), &stop);
  });
  absl::SleepFor(absl::Milliseconds(200));
  stop = true;
  backend_->Interrupt();
  poller.join();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok());
  EXPECT_FALSE(result->value().has_value());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_P(SqliteBackendTest, OutboundEventsSignalTimerAndContinueAsNew) {
  Create("a");
  Create("b");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  const std::string other = task->instance_id == "a" ? "b" : "a";
  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(*task);
  // A signal to the other instance's current execution, a delayed timer
  // firing for ourselves, and a message to an unknown instance (dropped).
  core::OutboundEvent signal{other, "", Signal("hello"), absl::InfinitePast()};
  v1::HistoryEvent fired;
  fired.mutable_timer_fired()->set_scheduled_event_id(1);
  core::OutboundEvent timer{task->instance_id, task->execution_id, fired,
                            absl::Now() + absl::Milliseconds(300)};
  core::OutboundEvent lost{"unknown", "", Signal("x"), absl::InfinitePast()};
  completion.outbound_events = {signal, timer, lost};
  ASSERT_TRUE(backend_->CompleteWorkflowTask(*task, completion).ok());

  // The other instance has its started event and the signal.
  std::optional<core::WorkflowTask> other_task = Poll();
  ASSERT_TRUE(other_task.has_value());
  EXPECT_EQ(other_task->instance_id, other);
  ASSERT_EQ(other_task->new_events.size(), 2u);
  EXPECT_EQ(other_task->new_events[1].signal_received().signal_name(), "hello");

  // The timer is not visible yet, then arrives.
  EXPECT_FALSE(Poll().has_value());
  std::optional<core::WorkflowTask> timer_task = Poll({}, absl::Seconds(5));
  ASSERT_TRUE(timer_task.has_value());
  EXPECT_EQ(timer_task->instance_id, task->instance_id);
  ASSERT_EQ(timer_task->new_events.size(), 1u);
  EXPECT_TRUE(timer_task->new_events[0].has_timer_fired());
  EXPECT_EQ(timer_task->history_length, 2);

  // Continue as new: the next execution is created by the outbound started
  // event in the same commit.
  core::WorkflowTaskCompletion continued;
  continued.executed_events = {TaskStarted(3)};
  continued.executed_events.push_back(timer_task->new_events[0]);
  continued.executed_events.back().set_id(4);
  continued.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
  core::OutboundEvent next{task->instance_id, "e-next", Started("wf"),
                           absl::InfinitePast()};
  continued.outbound_events = {next};
  ASSERT_TRUE(backend_->CompleteWorkflowTask(*timer_task, continued).ok());
  auto state = backend_->GetWorkflowInstanceState(task->instance_id);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->execution_id(), "e-next");
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE);
  std::optional<core::WorkflowTask> next_task = Poll();
  ASSERT_TRUE(next_task.has_value());
  EXPECT_EQ(next_task->execution_id, "e-next");
  EXPECT_EQ(next_task->history_length, 0);
}

TEST_P(SqliteBackendTest, ChildStartOfActiveInstanceFailsToParent) {
  Create("parent");
  std::optional<core::WorkflowTask> task = Poll();
  ASSERT_TRUE(task.has_value());
  Create("child");
  core::WorkflowTaskCompletion completion;
  completion.executed_events = FirstTaskEvents(*task);
  v1::HistoryEvent start = Started("childwf");
  v1::WorkflowParent* parent =
      start.mutable_workflow_execution_started()->mutable_parent();
  parent->set_instance_id("parent");
  parent->set_execution_id("e1");
  parent->set_scheduled_event_id(2);
  completion.outbound_events = {
      core::OutboundEvent{"child", "e9", start, absl::InfinitePast()}};
  ASSERT_TRUE(backend_->CompleteWorkflowTask(*task, completion).ok());

  // The existing child execution is untouched...
  auto child = backend_->GetWorkflowInstanceState("child");
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->execution_id(), "e1");
  // ...and the parent learns that its child could not start.
  std::optional<core::WorkflowTask> parent_task = Poll();
  std::optional<core::WorkflowTask> child_task = Poll();
  ASSERT_TRUE(parent_task.has_value() && child_task.has_value());
  if (parent_task->instance_id != "parent") std::swap(parent_task, child_task);
  ASSERT_EQ(parent_task->new_events.size(), 1u);
  const v1::SubWorkflowFailed& failed =
      parent_task->new_events[0].sub_workflow_failed();
  EXPECT_EQ(failed.scheduled_event_id(), 2);
  EXPECT_EQ(failed.failure().type(), "InstanceAlreadyExists");
}

INSTANTIATE_TEST_SUITE_P(FileAndMemory, SqliteBackendTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Memory" : "File";
                         });

// --- File-only behaviour ---------------------------------------------------

absl::StatusOr<std::unique_ptr<SqliteBackend>> OpenFile(
    const std::string& path) {
  SqliteOptions options;
  options.path = path;
  return SqliteBackend::Open(options);
}

TEST(SqliteFileTest, DescribeAndReopenKeepData) {
  std::string path = TempPath("reopen.db");
  {
    auto backend = OpenFile(path);
    ASSERT_TRUE(backend.ok()) << backend.status();
    EXPECT_THAT((*backend)->Describe(), HasSubstr("sqlite file="));
    EXPECT_THAT((*backend)->Describe(), HasSubstr("journal=WAL"));
    EXPECT_THAT((*backend)->Describe(), HasSubstr("synchronous=FULL"));
    ASSERT_TRUE(
        (*backend)
            ->CreateWorkflowInstance(Instance("i1", "e1"), Started("wf"))
            .ok());
  }
  auto reopened = OpenFile(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto state = (*reopened)->GetWorkflowInstanceState("i1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->workflow_name(), "wf");
}

TEST(SqliteFileTest, TwoBackendsOnOneFileShareWork) {
  std::string path = TempPath("shared.db");
  auto worker = OpenFile(path);
  auto client = OpenFile(path);
  ASSERT_TRUE(worker.ok() && client.ok());
  std::optional<core::WorkflowTask> got;
  std::thread poller([&] {
    auto task = (*worker)->GetWorkflowTask(
        {}, kLease, absl::Now() + absl::Seconds(20), nullptr);
    ASSERT_TRUE(task.ok()) << task.status();
    got = *task;
  });
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE((*client)
                  ->CreateWorkflowInstance(Instance("i1", "e1"), Started("wf"))
                  .ok());
  poller.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->instance_id, "i1");
}

TEST(SqliteFileTest, RefusesForeignSqliteDatabaseUntouched) {
  std::string path = TempPath("foreign.db");
  RawExec(path,
          "CREATE TABLE customers (id INTEGER); "
          "INSERT INTO customers VALUES (1);");
  std::string before = ReadFile(path);
  auto backend = OpenFile(path);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(backend.status().message(),
              HasSubstr("is not a durable database"));
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteFileTest, RefusesNonSqliteFileUntouched) {
  std::string path = TempPath("garbage.db");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(4096, 'x');
  }
  std::string before = ReadFile(path);
  auto backend = OpenFile(path);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(backend.status().message(),
              HasSubstr("is not a durable database"));
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteFileTest, RefusesNewerSchemaVersion) {
  std::string path = TempPath("newer.db");
  ASSERT_TRUE(OpenFile(path).ok());
  RawExec(path, "UPDATE durable_schema_version SET version = 99");
  auto backend = OpenFile(path);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(backend.status().message(), HasSubstr("version 99"));
  EXPECT_THAT(backend.status().message(), HasSubstr("version 1 "));
}

TEST(SqliteFileTest, ReadOnlyFileIsAnError) {
  std::string path = TempPath("readonly.db");
  ASSERT_TRUE(OpenFile(path).ok());
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  auto backend = OpenFile(path);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(backend.status().message(), HasSubstr("read-only"));
  chmod(path.c_str(), 0644);
}

TEST(SqliteFileTest, UndecodableHistoryRowIsDataLoss) {
  std::string path = TempPath("corrupt.db");
  auto backend = OpenFile(path);
  ASSERT_TRUE(backend.ok());
  ASSERT_TRUE((*backend)
                  ->CreateWorkflowInstance(Instance("i1", "e1"), Started("wf"))
                  .ok());
  RawExec(path, "INSERT INTO history VALUES ('i1', 'e1', 1, x'ffffffff')");
  auto history = (*backend)->GetWorkflowHistory("i1", "e1");
  EXPECT_EQ(history.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(history.status().message(),
              HasSubstr("history of workflow instance \"i1\": event 1 cannot "
                        "be decoded"));
}

TEST(SqliteFileTest, EmptyPathIsInvalid) {
  EXPECT_EQ(OpenFile("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace durable::backends::sqlite
