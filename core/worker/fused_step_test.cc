// Eager activity dispatch and the fused step (see worker.h), driven by a
// scripted language layer on real SQLite backends: a sequential workflow
// costs about one fsync per activity, a fused task whose instance moved on
// commits only the activity result, and a fused task that fails still gets
// its activity result committed.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/sqlite/sqlite_store.h"
#include "core/client/client.h"
#include "core/errors.h"
#include "core/worker/worker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

using ::testing::HasSubstr;

// The "Chain" workflow: activity "Step" seq 1, 2, ..., `steps` one after
// the other, then completes with the number of steps. Every job maps to one
// command, so replay issues the same commands whatever the grouping.
class ChainLanguageLayer {
 public:
  ChainLanguageLayer(Worker& worker, int steps, int workflow_threads,
                     int activity_threads)
      : worker_(worker), steps_(steps) {
    for (int i = 0; i < workflow_threads; ++i) {
      threads_.emplace_back([this] { RunWorkflows(); });
    }
    for (int i = 0; i < activity_threads; ++i) {
      threads_.emplace_back([this] { RunActivities(); });
    }
  }
  ~ChainLanguageLayer() { Stop(); }

  void Stop() {
    stop_.store(true);
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }

  // The next activation that resolves an activity is answered with a
  // failed completion (a broken language layer), once.
  void FailNextResolution() { fail_next_resolution_.store(true); }
  int failed_resolutions() const { return failed_resolutions_.load(); }

  std::vector<std::string> eviction_reasons() const {
    absl::MutexLock lock(&mu_);
    return eviction_reasons_;
  }

 private:
  void RunWorkflows() {
    while (!stop_.load()) {
      absl::StatusOr<v1::WorkflowActivation> activation =
          worker_.PollWorkflowActivation(absl::Seconds(1));
      if (!activation.ok()) continue;  // Deadline, or shutting down.
      v1::WorkflowActivationCompletion completion;
      completion.set_execution_id(activation->execution_id());
      auto* commands = completion.mutable_successful()->mutable_commands();
      bool resolves = false;
      for (const v1::WorkflowActivationJob& job : activation->jobs()) {
        if (job.has_remove_from_cache()) {
          absl::MutexLock lock(&mu_);
          eviction_reasons_.push_back(job.remove_from_cache().reason());
        } else if (job.has_start_workflow()) {
          Schedule(commands->Add(), 1);
        } else if (job.has_resolve_activity()) {
          resolves = true;
          const int seq = static_cast<int>(job.resolve_activity().seq());
          if (seq < steps_) {
            Schedule(commands->Add(), seq + 1);
          } else {
            commands->Add()
                ->mutable_complete_workflow()
                ->mutable_result()
                ->set_data(absl::StrCat(steps_));
          }
        }
      }
      if (resolves && fail_next_resolution_.exchange(false)) {
        completion.mutable_failed()->set_message("language layer broke");
        ++failed_resolutions_;
      }
      worker_.CompleteWorkflowActivation(completion).IgnoreError();
    }
  }

  static void Schedule(v1::WorkflowCommand* command, int seq) {
    command->mutable_schedule_activity()->set_seq(seq);
    command->mutable_schedule_activity()->set_activity_name("Step");
  }

  void RunActivities() {
    while (!stop_.load()) {
      absl::StatusOr<v1::ActivityTask> task =
          worker_.PollActivityTask(absl::Seconds(1));
      if (!task.ok()) continue;
      v1::ActivityTaskResult result;
      result.set_task_token(task->task_token());
      result.mutable_completed()->set_data("1");
      EXPECT_TRUE(worker_.CompleteActivityTask(result).ok());
    }
  }

