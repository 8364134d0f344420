// The worker's side of the protocol, driven by a scripted language layer on
// a real (in-memory) SQLite backend: executor-cache eviction (LRU, cache
// size 0, finished runs), replay after eviction, and two-step shutdown.
#include "core/worker/worker.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "backends/sqlite/sqlite_backend.h"
#include "core/client/client.h"
#include "core/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<Backend> MemoryBackend() {
  backends::sqlite::SqliteOptions options;
  options.in_memory = true;
  auto backend = backends::sqlite::SqliteBackend::Open(options);
  EXPECT_TRUE(backend.ok()) << backend.status();
  return std::shared_ptr<Backend>(*std::move(backend));
}

v1::WorkflowActivation Poll(Worker& worker) {
  absl::StatusOr<v1::WorkflowActivation> activation =
      worker.PollWorkflowActivation(absl::Seconds(10));
  EXPECT_TRUE(activation.ok()) << activation.status();
  return activation.ok() ? *activation : v1::WorkflowActivation();
}

bool IsEviction(const v1::WorkflowActivation& a) {
  return a.jobs_size() == 1 && a.jobs(0).has_remove_from_cache();
}

v1::WorkflowActivationCompletion Commands(
    const std::string& run_id, std::vector<v1::WorkflowCommand> commands) {
  v1::WorkflowActivationCompletion completion;
  completion.set_run_id(run_id);
  completion.mutable_successful();
  for (auto& c : commands) *completion.mutable_successful()->add_commands() = c;
  return completion;
}

v1::WorkflowCommand ScheduleStep() {
  v1::WorkflowCommand command;
  command.mutable_schedule_activity()->set_seq(1);
  command.mutable_schedule_activity()->set_activity_name("Step");
  return command;
}

v1::WorkflowCommand Complete() {
  v1::WorkflowCommand command;
  command.mutable_complete_workflow()->mutable_result()->set_data("1");
  return command;
}

std::string Start(Client& client) {
  v1::CreateWorkflowInstanceRequest request;
  request.set_workflow_name("OneStep");
  auto instance = client.CreateWorkflowInstance(request);
  EXPECT_TRUE(instance.ok()) << instance.status();
  return instance->execution_id();
}

WorkerConfig Config(int cache_size) {
  WorkerConfig config;
  config.max_cached_runs = cache_size;
  return config;
}

TEST(WorkerTest, LeastRecentlyUsedRunIsEvictedWhenCacheIsFull) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Config(1));
  const std::string first = Start(client);
  v1::WorkflowActivation a = Poll(worker);
  EXPECT_EQ(a.run_id(), first);
  ASSERT_TRUE(a.jobs(0).has_start_workflow());
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(first, {ScheduleStep()}))
          .ok());

  const std::string second = Start(client);
  a = Poll(worker);
  EXPECT_EQ(a.run_id(), second);
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(second, {ScheduleStep()}))
          .ok());

  // Caching the second run pushed the first one out.
  a = Poll(worker);
  EXPECT_EQ(a.run_id(), first);
  ASSERT_TRUE(IsEviction(a));
  EXPECT_THAT(a.jobs(0).remove_from_cache().reason(), HasSubstr("cache full"));
  ASSERT_TRUE(worker.CompleteWorkflowActivation(Commands(first, {})).ok());
  worker.InitiateShutdown();
  EXPECT_TRUE(worker.FinalizeShutdown(absl::Seconds(5)).ok());
}

TEST(WorkerTest, CacheSizeZeroEvictsAfterEveryTaskAndReplays) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Config(0));
  const std::string run = Start(client);
  v1::WorkflowActivation a = Poll(worker);
  ASSERT_FALSE(a.is_replaying());
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(run, {ScheduleStep()})).ok());
  a = Poll(worker);
  ASSERT_TRUE(IsEviction(a));
  EXPECT_THAT(a.jobs(0).remove_from_cache().reason(), HasSubstr("size 0"));
  ASSERT_TRUE(worker.CompleteWorkflowActivation(Commands(run, {})).ok());

  // Run the activity; the next workflow task replays the first one.
  absl::StatusOr<v1::ActivityTask> task =
      worker.PollActivityTask(absl::Seconds(10));
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->activity_name(), "Step");
  v1::ActivityTaskResult result;
  result.set_task_token(task->task_token());
  result.mutable_completed()->set_data("7");
  ASSERT_TRUE(worker.CompleteActivityTask(result).ok());

  a = Poll(worker);
  ASSERT_TRUE(a.is_replaying());
  ASSERT_TRUE(a.jobs(0).has_start_workflow());
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(run, {ScheduleStep()})).ok());
  a = Poll(worker);
  ASSERT_FALSE(a.is_replaying());
  ASSERT_EQ(a.jobs(0).resolve_activity().seq(), 1u);
  EXPECT_EQ(a.jobs(0).resolve_activity().completed().data(), "7");
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(run, {Complete()})).ok());
  a = Poll(worker);
  ASSERT_TRUE(IsEviction(a));
  EXPECT_THAT(a.jobs(0).remove_from_cache().reason(), HasSubstr("finished"));
  ASSERT_TRUE(worker.CompleteWorkflowActivation(Commands(run, {})).ok());
}

