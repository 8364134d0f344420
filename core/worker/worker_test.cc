// The worker's side of the protocol, driven by a scripted language layer on
// a real (in-memory) SQLite backend: executor-cache eviction (LRU, cache
// size 0, finished runs), replay after eviction, two-step shutdown, retries,
// and the worker registry (names, liveness).
#include "core/worker/worker.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/sqlite/sqlite_store.h"
#include "core/client/client.h"
#include "core/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<Store> MemoryBackend() {
  backends::sqlite::SqliteOptions options;
  options.in_memory = true;
  auto backend = backends::sqlite::SqliteStore::Open(options);
  EXPECT_TRUE(backend.ok()) << backend.status();
  return std::shared_ptr<Store>(*std::move(backend));
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
    const std::string& execution_id, std::vector<v1::WorkflowCommand> commands) {
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id(execution_id);
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

std::string Start(Client& client, const std::string& workflow = "OneStep") {
  v1::CreateWorkflowInstanceRequest request;
  request.set_workflow_name(workflow);
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
  EXPECT_EQ(a.execution_id(), first);
  ASSERT_TRUE(a.jobs(0).has_start_workflow());
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(first, {ScheduleStep()}))
          .ok());

  const std::string second = Start(client);
  a = Poll(worker);
  EXPECT_EQ(a.execution_id(), second);
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(second, {ScheduleStep()}))
          .ok());

  // Caching the second run pushed the first one out.
  a = Poll(worker);
  EXPECT_EQ(a.execution_id(), first);
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
  v1::WorkerOptions names;
  EXPECT_FALSE(WorkerConfig::FromProto(names)->registered_names.has_value());
  names.mutable_registered_names();
  EXPECT_TRUE(WorkerConfig::FromProto(names)->registered_names.has_value())
      << "an empty list still says what the worker runs: nothing";
  names.mutable_registered_names()->add_activity_names("");
  EXPECT_EQ(WorkerConfig::FromProto(names).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::WorkerOptions ttl;
  ttl.set_worker_ttl_us(-1);
  EXPECT_EQ(WorkerConfig::FromProto(ttl).status().code(),
            absl::StatusCode::kInvalidArgument);
  ttl.set_worker_ttl_us(2'000'000);
  EXPECT_EQ(WorkerConfig::FromProto(ttl)->worker_ttl, absl::Seconds(2));
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

TEST(WorkerTest, NonRetryableFlagOverridesThePolicy) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Config(16));
  StartWithActivity(client, worker, ScheduleWithRetry(5));
  absl::StatusOr<v1::ActivityTask> task =
      worker.PollActivityTask(absl::Seconds(10));
  ASSERT_TRUE(task.ok());
  v1::ActivityTaskResult failed = Failed(*task, "NotListedAnywhere");
  failed.mutable_failed()->set_non_retryable(true);
  ASSERT_TRUE(worker.CompleteActivityTask(failed).ok());
  v1::WorkflowActivation a = Poll(worker);
  ASSERT_TRUE(a.jobs(0).resolve_activity().has_failed());
  EXPECT_EQ(a.jobs(0).resolve_activity().failed().message(), "attempt 0");
}

// --- The worker registry ---------------------------------------------------

WorkerConfig Runs(std::vector<std::string> workflows,
                  absl::Duration ttl = absl::Seconds(30)) {
  WorkerConfig config = Config(16);
  v1::RegisteredNames& names = config.registered_names.emplace();
  for (const std::string& name : workflows) names.add_workflow_names(name);
  config.worker_ttl = ttl;
  return config;
}

// The registry entry of a worker in another process that runs `workflow`,
// as if it had just sent a heartbeat.
v1::WorkerInfo OtherWorker(const std::string& workflow, absl::Duration ttl) {
  v1::WorkerInfo worker;
  worker.set_worker_id("other-process");
  worker.set_host("elsewhere");
  worker.set_pid(4242);
  worker.add_queues(kDefaultQueue);
  worker.mutable_registered_names()->add_workflow_names(workflow);
  worker.set_last_seen_unix_us(absl::ToUnixMicros(absl::Now()));
  worker.set_ttl_us(absl::ToInt64Microseconds(ttl));
  return worker;
}