  Worker& worker_;
  const int steps_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fail_next_resolution_{false};
  std::atomic<int> failed_resolutions_{0};
  mutable absl::Mutex mu_;
  std::vector<std::string> eviction_reasons_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

std::shared_ptr<backends::sqlite::SqliteStore> OpenBackend(bool in_memory) {
  backends::sqlite::SqliteOptions options;
  options.in_memory = in_memory;
  if (!in_memory) {
    options.path = absl::StrCat(::testing::TempDir(), "/fused-",
                                absl::ToUnixNanos(absl::Now()), ".db");
  }
  auto backend = backends::sqlite::SqliteStore::Open(options);
  EXPECT_TRUE(backend.ok()) << backend.status();
  return std::shared_ptr<backends::sqlite::SqliteStore>(*std::move(backend));
}

std::string StartChain(Client& client) {
  v1::CreateWorkflowInstanceRequest request;
  request.set_workflow_name("Chain");
  absl::StatusOr<v1::WorkflowInstance> instance =
      client.CreateWorkflowInstance(request);
  EXPECT_TRUE(instance.ok()) << instance.status();
  return instance.ok() ? instance->instance_id() : "";
}

int CountActivityCompleted(const std::vector<v1::HistoryEvent>& history) {
  int n = 0;
  for (const v1::HistoryEvent& event : history) {
    if (event.has_activity_completed()) ++n;
  }
  return n;
}

// Waits (bounded) until a workflow poller waits in the worker for local
// work, so that the next activity result is fused.
void AwaitIdleWorkflowPoller(const Worker& worker) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (worker.stats().idle_workflow_pollers < 1 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_GE(worker.stats().idle_workflow_pollers, 1);
}

TEST(FusedStepTest, SequentialActivitiesCostAboutOneFsyncEach) {
  constexpr int kSteps = 40;
  auto backend = OpenBackend(/*in_memory=*/false);
  Client client(backend);
  Worker worker(backend, WorkerConfig());
  const auto before = backend->commit_stats();
  {
    // Long polls and spare threads, so that a poller is usually idle in the
    // worker when a result arrives (shutdown ends the polls at once).
    ChainLanguageLayer layer(worker, kSteps, /*workflow_threads=*/6,
                             /*activity_threads=*/4);
    const std::string id = StartChain(client);
    absl::StatusOr<v1::WorkflowResult> result =
        client.WaitForWorkflowResult(id, absl::Seconds(60));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->result().data(), absl::StrCat(kSteps));
    absl::StatusOr<std::vector<v1::HistoryEvent>> history =
        client.GetWorkflowHistory(id);
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(CountActivityCompleted(*history), kSteps);
    worker.InitiateShutdown();
  }
  ASSERT_TRUE(worker.FinalizeShutdown(absl::Seconds(10)).ok());

  const Worker::Stats stats = worker.stats();
  const auto after = backend->commit_stats();
  const int64_t fsyncs = after.synced_commits - before.synced_commits;
  // Without fusing: a commit for each activity result and for each workflow
  // task, 2 * kSteps + 2. Thread timing may leave a step unfused now and
  // then (no poller idle at that instant), hence the slack.
  EXPECT_GE(stats.fused_tasks, kSteps / 4);
  EXPECT_EQ(stats.fused_tasks_refused, 0);
  EXPECT_LE(fsyncs, kSteps + kSteps / 2 + 2)
      << "fused tasks: " << stats.fused_tasks;
  EXPECT_GE(stats.eager_activities, kSteps / 8);
}

// Runs the first workflow task (scheduling activity 1) and leases the
// activity, with no language-layer threads running yet.
v1::ActivityTask RunFirstTaskAndLeaseActivity(Worker& worker,
                                              const std::string& instance_id) {
  absl::StatusOr<v1::WorkflowActivation> start =
      worker.PollWorkflowActivation(absl::Seconds(10));
  EXPECT_TRUE(start.ok()) << start.status();
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id(start->execution_id());
  auto* schedule = completion.mutable_successful()
                       ->add_commands()
                       ->mutable_schedule_activity();
  schedule->set_seq(1);
  schedule->set_activity_name("Step");
  EXPECT_TRUE(worker.CompleteWorkflowActivation(completion).ok());
  absl::StatusOr<v1::ActivityTask> task =
      worker.PollActivityTask(absl::Seconds(10));
  EXPECT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->instance_id(), instance_id);
  return *task;
}

v1::ActivityTaskResult Done(const v1::ActivityTask& task) {
  v1::ActivityTaskResult result;
  result.set_task_token(task.task_token());
  result.mutable_completed()->set_data("1");
  return result;
}

