// Late duplicates of a result, end to end through a real (in-memory) SQLite
// backend and the worker: the inbox may hold a second ActivityCompleted or
// ActivityFailed for an activity the run already resolved (a result
// delivered twice). The core drops it, in the live task that consumes it and
// when a later worker replays the history that recorded it, so the language
// layer never sees a resolution for a command that is no longer pending.
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "backends/sqlite/sqlite_store.h"
#include "core/client/client.h"
#include "core/worker/worker.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

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

// Answers the activation with `commands`.
void Answer(Worker& worker, const v1::WorkflowActivation& activation,
            std::vector<v1::WorkflowCommand> commands) {
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id(activation.execution_id());
  completion.mutable_successful();
  for (auto& c : commands) *completion.mutable_successful()->add_commands() = c;
  absl::Status status = worker.CompleteWorkflowActivation(completion);
  EXPECT_TRUE(status.ok()) << status;
}

v1::WorkflowCommand ScheduleStep() {
  v1::WorkflowCommand command;
  command.mutable_schedule_activity()->set_seq(1);
  command.mutable_schedule_activity()->set_activity_name("Step");
  return command;
}

v1::WorkflowCommand Complete() {
  v1::WorkflowCommand command;
  command.mutable_complete_workflow()->mutable_result()->set_data("done");
  return command;
}

// The kinds of the activation's jobs, e.g. {"resolve_activity"}.
std::vector<std::string> Jobs(const v1::WorkflowActivation& activation) {
  std::vector<std::string> jobs;
  for (const v1::WorkflowActivationJob& job : activation.jobs()) {
    jobs.push_back(
        job.GetDescriptor()->FindFieldByNumber(job.variant_case())->name());
  }
  return jobs;
}

TEST(DuplicateResultTest, LateDuplicateResultNeverReachesTheLanguageLayer) {
  auto backend = MemoryBackend();
  Client client(backend);
  v1::CreateWorkflowInstanceRequest request;
  request.set_workflow_name("OneStep");
  request.set_instance_id("twice");
  ASSERT_TRUE(client.CreateWorkflowInstance(request).ok());

  {
    Worker worker(backend, WorkerConfig{});
    v1::WorkflowActivation a = Poll(worker);
    ASSERT_EQ(Jobs(a), std::vector<std::string>{"start_workflow"});
    Answer(worker, a, {ScheduleStep()});

    // The activity's result arrives twice (event 3 is its ActivityScheduled).
    auto task = backend->GetActivityTask(
        {}, absl::Seconds(30), absl::Now() + absl::Seconds(10), nullptr);
    ASSERT_TRUE(task.ok() && task->has_value()) << task.status();
    v1::HistoryEvent result;
    result.mutable_activity_completed()->set_scheduled_event_id(3);
    result.mutable_activity_completed()->mutable_result()->set_data("1");
    ASSERT_TRUE(backend->CompleteActivityTask(**task, result).ok());
    v1::HistoryEvent again = result;
    again.mutable_activity_completed()->mutable_result()->set_data("2");
    ASSERT_TRUE(backend->DeliverWorkflowEvent("twice", again).ok());

    a = Poll(worker);
    EXPECT_FALSE(a.is_replaying());
    ASSERT_EQ(Jobs(a), std::vector<std::string>{"resolve_activity"});
    EXPECT_EQ(a.jobs(0).resolve_activity().completed().data(), "1");
    Answer(worker, a, {});

    // Shut down: the next worker replays what this one recorded.
    worker.InitiateShutdown();
    ASSERT_TRUE(worker.FinalizeShutdown(absl::Seconds(5)).ok());
  }

  // A third copy, failed this time, arrives with a signal.
  v1::HistoryEvent late;
  late.mutable_activity_failed()->set_scheduled_event_id(3);
  late.mutable_activity_failed()->mutable_failure()->set_type("Late");
  ASSERT_TRUE(backend->DeliverWorkflowEvent("twice", late).ok());
  v1::HistoryEvent finish;
  finish.mutable_signal_received()->set_signal_name("finish");
  ASSERT_TRUE(backend->DeliverWorkflowEvent("twice", finish).ok());

  WorkerConfig no_cache;
  no_cache.max_cached_runs = 0;
  Worker worker(backend, no_cache);
  v1::WorkflowActivation a = Poll(worker);
  ASSERT_TRUE(a.is_replaying());
  ASSERT_EQ(Jobs(a), std::vector<std::string>{"start_workflow"});
  Answer(worker, a, {ScheduleStep()});
  a = Poll(worker);
  ASSERT_TRUE(a.is_replaying());
  ASSERT_EQ(Jobs(a), std::vector<std::string>{"resolve_activity"});
  EXPECT_EQ(a.jobs(0).resolve_activity().completed().data(), "1");
  Answer(worker, a, {});
  a = Poll(worker);
  EXPECT_FALSE(a.is_replaying());
  ASSERT_EQ(Jobs(a), std::vector<std::string>{"signal_workflow"});
  Answer(worker, a, {Complete()});
  a = Poll(worker);
  ASSERT_EQ(Jobs(a), std::vector<std::string>{"remove_from_cache"});
  Answer(worker, a, {});

  auto state = backend->GetWorkflowInstanceState("twice");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::WORKFLOW_STATE_FINISHED);
  worker.InitiateShutdown();
  EXPECT_TRUE(worker.FinalizeShutdown(absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace durable::core