TEST(WorkerTest, WorkersRecordThemselvesUntilTheyShutDown) {
  auto backend = MemoryBackend();
  Client client(backend);
  auto worker = std::make_unique<Worker>(backend, Runs({"OneStep"}));
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = client.ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->size(), 1u);
  const v1::WorkerInfo& self = (*workers)[0];
  EXPECT_EQ(self.worker_id(), worker->worker_id());
  EXPECT_GT(self.pid(), 0);
  EXPECT_THAT(self.queues(), ::testing::ElementsAre(kDefaultQueue));
  EXPECT_THAT(self.registered_names().workflow_names(),
              ::testing::ElementsAre("OneStep"));
  EXPECT_EQ(self.ttl_us(), 30'000'000);
  worker->InitiateShutdown();
  ASSERT_TRUE(worker->FinalizeShutdown(absl::Seconds(5)).ok());
  workers = client.ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  EXPECT_TRUE(workers->empty()) << "a graceful shutdown removes the entry";
}

// A worker in another process runs "Ghost", then dies without shutting down
// (its entry stays, no longer renewed). While its entry is live, a worker
// that does not run Ghost leaves Ghost's tasks alone (even one that started
// before the entry appeared); once the entry's TTL has passed, that worker
// fails them at once with WorkflowNotRegistered, and the entry no longer
// lists as live.
TEST(WorkerTest, CrashedWorkerStopsCountingAfterItsTtl) {
  auto backend = MemoryBackend();
  Client client(backend);
  Worker worker(backend, Runs({"OneStep"}, absl::Milliseconds(300)));
  constexpr absl::Duration kGhostTtl = absl::Seconds(1);
  ASSERT_TRUE(backend->RecordWorker(OtherWorker("Ghost", kGhostTtl)).ok());
  v1::CreateWorkflowInstanceRequest request;
  request.set_workflow_name("Ghost");
  absl::StatusOr<v1::WorkflowInstance> ghost =
      client.CreateWorkflowInstance(request);
  ASSERT_TRUE(ghost.ok()) << ghost.status();

  // The other worker is alive (it keeps sending heartbeats): nothing happens
  // to Ghost's instance, whatever this worker's poll finds.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(backend->RecordWorker(OtherWorker("Ghost", kGhostTtl)).ok());
    EXPECT_EQ(
        worker.PollWorkflowActivation(absl::Milliseconds(100)).status().code(),
        absl::StatusCode::kDeadlineExceeded);
    absl::StatusOr<v1::WorkflowInstanceState> state =
        client.GetWorkflowInstanceState(ghost->instance_id());
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_EQ(state->state(), v1::WORKFLOW_STATE_ACTIVE)
        << state->result().ShortDebugString();
  }
  absl::StatusOr<std::vector<v1::WorkerInfo>> live = client.ListWorkers();
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->size(), 2u);

  // It crashes: no more heartbeats, no removal.
  std::atomic<bool> done{false};
  std::thread poller([&] {
    while (!done.load()) {
      worker.PollWorkflowActivation(absl::Milliseconds(100)).IgnoreError();
    }
  });
  absl::StatusOr<v1::WorkflowResult> result =
      client.WaitForWorkflowResult(ghost->instance_id(), absl::Seconds(30));
  done = true;
  poller.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->failure().type(), "WorkflowNotRegistered");
  EXPECT_THAT(result->failure().message(),
              HasSubstr("workflow \"Ghost\" is not registered with any live "
                        "worker polling queue \"default\" (this worker "
                        "registered: OneStep)"));
  EXPECT_TRUE(result->failure().non_retryable());
  live = client.ListWorkers();
  ASSERT_TRUE(live.ok()) << live.status();
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].worker_id(), worker.worker_id());
  absl::StatusOr<std::vector<v1::WorkerInfo>> stored = backend->ListWorkers();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->size(), 2u) << "the dead entry stays visible for a while";
}

// A worker without registered names takes every task (today's behaviour),
// and the others must assume it may run any name on its queues.
TEST(WorkerTest, WorkerWithoutNamesReservesEveryNameOfItsQueues) {
  auto backend = MemoryBackend();
  Client client(backend);
  v1::WorkerInfo any = OtherWorker("", absl::Seconds(30));
  any.clear_registered_names();
  ASSERT_TRUE(backend->RecordWorker(any).ok());
  Worker worker(backend, Runs({"OneStep"}));
  Start(client, "SomethingElse");
  const std::string run = Start(client);
  // Only its own workflow comes; SomethingElse is left to the other worker.
  v1::WorkflowActivation a = Poll(worker);
  EXPECT_EQ(a.execution_id(), run);
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(run, {Complete()})).ok());
  a = Poll(worker);
  ASSERT_TRUE(IsEviction(a)) << "the finished run leaves the cache";
  ASSERT_TRUE(worker.CompleteWorkflowActivation(Commands(run, {})).ok());
  EXPECT_EQ(
      worker.PollWorkflowActivation(absl::Milliseconds(300)).status().code(),
      absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace durable::core
