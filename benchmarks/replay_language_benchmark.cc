// Replay through the full language path, cache off: history events per
// second when a worker (C ABI -> core Worker) takes a workflow task, loads
// the run's history from SQLite, replays it through the state machine and
// hands every activation across the C ABI to a language layer.
//
//   BM_FacadeReplay/N   the C++ facade's executor (coroutines, JSON payload
//                       decoding) running a workflow of N sequential
//                       activities (N = 10, 1,000, 10,000);
//   BM_FacadeReplayMixed/R
//                       the facade running R rounds of side effect +
//                       activity + 1 ms timer, draining a signal channel
//                       that receives a signal every third task;
//   BM_ScriptedReplayMixed/R
//                       the same protocol from a scripted language layer
//                       behind the C ABI (history_gen.h), i.e. the C ABI
//                       path without the facade's coroutines and JSON.
//
// Each run's history (everything but its last workflow task) is written to an
// SQLite file once; the last task's events wait in the inbox. One iteration
// polls activations until the live (non-replaying) one -- that is the timed
// part: lease, history load, replay, every activation through the C ABI and
// the language layer -- then fails that last activation on purpose so the
// task is released untouched (retry delay 1 us) for the next iteration. The
// file lives in /dev/shm when available, so no fsync is measured.
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/sqlite/sqlite_store.h"
#include "benchmark/benchmark.h"
#include "benchmarks/history_gen.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"
#include "durable/activity_context.h"
#include "durable/durable.h"
#include "durable/internal/workflow_executor.h"
#include "durable/registry.h"
#include "durable/signal_channel.h"
#include "durable/task.h"
#include "durable/workflow_context.h"