TEST(WorkerTest, CompletingWithoutOutstandingActivationIsRejected) {
  auto backend = MemoryBackend();
  Worker worker(backend, Config(16));
  absl::Status s = worker.CompleteWorkflowActivation(Commands("nope", {}));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("nope"));
  v1::ActivityTaskResult result;
  result.set_task_token("unknown");
  EXPECT_EQ(worker.CompleteActivityTask(result).code(),
            absl::StatusCode::kNotFound);
}

TEST(WorkerTest, ShutdownDrainsThenReportsShutdown) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Config(16));
  const std::string run = Start(client);
  v1::WorkflowActivation a = Poll(worker);
  worker.InitiateShutdown();
  // The in-flight activation can still be completed, and the run's last
  // activation (its eviction) is still handed out.
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(run, {Complete()})).ok());
  a = Poll(worker);
  ASSERT_TRUE(IsEviction(a));
  ASSERT_TRUE(worker.CompleteWorkflowActivation(Commands(run, {})).ok());
  absl::StatusOr<v1::WorkflowActivation> after =
      worker.PollWorkflowActivation(absl::Seconds(1));
  EXPECT_TRUE(IsShutdown(after.status())) << after.status();
  EXPECT_TRUE(IsShutdown(worker.PollActivityTask(absl::Seconds(1)).status()));
  EXPECT_TRUE(worker.FinalizeShutdown(absl::Seconds(5)).ok());
}

TEST(WorkerTest, PollTimesOutWhenIdle) {
  auto backend = MemoryBackend();
  Worker worker(backend, Config(16));
  absl::StatusOr<v1::WorkflowActivation> a =
      worker.PollWorkflowActivation(absl::Milliseconds(50));
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(WorkerTest, ConfigFromProtoValidates) {
  v1::WorkerOptions options;
  EXPECT_EQ(WorkerConfig::FromProto(options)->max_cached_runs, 128);
  options.set_max_cached_workflows(0);
  EXPECT_EQ(WorkerConfig::FromProto(options)->max_cached_runs, 0);
  options.set_max_cached_workflows(-1);
  EXPECT_EQ(WorkerConfig::FromProto(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::WorkerOptions empty_queue;
  empty_queue.add_queues("");
  EXPECT_EQ(WorkerConfig::FromProto(empty_queue).status().code(),
            absl::StatusCode::kInvalidArgument);
}

v1::WorkflowCommand ScheduleWithRetry(int max_attempts,
                                      int64_t heartbeat_timeout_ms = 0) {
  v1::WorkflowCommand command = ScheduleStep();
  auto* policy = command.mutable_schedule_activity()->mutable_retry_policy();
  policy->set_maximum_attempts(max_attempts);
  policy->set_initial_interval_us(10'000);
  policy->add_non_retryable_error_types("Fatal");
  command.mutable_schedule_activity()->set_heartbeat_timeout_us(
      heartbeat_timeout_ms * 1000);
  return command;
}

v1::ActivityTaskResult Failed(const v1::ActivityTask& task,
                              const std::string& type) {
  v1::ActivityTaskResult result;
  result.set_task_token(task.task_token());
  result.mutable_failed()->set_type(type);
  result.mutable_failed()->set_message("attempt " +
                                       std::to_string(task.attempt()));
  return result;
}

// Starts a OneStep instance whose first task schedules `schedule`, and
// acknowledges the eviction a cache-less worker sends.
std::string StartWithActivity(Client& client, Worker& worker,
                              const v1::WorkflowCommand& schedule) {
  const std::string run = Start(client);
  v1::WorkflowActivation a = Poll(worker);
  EXPECT_TRUE(
      worker.CompleteWorkflowActivation(Commands(run, {schedule})).ok());
  return run;
}

TEST(WorkerTest, RetriedAttemptsCostNoWorkflowTask) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Config(16));
  const std::string run =
      StartWithActivity(client, worker, ScheduleWithRetry(4));
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<v1::ActivityTask> task =
        worker.PollActivityTask(absl::Seconds(10));
    ASSERT_TRUE(task.ok()) << task.status();
    EXPECT_EQ(task->attempt(), attempt);
    ASSERT_TRUE(worker.CompleteActivityTask(Failed(*task, "Flaky")).ok());
    // The failure went back to the queue, not to the workflow.
    EXPECT_EQ(
        worker.PollWorkflowActivation(absl::Milliseconds(100)).status().code(),
        absl::StatusCode::kDeadlineExceeded);
  }
  absl::StatusOr<v1::ActivityTask> task =
      worker.PollActivityTask(absl::Seconds(10));
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->attempt(), 2);
  v1::ActivityTaskResult done;
  done.set_task_token(task->task_token());
  done.mutable_completed()->set_data("9");
  ASSERT_TRUE(worker.CompleteActivityTask(done).ok());
  v1::WorkflowActivation a = Poll(worker);
  EXPECT_EQ(a.jobs(0).resolve_activity().completed().data(), "9");
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(run, {Complete()})).ok());

  auto history = client.GetWorkflowHistory(
      client.GetWorkflowInstanceState(a.instance_id())->instance_id());
  ASSERT_TRUE(history.ok());
  int scheduled = 0, completed = 0, failed = 0;
  for (const auto& event : *history) {
    scheduled += event.has_activity_scheduled();
    completed += event.has_activity_completed();
    failed += event.has_activity_failed();
  }
  EXPECT_EQ(scheduled, 1);
  EXPECT_EQ(completed, 1);
  EXPECT_EQ(failed, 0);
}

