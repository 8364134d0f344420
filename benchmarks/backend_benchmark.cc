// Cost of the backend's primitive operations, per backend (SQLite on a file
// at synchronous=FULL, SQLite in memory), called directly through
// core::Store (no worker, no language layer):
//   - create instance;
//   - take + complete a workflow task (GetWorkflowTask + CompleteWorkflowTask);
//   - take + complete an activity task (GetActivityTask +
//   CompleteActivityTask).
// Reported as operations/s (items_per_second) and as SQLite commits per
// operation: `commits_per_op` counts every transaction committed,
// `fsyncs_per_op` those committed with an fsync of their own (group commit
// folds concurrent callers into one; lease grants are not fsynced, see
// backends/sqlite/sqlite_store.h). The `threads:8` variants run eight
// callers at once to show group commit at work.
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/sqlite/sqlite_store.h"
#include "benchmark/benchmark.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"
#include "core/uuid.h"

namespace durable::bench {
namespace {

using backends::sqlite::SqliteOptions;
using backends::sqlite::SqliteStore;

constexpr absl::Duration kLease = absl::Seconds(60);

std::string TempPath() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/durable-backend-bench-",
                      absl::ToUnixNanos(absl::Now()), ".db");
}

// Each benchmark function opens its own backend in thread 0 and shares it.
struct Run {
  std::shared_ptr<SqliteStore> backend;
  SqliteStore::CommitStats before;
};
std::mutex run_mu;
Run* current_run = nullptr;

void BeginRun(benchmark::State& state) {
  if (state.thread_index() == 0) {
    SqliteOptions options;
    options.in_memory = state.range(0) == 0;
    if (!options.in_memory) options.path = TempPath();
    auto opened = SqliteStore::Open(options);
    std::lock_guard<std::mutex> lock(run_mu);
    delete current_run;
    current_run = new Run;
    if (opened.ok()) current_run->backend = std::move(*opened);
  }
  // The other threads read current_run after the loop's start barrier.
}

SqliteStore* Backend() {
  std::lock_guard<std::mutex> lock(run_mu);
  return current_run != nullptr ? current_run->backend.get() : nullptr;
}

v1::HistoryEvent Started(const std::string& queue) {
  v1::HistoryEvent started;
  started.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  started.mutable_workflow_execution_started()->set_workflow_name("Bench");
  started.mutable_workflow_execution_started()->set_queue(queue);
  return started;
}

absl::Status Create(core::Store& backend, const std::string& queue) {
  v1::WorkflowInstance instance;
  instance.set_instance_id(core::NewUuid());
  instance.set_execution_id(core::NewUuid());
  return backend.CreateWorkflowInstance(instance, Started(queue));
}

// The events a task appends: WorkflowTaskStarted, then the inbox events it
// consumed, numbered after the existing history.
std::vector<v1::HistoryEvent> TaskEvents(const core::WorkflowTask& task) {
  std::vector<v1::HistoryEvent> events;
  int64_t id = task.history_length;
  v1::HistoryEvent started;
  started.set_id(++id);
  started.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  started.mutable_workflow_task_started();
  events.push_back(std::move(started));
  for (v1::HistoryEvent event : task.new_events) {
    event.set_id(++id);
    events.push_back(std::move(event));
  }
  return events;
}

void ReportCommits(benchmark::State& state, const char* label) {
  if (state.thread_index() != 0) return;
  SqliteStore* backend = Backend();
  if (backend == nullptr) return;
  SqliteStore::CommitStats after = backend->commit_stats();
  const double ops = static_cast<double>(state.iterations()) * state.threads();
  state.counters["commits_per_op"] =
      static_cast<double>(after.commits - current_run->before.commits) / ops;
  state.counters["fsyncs_per_op"] =
      static_cast<double>(after.synced_commits -
                          current_run->before.synced_commits) /
      ops;
  state.SetLabel(absl::StrCat(label, state.range(0) == 1
                                         ? " sqlite file synchronous=FULL"
                                         : " sqlite memory"));
}

void SnapshotCommits(benchmark::State& state) {
  if (state.thread_index() != 0) return;
  if (SqliteStore* backend = Backend()) {
    current_run->before = backend->commit_stats();
  }
}

// --- create instance -------------------------------------------------------

