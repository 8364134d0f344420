// The worker and time: the housekeeping thread sleeps until its next
// deadline instead of ticking, and everything the worker stamps or decides
// on reads WorkerConfig::clock (the client's clock likewise), on a real
// (in-memory) SQLite store.
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/sqlite/sqlite_store.h"
#include "core/client/client.h"
#include "core/clock.h"
#include "core/worker/worker.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

std::shared_ptr<Store> MemoryStore() {
  backends::sqlite::SqliteOptions options;
  options.in_memory = true;
  auto store = backends::sqlite::SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return std::shared_ptr<Store>(*std::move(store));
}

// Far from the real time, so that anything read from the real clock shows.
const absl::Time kFarFuture = absl::FromUnixSeconds(4'102'444'800);  // 2100

v1::WorkflowActivationCompletion Commands(const std::string& execution_id,
                                          v1::WorkflowCommand command) {
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id(execution_id);
  *completion.mutable_successful()->add_commands() = std::move(command);
  return completion;
}

TEST(WorkerTimeTest, IdleWorkerDoesNotWakeOnATick) {
  auto store = MemoryStore();
  Worker worker(store, WorkerConfig());
  absl::SleepFor(absl::Milliseconds(1200));
  // Idle, the thread wakes for the registry refresh (once a second) and
  // nothing else; a 20 ms tick would have woken it about 60 times.
  EXPECT_LE(worker.stats().housekeeping_wakeups, 4);
  worker.InitiateShutdown();
  EXPECT_TRUE(worker.FinalizeShutdown(absl::Seconds(5)).ok());
}

TEST(WorkerTimeTest, RegistryEntryIsStampedAndRenewedOnTheWorkersClock) {
  auto store = MemoryStore();
  ManualClock clock(kFarFuture);
  WorkerConfig config;
  config.clock = &clock;
  config.worker_ttl = absl::Seconds(30);  // heartbeat every 10 s
  Worker worker(store, config);
  auto entry = [&]() {
    absl::StatusOr<std::vector<v1::WorkerInfo>> workers = store->ListWorkers();
    EXPECT_TRUE(workers.ok()) << workers.status();
    return workers.ok() && workers->size() == 1 ? (*workers)[0]
                                                : v1::WorkerInfo();
  };
  EXPECT_EQ(entry().started_at_unix_us(), absl::ToUnixMicros(kFarFuture));
  EXPECT_EQ(entry().last_seen_unix_us(), absl::ToUnixMicros(kFarFuture));

  // A client judges liveness on its own clock: live in 2100, gone an hour
  // later.
  ManualClock same_time(kFarFuture);
  EXPECT_EQ(Client(store, &same_time).ListWorkers()->size(), 1u);
  ManualClock hour_later(kFarFuture + absl::Hours(1));
  EXPECT_TRUE(Client(store, &hour_later).ListWorkers()->empty());

  // Real time alone does not make the heartbeat due; moving the worker's
  // clock past it does (noticed within about a second of real time, at
  // the thread's next wake-up).
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_EQ(entry().last_seen_unix_us(), absl::ToUnixMicros(kFarFuture));
  clock.Advance(absl::Seconds(11));
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (entry().last_seen_unix_us() == absl::ToUnixMicros(kFarFuture) &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(entry().last_seen_unix_us(),
            absl::ToUnixMicros(kFarFuture + absl::Seconds(11)));
  worker.InitiateShutdown();
  EXPECT_TRUE(worker.FinalizeShutdown(absl::Seconds(5)).ok());
}

// Workflow time, event stamps and activity timeouts follow the injected
// clock: an attempt with a one-hour heartbeat timeout times out as soon as
// the clock is moved two hours on, without an hour of real time.
TEST(WorkerTimeTest, WorkflowTimeAndActivityTimeoutsFollowTheWorkersClock) {
  auto store = MemoryStore();
  ManualClock clock(kFarFuture);
  Client client(store, &clock);
  WorkerConfig config;
  config.clock = &clock;
  Worker worker(store, config);

  v1::CreateWorkflowInstanceRequest request;
  request.set_workflow_name("OneStep");
  absl::StatusOr<v1::WorkflowInstance> instance =
      client.CreateWorkflowInstance(request);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<v1::WorkflowActivation> a =
      worker.PollWorkflowActivation(absl::Seconds(10));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->workflow_time_unix_us(), absl::ToUnixMicros(kFarFuture));

  v1::WorkflowCommand schedule;
  schedule.mutable_schedule_activity()->set_seq(1);
  schedule.mutable_schedule_activity()->set_activity_name("Step");
  schedule.mutable_schedule_activity()->set_heartbeat_timeout_us(
      absl::ToInt64Microseconds(absl::Hours(1)));
  schedule.mutable_schedule_activity()
      ->mutable_retry_policy()
      ->set_maximum_attempts(1);
  ASSERT_TRUE(
      worker.CompleteWorkflowActivation(Commands(a->execution_id(), schedule)).ok());
  absl::StatusOr<v1::ActivityTask> task =
      worker.PollActivityTask(absl::Seconds(10));
  ASSERT_TRUE(task.ok()) << task.status();

  // Real time passing does not time the attempt out...
  absl::SleepFor(absl::Milliseconds(300));
  v1::ActivityHeartbeat beat;
  beat.set_task_token(task->task_token());
  ASSERT_TRUE(worker.RecordActivityHeartbeat(beat).ok());
  // ... the worker's clock passing the deadline does.
  clock.Advance(absl::Hours(2));
  a = worker.PollWorkflowActivation(absl::Seconds(10));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->jobs_size(), 1);
  ASSERT_TRUE(a->jobs(0).resolve_activity().has_failed());
  EXPECT_EQ(a->jobs(0).resolve_activity().failed().type(), "HeartbeatTimeout");
  EXPECT_EQ(a->workflow_time_unix_us(),
            absl::ToUnixMicros(kFarFuture + absl::Hours(2)));
  EXPECT_EQ(worker.RecordActivityHeartbeat(beat).code(),
            absl::StatusCode::kNotFound);

  // The history's stamps come from the same clock.
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      client.GetWorkflowHistory(instance->instance_id());
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_FALSE(history->empty());
  EXPECT_EQ((*history)[0].timestamp_unix_us(), absl::ToUnixMicros(kFarFuture));
}

}  // namespace
}  // namespace durable::core