TEST(WorkerTest, NonRetryableFailureIsFinalAfterOneAttempt) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Config(16));
  StartWithActivity(client, worker, ScheduleWithRetry(4));
  absl::StatusOr<v1::ActivityTask> task =
      worker.PollActivityTask(absl::Seconds(10));
  ASSERT_TRUE(task.ok());
  ASSERT_TRUE(worker.CompleteActivityTask(Failed(*task, "Fatal")).ok());
  v1::WorkflowActivation a = Poll(worker);
  ASSERT_TRUE(a.jobs(0).resolve_activity().has_failed());
  EXPECT_EQ(a.jobs(0).resolve_activity().failed().type(), "Fatal");
}

TEST(WorkerTest, MissingHeartbeatTimesOutTheAttemptWhichIsRetried) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Config(16));
  StartWithActivity(client, worker,
                    ScheduleWithRetry(2, /*heartbeat_timeout_ms=*/150));
  absl::StatusOr<v1::ActivityTask> first =
      worker.PollActivityTask(absl::Seconds(10));
  ASSERT_TRUE(first.ok());
  // No heartbeat: the attempt times out and the retry becomes available.
  absl::StatusOr<v1::ActivityTask> second =
      worker.PollActivityTask(absl::Seconds(10));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->attempt(), 1);
  // The first attempt's late answers find nothing.
  v1::ActivityHeartbeat late;
  late.set_task_token(first->task_token());
  EXPECT_EQ(worker.RecordActivityHeartbeat(late).code(),
            absl::StatusCode::kNotFound);
  // The second attempt heartbeats past its timeout and completes.
  v1::ActivityHeartbeat beat;
  beat.set_task_token(second->task_token());
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(worker.RecordActivityHeartbeat(beat).ok());
    absl::SleepFor(absl::Milliseconds(20));
  }
  v1::ActivityTaskResult done;
  done.set_task_token(second->task_token());
  done.mutable_completed()->set_data("1");
  ASSERT_TRUE(worker.CompleteActivityTask(done).ok());
  v1::WorkflowActivation a = Poll(worker);
  EXPECT_EQ(a.jobs(0).resolve_activity().completed().data(), "1");
}

TEST(WorkerTest, HeartbeatTimeoutIsFinalWhenAttemptsRunOut) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Config(16));
  StartWithActivity(client, worker,
                    ScheduleWithRetry(1, /*heartbeat_timeout_ms=*/100));
  ASSERT_TRUE(worker.PollActivityTask(absl::Seconds(10)).ok());
  v1::WorkflowActivation a = Poll(worker);
  ASSERT_TRUE(a.jobs(0).resolve_activity().has_failed());
  EXPECT_EQ(a.jobs(0).resolve_activity().failed().type(), "HeartbeatTimeout");
  EXPECT_THAT(a.jobs(0).resolve_activity().failed().message(),
              HasSubstr("heartbeat timeout"));
}

}  // namespace
}  // namespace durable::core