namespace durable::bench {
namespace {

int Step(ActivityContext&, int value) { return value; }

Task<absl::StatusOr<int64_t>> Sequential(WorkflowContext& ctx, int n) {
  int64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<int> r = co_await ctx.ExecuteActivity(Step, i);
    if (!r.ok()) co_return r.status();
    sum += *r;
  }
  co_return sum;
}

// Each round: a side effect, an activity and a timer, awaited together;
// signals on "tick" are drained as they arrive.
Task<absl::StatusOr<int>> Mixed(WorkflowContext& ctx, int rounds) {
  durable::SignalChannel<int> ticks = ctx.SignalChannel<int>("tick");
  int signals = 0;
  for (int i = 0; i < rounds; ++i) {
    absl::StatusOr<int> noted = ctx.SideEffect([i] { return i; });
    if (!noted.ok()) co_return noted.status();
    Future<int> step = ctx.ExecuteActivity(Step, i);
    Future<void> timer = ctx.Sleep(absl::Milliseconds(1));
    absl::StatusOr<int> result = co_await step;
    if (!result.ok()) co_return result.status();
    absl::Status fired = co_await timer;
    if (!fired.ok()) co_return fired;
    while (ticks.TryReceive().has_value()) ++signals;
  }
  co_return rounds;
}

const Registry& BenchRegistry() {
  static const Registry* registry = [] {
    auto* r = new Registry;
    r->RegisterWorkflow("Sequential", Sequential).IgnoreError();
    r->RegisterWorkflow("Mixed", Mixed).IgnoreError();
    r->RegisterActivity("Step", Step).IgnoreError();
    return r;
  }();
  return *registry;
}

std::string TempDir() {
  if (access("/dev/shm", W_OK) == 0) return "/dev/shm";
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// Writes history[0, final_task_begin) and the last task's inbox events.
absl::Status Seed(const std::string& path, const RecordedRun& run,
                  const std::string& workflow_name) {
  backends::sqlite::SqliteOptions options;
  options.path = path;
  absl::StatusOr<std::unique_ptr<backends::sqlite::SqliteStore>> backend =
      backends::sqlite::SqliteStore::Open(options);
  if (!backend.ok()) return backend.status();
  v1::WorkflowInstance instance;
  instance.set_instance_id("bench-instance");
  instance.set_execution_id("bench-run");
  v1::HistoryEvent started = run.history[1];
  if (!started.has_workflow_execution_started()) {
    return absl::InternalError("history[1] is not WorkflowExecutionStarted");
  }
  if (absl::Status s = (*backend)->CreateWorkflowInstance(instance, started);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::optional<core::WorkflowTask>> task =
      (*backend)->GetWorkflowTask({"default"}, absl::Seconds(60),
                                  absl::Now() + absl::Seconds(5), nullptr);
  if (!task.ok()) return task.status();
  if (!task->has_value()) return absl::InternalError("no task to seed");
  core::WorkflowTaskCompletion completion;
  completion.executed_events.assign(run.history.begin(),
                                    run.history.begin() + run.final_task_begin);
  for (const v1::HistoryEvent& event : run.final_inbound) {
    core::OutboundEvent outbound;
    outbound.instance_id = "bench-instance";
    outbound.execution_id = "bench-run";
    outbound.event = event;
    completion.outbound_events.push_back(std::move(outbound));
  }
  return (*backend)->CompleteWorkflowTask(**task, completion);
}

// C ABI handles of one benchmark run.
class AbiWorker {
 public:
  ~AbiWorker() {
    if (worker_ != nullptr) {
      durable_worker_initiate_shutdown(worker_);
      durable_worker_finalize_shutdown(worker_, 1000, nullptr);
    }
    durable_worker_free(worker_);
    durable_backend_free(backend_);
  }

  absl::Status Open(const std::string& path) {
    char* error = nullptr;
    if (durable_backend_open(("sqlite://" + path).c_str(), &backend_, &error) !=
        DURABLE_OK) {
      return Fail("durable_backend_open", error);
    }
    v1::WorkerOptions options;
    options.set_max_cached_workflows(0);  // cache off: replay every task
    options.set_workflow_task_retry_delay_us(1);
    const std::string bytes = options.SerializeAsString();
    if (durable_worker_new(backend_,
                           reinterpret_cast<const uint8_t*>(bytes.data()),
                           bytes.size(), &worker_, &error) != DURABLE_OK) {
      return Fail("durable_worker_new", error);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::WorkflowActivation> Poll() {
    uint8_t* out = nullptr;
    size_t out_len = 0;
    char* error = nullptr;
    durable_status_t code = durable_worker_poll_workflow_activation(
        worker_, 5000, &out, &out_len, &error);
    if (code != DURABLE_OK) return Fail("poll", error);
    v1::WorkflowActivation activation;
    const bool parsed = activation.ParseFromArray(out, out_len);
    durable_free(out);
    if (!parsed) return absl::DataLossError("unparsable activation");
    return activation;
  }

  // OK also for the deliberately failed completion (the worker reports the
  // failure back as INTERNAL).
  absl::Status Complete(const v1::WorkflowActivationCompletion& completion,
                        bool expect_failure = false) {
    const std::string bytes = completion.SerializeAsString();
    char* error = nullptr;
    durable_status_t code = durable_worker_complete_workflow_activation(
        worker_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
        &error);
    if (code == DURABLE_OK || expect_failure) {
      durable_free(error);
      return absl::OkStatus();
    }
    return Fail("complete", error);
  }

 private:
  static absl::Status Fail(const char* what, char* error) {
    absl::Status status = absl::InternalError(
        absl::StrCat(what, ": ", error != nullptr ? error : "failed"));
    durable_free(error);
    return status;
  }

  durable_backend_t* backend_ = nullptr;
  durable_worker_t* worker_ = nullptr;
};

// The timed loop shared by both benchmarks.
void ReplayLoop(benchmark::State& state, const RecordedRun& run,
                const std::string& workflow_name, const Respond& respond) {
  const std::string path =
      absl::StrCat(TempDir(), "/durable-replay-bench-", getpid(), "-",
                   absl::ToUnixNanos(absl::Now()), ".db");
  if (absl::Status s = Seed(path, run, workflow_name); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  {
    AbiWorker worker;
    if (absl::Status s = worker.Open(path); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    int64_t activations = 0;
    for (auto _ : state) {
      const absl::Time start = absl::Now();
      bool live = false;
      while (!live) {
        absl::StatusOr<v1::WorkflowActivation> activation = worker.Poll();
        if (!activation.ok()) {
          state.SkipWithError(activation.status().ToString().c_str());
          break;
        }
        ++activations;
        v1::WorkflowActivationCompletion completion = respond(*activation);
        if (activation->is_replaying()) {
          if (absl::Status s = worker.Complete(completion); !s.ok()) {
            state.SkipWithError(s.ToString().c_str());
            break;
          }
          continue;
        }
        // The live task: everything before it was replay. Stop the clock,
        // then check the workflow finished as recorded and release the task.
        live = true;
        state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - start));
        if (!completion.has_successful() ||
            completion.successful().commands_size() == 0 ||
            !completion.successful().commands(0).has_complete_workflow()) {
          state.SkipWithError("the replayed run did not complete");
          break;
        }
        v1::WorkflowActivationCompletion failed;
        failed.set_execution_id(activation->execution_id());
        failed.mutable_failed()->set_type("BenchmarkReplayOnly");
        failed.mutable_failed()->set_message("released for the next round");
        if (absl::Status s = worker.Complete(failed, true); !s.ok()) {
          state.SkipWithError(s.ToString().c_str());
          break;
        }
        // The run is evicted: acknowledge its RemoveFromCache.
        absl::StatusOr<v1::WorkflowActivation> eviction = worker.Poll();
        if (!eviction.ok() || eviction->jobs_size() != 1 ||
            !eviction->jobs(0).has_remove_from_cache()) {
          state.SkipWithError("expected the run's eviction");
          break;
        }
        worker.Complete(respond(*eviction)).IgnoreError();
      }
      if (!live) break;
    }
    const double events = static_cast<double>(run.history.size());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events));
    state.counters["history_events"] = events;
    state.counters["activations_per_replay"] =
        state.iterations() > 0
            ? static_cast<double>(activations) / state.iterations()
            : 0;
    state.counters["events_per_second"] = benchmark::Counter(
        state.iterations() * events, benchmark::Counter::kIsRate);
  }
  unlink(path.c_str());
  unlink((path + "-wal").c_str());
  unlink((path + "-shm").c_str());
}

void BM_FacadeReplay(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  internal::WorkflowExecutor executor(BenchRegistry());
  Respond respond = [&](const v1::WorkflowActivation& a) {
    return executor.Process(a);
  };
  absl::StatusOr<RecordedRun> run =
      RecordRun("Sequential", {JsonBenchPayload(absl::StrCat(n))}, respond);
  if (!run.ok()) {
    state.SkipWithError(run.status().ToString().c_str());
    return;
  }
  ReplayLoop(state, *run, "Sequential", respond);
  state.SetLabel("C ABI + C++ facade, cache off");
}
BENCHMARK(BM_FacadeReplay)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(10000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_FacadeReplayMixed(benchmark::State& state) {
  const int rounds = static_cast<int>(state.range(0));
  internal::WorkflowExecutor executor(BenchRegistry());
  Respond respond = [&](const v1::WorkflowActivation& a) {
    return executor.Process(a);
  };
  absl::StatusOr<RecordedRun> run =
      RecordRun("Mixed", {JsonBenchPayload(absl::StrCat(rounds))}, respond,
                /*signal_every=*/3);
  if (!run.ok()) {
    state.SkipWithError(run.status().ToString().c_str());
    return;
  }
  ReplayLoop(state, *run, "Mixed", respond);
  state.SetLabel("C ABI + C++ facade, timers/signals/side effects");
}
BENCHMARK(BM_FacadeReplayMixed)
    ->Arg(1000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_ScriptedReplayMixed(benchmark::State& state) {
  const int rounds = static_cast<int>(state.range(0));
  MixedScript script(rounds);
  Respond respond = [&](const v1::WorkflowActivation& a) { return script(a); };
  absl::StatusOr<RecordedRun> run =
      RecordRun("Mixed", {}, respond, /*signal_every=*/3);
  if (!run.ok()) {
    state.SkipWithError(run.status().ToString().c_str());
    return;
  }
  ReplayLoop(state, *run, "Mixed", respond);
  state.SetLabel("C ABI + scripted layer, timers/signals/side effects");
}
BENCHMARK(BM_ScriptedReplayMixed)
    ->Arg(1000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace durable::bench

BENCHMARK_MAIN();