TEST(FusedStepTest, InstanceMovedOnElsewhereCommitsOnlyTheActivityResult) {
  auto backend = OpenBackend(/*in_memory=*/true);
  Client client(backend);
  Worker worker(backend, WorkerConfig());
  const std::string id = StartChain(client);
  const std::string execution_id =
      client.GetWorkflowInstanceState(id)->execution_id();
  const v1::ActivityTask activity = RunFirstTaskAndLeaseActivity(worker, id);

  // Another worker (the backend used directly) runs a task of the instance
  // for a signal: the run cached in `worker` is now stale.
  v1::SignalWorkflowRequest signal;
  signal.set_instance_id(id);
  signal.set_signal_name("poke");
  ASSERT_TRUE(client.SignalWorkflow(signal).ok());
  absl::StatusOr<std::optional<WorkflowTask>> other =
      backend->GetWorkflowTask({kDefaultQueue}, absl::Seconds(30),
                               absl::Now() + absl::Seconds(5), nullptr);
  ASSERT_TRUE(other.ok() && other->has_value());
  WorkflowTaskCompletion moved_on;
  int64_t id_seq = (*other)->history_length;
  v1::HistoryEvent started;
  started.set_id(++id_seq);
  started.mutable_workflow_task_started();
  moved_on.executed_events.push_back(started);
  for (v1::HistoryEvent event : (*other)->new_events) {
    event.set_id(++id_seq);
    moved_on.executed_events.push_back(event);
  }
  ASSERT_TRUE(backend->CompleteWorkflowTask(**other, moved_on).ok());

  ChainLanguageLayer layer(worker, /*steps=*/1, /*workflow_threads=*/2,
                           /*activity_threads=*/0);
  AwaitIdleWorkflowPoller(worker);
  ASSERT_TRUE(worker.CompleteActivityTask(Done(activity)).ok());
  EXPECT_EQ(worker.stats().fused_tasks, 1);

  absl::StatusOr<v1::WorkflowResult> result =
      client.WaitForWorkflowResult(id, absl::Seconds(30));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->result().data(), "1");
  EXPECT_EQ(worker.stats().fused_tasks_refused, 1);
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      backend->GetWorkflowHistory(id, execution_id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(CountActivityCompleted(*history), 1);
  bool signal_seen = false;
  for (const v1::HistoryEvent& event : *history) {
    if (event.has_signal_received()) signal_seen = true;
    if (event.has_activity_completed()) {
      EXPECT_TRUE(signal_seen) << "the refused fused task wrote history";
    }
  }
  EXPECT_TRUE(signal_seen);
  bool refusal_evicted = false;
  for (const std::string& reason : layer.eviction_reasons()) {
    if (absl::StrContains(reason, "fused task refused")) refusal_evicted = true;
  }
  EXPECT_TRUE(refusal_evicted)
      << "evictions: " << absl::StrJoin(layer.eviction_reasons(), "; ");
  worker.InitiateShutdown();
  layer.Stop();
  EXPECT_TRUE(worker.FinalizeShutdown(absl::Seconds(10)).ok());
}

TEST(FusedStepTest, FailedFusedTaskStillCommitsTheActivityResult) {
  auto backend = OpenBackend(/*in_memory=*/true);
  Client client(backend);
  Worker worker(backend, WorkerConfig());
  const std::string id = StartChain(client);
  const v1::ActivityTask activity = RunFirstTaskAndLeaseActivity(worker, id);

  ChainLanguageLayer layer(worker, /*steps=*/1, /*workflow_threads=*/2,
                           /*activity_threads=*/0);
  layer.FailNextResolution();
  AwaitIdleWorkflowPoller(worker);
  ASSERT_TRUE(worker.CompleteActivityTask(Done(activity)).ok());
  EXPECT_EQ(worker.stats().fused_tasks, 1);

  // The fused task fails; its result is committed alone and a regular task
  // (after the retry delay) replays the run and finishes it.
  absl::StatusOr<v1::WorkflowResult> result =
      client.WaitForWorkflowResult(id, absl::Seconds(30));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->result().data(), "1");
  EXPECT_EQ(layer.failed_resolutions(), 1);
  absl::StatusOr<std::vector<v1::HistoryEvent>> history =
      client.GetWorkflowHistory(id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(CountActivityCompleted(*history), 1);
  worker.InitiateShutdown();
  layer.Stop();
  EXPECT_TRUE(worker.FinalizeShutdown(absl::Seconds(10)).ok());
}

}  // namespace
}  // namespace durable::core
