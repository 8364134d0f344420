// Replay throughput of the core state machine alone: history events per
// second for a workflow of N sequential activities (N = 10, 1,000, 10,000),
// and for one mixing timers, signals and side effects with its activities
// (BM_ReplayMixed, its history recorded from a live run, see history_gen.h).
//
// The language layer is scripted: each activation is answered with the
// command the workflow code would issue (prepared outside the timed loop),
// so the measurement is the core's work: grouping history into workflow
// tasks, building activations, matching commands against recorded events.
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "benchmarks/history_gen.h"
#include "core/proto/history.pb.h"
#include "core/proto/protocol.pb.h"
#include "core/replay/workflow_state_machine.h"

namespace durable::core {
namespace {

v1::Payload Json(const std::string& text) {
  v1::Payload payload;
  payload.set_encoding("json/plain");
  payload.set_data(text);
  return payload;
}

// History of a workflow that runs `n` activities one after another:
//   task 1:        TaskStarted, ExecutionStarted, ActivityScheduled
//   task 2..n:     TaskStarted, ActivityCompleted, ActivityScheduled
//   task n+1:      TaskStarted, ActivityCompleted, ExecutionFinished
std::vector<v1::HistoryEvent> SequentialActivityHistory(int n) {
  std::vector<v1::HistoryEvent> history;
  int64_t now = absl::ToUnixMicros(absl::FromUnixSeconds(1'700'000'000));
  auto add = [&](v1::HistoryEvent event) {
    event.set_id(static_cast<int64_t>(history.size()) + 1);
    event.set_timestamp_unix_us(now++);
    history.push_back(std::move(event));
    return history.back().id();
  };
  v1::HistoryEvent event;
  event.mutable_workflow_task_started();
  add(event);
  event.Clear();
  event.mutable_workflow_execution_started()->set_workflow_name("Sequential");
  add(event);
  int64_t scheduled_id = 0;
  for (int i = 0; i <= n; ++i) {
    if (i > 0) {
      event.Clear();
      event.mutable_workflow_task_started();
      add(event);
      event.Clear();
      event.mutable_activity_completed()->set_scheduled_event_id(scheduled_id);
      *event.mutable_activity_completed()->mutable_result() = Json("1");
      add(event);
    }
    event.Clear();
    if (i < n) {
      event.mutable_activity_scheduled()->set_activity_name("Step");
      *event.mutable_activity_scheduled()->add_arguments() = Json("1");
      scheduled_id = add(event);
    } else {
      *event.mutable_workflow_execution_finished()->mutable_result() =
          Json(std::to_string(n));
      add(event);
    }
  }
  return history;
}

std::vector<v1::WorkflowActivationCompletion> ScriptedCompletions(int n) {
  std::vector<v1::WorkflowActivationCompletion> completions(n + 1);
  for (int i = 0; i <= n; ++i) {
    completions[i].set_execution_id("run");
    v1::WorkflowCommand* command =
        completions[i].mutable_successful()->add_commands();
    if (i < n) {
      command->mutable_schedule_activity()->set_seq(i + 1);
      command->mutable_schedule_activity()->set_activity_name("Step");
      *command->mutable_schedule_activity()->add_arguments() = Json("1");
    } else {
      *command->mutable_complete_workflow()->mutable_result() =
          Json(std::to_string(n));
    }
  }
  return completions;
}

void BM_ReplaySequentialActivities(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<v1::HistoryEvent> history = SequentialActivityHistory(n);
  const std::vector<v1::WorkflowActivationCompletion> completions =
      ScriptedCompletions(n);
  for (auto _ : state) {
    WorkflowStateMachine machine("instance", "run");
    if (!machine.LoadHistory(history).ok()) {
      state.SkipWithError("LoadHistory failed");
      return;
    }
    size_t task = 0;
    while (true) {
      auto activation = machine.NextActivation();
      if (!activation.ok()) {
        state.SkipWithError("NextActivation failed");
        return;
      }
      if (!activation->has_value()) break;
      benchmark::DoNotOptimize(*activation);
      if (!machine.ApplyCompletion(completions[task++]).ok()) {
        state.SkipWithError("replay diverged from history");
        return;
      }
    }
    if (task != completions.size() || !machine.finished()) {
      state.SkipWithError("replay did not reach the end of history");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(history.size()));
  state.counters["history_events"] = static_cast<double>(history.size());
  state.counters["events_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * history.size()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReplaySequentialActivities)->Arg(10)->Arg(1000)->Arg(10000);

// `rounds` rounds of side effect + activity + 1 ms timer, a signal every
// third task; replayed with the recorded completions of the scripted layer.
void BM_ReplayMixed(benchmark::State& state) {
  const int rounds = static_cast<int>(state.range(0));
  bench::MixedScript script(rounds);
  absl::StatusOr<bench::RecordedRun> run = bench::RecordRun(
      "Mixed", {}, [&](const v1::WorkflowActivation& a) { return script(a); },
      /*signal_every=*/3, "run");
  if (!run.ok()) {
    state.SkipWithError(run.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    WorkflowStateMachine machine("instance", "run");
    if (!machine.LoadHistory(run->history).ok()) {
      state.SkipWithError("LoadHistory failed");
      return;
    }
    size_t task = 0;
    while (true) {
      auto activation = machine.NextActivation();
      if (!activation.ok()) {
        state.SkipWithError("NextActivation failed");
        return;
      }
      if (!activation->has_value()) break;
      benchmark::DoNotOptimize(*activation);
      if (task >= run->completions.size() ||
          !machine.ApplyCompletion(run->completions[task++]).ok()) {
        state.SkipWithError("replay diverged from history");
        return;
      }
    }
    if (task != run->completions.size() || !machine.finished()) {
      state.SkipWithError("replay did not reach the end of history");
      return;
    }
  }
  const size_t events = run->history.size();
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events));
  state.counters["history_events"] = static_cast<double>(events);
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * events),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReplayMixed)->Arg(1000);

}  // namespace
}  // namespace durable::core

BENCHMARK_MAIN();