void BM_CreateInstance(benchmark::State& state) {
  BeginRun(state);
  bool first = true;
  for (auto _ : state) {
    if (first) {
      first = false;
      state.PauseTiming();
      SnapshotCommits(state);
      state.ResumeTiming();
    }
    SqliteStore* backend = Backend();
    if (backend == nullptr) {
      state.SkipWithError("cannot open the backend");
      break;
    }
    if (absl::Status s = Create(*backend, "bench"); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  ReportCommits(state, "create");
}

// --- take + complete a workflow task ---------------------------------------
// Every completion sends the instance a signal (an outbound event to
// itself), so each instance always has its next task ready: the loop is
// self-sustaining and the cost is one lease + one commit per iteration.

void BM_WorkflowTask(benchmark::State& state) {
  BeginRun(state);
  const std::string queue = absl::StrCat("wf-", state.thread_index());
  bool first = true;
  for (auto _ : state) {
    SqliteStore* backend = Backend();
    if (backend == nullptr) {
      state.SkipWithError("cannot open the backend");
      break;
    }
    if (first) {
      first = false;
      state.PauseTiming();
      // Two instances per thread, on a queue of the thread's own.
      for (int i = 0; i < 2; ++i) {
        if (absl::Status s = Create(*backend, queue); !s.ok()) {
          state.SkipWithError(s.ToString().c_str());
        }
      }
      SnapshotCommits(state);
      state.ResumeTiming();
    }
    absl::StatusOr<std::optional<core::WorkflowTask>> task =
        backend->GetWorkflowTask({queue}, kLease,
                                 absl::Now() + absl::Seconds(5), nullptr);
    if (!task.ok() || !task->has_value()) {
      state.SkipWithError("no workflow task");
      break;
    }
    core::WorkflowTaskCompletion completion;
    completion.executed_events = TaskEvents(**task);
    core::OutboundEvent signal;
    signal.instance_id = (*task)->instance_id;
    signal.execution_id = (*task)->execution_id;
    signal.event.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
    signal.event.mutable_signal_received()->set_signal_name("next");
    completion.outbound_events.push_back(std::move(signal));
    if (absl::Status s = backend->CompleteWorkflowTask(**task, completion);
        !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  ReportCommits(state, "take+complete workflow task");
}

// --- take + complete an activity task --------------------------------------
// Activities are scheduled 200 at a time by a workflow task of an instance
// on a queue of its own (outside the timed region and the commit count).

absl::Status Refill(core::Store& backend, const std::string& tag, int count) {
  const std::string queue = absl::StrCat("refill-", tag, "-", core::NewUuid());
  if (absl::Status s = Create(backend, queue); !s.ok()) return s;
  absl::StatusOr<std::optional<core::WorkflowTask>> task =
      backend.GetWorkflowTask({queue}, kLease, absl::Now() + absl::Seconds(5),
                              nullptr);
  if (!task.ok()) return task.status();
  if (!task->has_value()) return absl::InternalError("no refill task");
  core::WorkflowTaskCompletion completion;
  completion.executed_events = TaskEvents(**task);
  int64_t id = completion.executed_events.back().id();
  for (int i = 0; i < count; ++i) {
    v1::HistoryEvent scheduled;
    scheduled.set_id(++id);
    scheduled.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
    scheduled.mutable_activity_scheduled()->set_activity_name("Step");
    scheduled.mutable_activity_scheduled()->set_queue(
        absl::StrCat("act-", tag));
    completion.executed_events.push_back(scheduled);
    core::ActivityTaskSpec spec;
    spec.scheduled_event = scheduled;
    spec.queue = absl::StrCat("act-", tag);
    completion.activities.push_back(std::move(spec));
  }
  return backend.CompleteWorkflowTask(**task, completion);
}

void BM_ActivityTask(benchmark::State& state) {
  BeginRun(state);
  const std::string tag = absl::StrCat(state.thread_index());
  const std::string queue = absl::StrCat("act-", tag);
  int available = 0;
  bool first = true;
  SqliteStore::CommitStats refill_cost;  // commits spent refilling
  for (auto _ : state) {
    SqliteStore* backend = Backend();
    if (backend == nullptr) {
      state.SkipWithError("cannot open the backend");
      break;
    }
    if (available == 0) {
      state.PauseTiming();
      const SqliteStore::CommitStats before = backend->commit_stats();
      if (absl::Status s = Refill(*backend, tag, 200); !s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        break;
      }
      available = 200;
      if (first) {
        first = false;
        SnapshotCommits(state);
      } else if (state.threads() == 1) {
        const SqliteStore::CommitStats after = backend->commit_stats();
        refill_cost.commits += after.commits - before.commits;
        refill_cost.synced_commits +=
            after.synced_commits - before.synced_commits;
      }
      state.ResumeTiming();
    }
    absl::StatusOr<std::optional<core::ActivityTask>> task =
        backend->GetActivityTask({queue}, kLease,
                                 absl::Now() + absl::Seconds(5), nullptr);
    if (!task.ok() || !task->has_value()) {
      state.SkipWithError("no activity task");
      break;
    }
    --available;
    v1::HistoryEvent result;
    result.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
    result.mutable_activity_completed()->set_scheduled_event_id(
        (*task)->scheduled_event.id());
    result.mutable_activity_completed()->mutable_result()->set_encoding(
        "json/plain");
    result.mutable_activity_completed()->mutable_result()->set_data("1");
    if (absl::Status s = backend->CompleteActivityTask(**task, result);
        !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0 && current_run != nullptr) {
    current_run->before.commits += refill_cost.commits;
    current_run->before.synced_commits += refill_cost.synced_commits;
  }
  ReportCommits(state, "take+complete activity task");
}

// Arg: 1 = SQLite file (synchronous=FULL), 0 = SQLite in memory.
BENCHMARK(BM_CreateInstance)->Arg(1)->Arg(0)->UseRealTime();
BENCHMARK(BM_CreateInstance)->Arg(1)->Arg(0)->Threads(8)->UseRealTime();
BENCHMARK(BM_WorkflowTask)->Arg(1)->Arg(0)->UseRealTime();
BENCHMARK(BM_WorkflowTask)->Arg(1)->Arg(0)->Threads(8)->UseRealTime();
BENCHMARK(BM_ActivityTask)->Arg(1)->Arg(0)->UseRealTime();
BENCHMARK(BM_ActivityTask)->Arg(1)->Arg(0)->Threads(8)->UseRealTime();

}  // namespace
}  // namespace durable::bench

BENCHMARK_MAIN();
