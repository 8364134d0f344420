// Histories for the replay benchmarks, produced by the real replay engine:
// a workflow is run live on a WorkflowStateMachine against a simulated
// backend (every scheduled activity completes at once with its first
// argument as result, every timer fires at once, signals arrive every few
// tasks), answering activations with a language layer -- the C++ facade's
// executor or a scripted one. What comes out is exactly what a worker would
// have committed, so replaying it never diverges.
#ifndef DURABLE_BENCHMARKS_HISTORY_GEN_H_
#define DURABLE_BENCHMARKS_HISTORY_GEN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/proto/history.pb.h"
#include "core/proto/protocol.pb.h"
#include "core/replay/workflow_state_machine.h"

namespace durable::bench {

using Respond = std::function<v1::WorkflowActivationCompletion(
    const v1::WorkflowActivation&)>;

struct RecordedRun {
  // The whole history of the finished run.
  std::vector<v1::HistoryEvent> history;
  // The language layer's answers, in activation order.
  std::vector<v1::WorkflowActivationCompletion> completions;
  // Where the last workflow task starts in `history`, and the inbox events
  // it consumed (ids 0): history[0, final_task_begin) plus these in the
  // inbox is the state just before the run's last task.
  size_t final_task_begin = 0;
  std::vector<v1::HistoryEvent> final_inbound;
};

inline v1::Payload JsonBenchPayload(const std::string& text) {
  v1::Payload payload;
  payload.set_encoding("json/plain");
  payload.set_data(text);
  return payload;
}

// Runs `workflow_name(arguments)` to completion. `signal_every` > 0: a
// signal "tick" arrives with every signal_every-th task.
inline absl::StatusOr<RecordedRun> RecordRun(
    const std::string& workflow_name, std::vector<v1::Payload> arguments,
    const Respond& respond, int signal_every = 0,
    const std::string& execution_id = "bench-run") {
  RecordedRun run;
  core::WorkflowStateMachine machine("bench-instance", execution_id);
  std::vector<v1::HistoryEvent> inbox(1);
  auto* started = inbox[0].mutable_workflow_execution_started();
  started->set_workflow_name(workflow_name);
  started->set_queue("default");
  for (v1::Payload& argument : arguments) {
    *started->add_arguments() = std::move(argument);
  }
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  for (int task = 0;; ++task) {
    if (inbox.empty()) {
      return absl::InternalError("the workflow waits for something never sent");
    }
    if (signal_every > 0 && task % signal_every == signal_every - 1) {
      v1::HistoryEvent signal;
      signal.mutable_signal_received()->set_signal_name("tick");
      *signal.mutable_signal_received()->mutable_input() =
          JsonBenchPayload(absl::StrCat(task));
      inbox.push_back(std::move(signal));
    }
    for (v1::HistoryEvent& event : inbox) {
      event.set_timestamp_unix_us(absl::ToUnixMicros(now));
    }
    const size_t begin = run.history.size();
    std::vector<v1::HistoryEvent> inbound = std::move(inbox);
    inbox.clear();
    if (absl::Status s = machine.StartTask(now, inbound); !s.ok()) return s;
    while (true) {
      absl::StatusOr<std::optional<v1::WorkflowActivation>> activation =
          machine.NextActivation();
      if (!activation.ok()) return activation.status();
      if (!activation->has_value()) break;
      v1::WorkflowActivationCompletion completion = respond(**activation);
      if (absl::Status s = machine.ApplyCompletion(completion); !s.ok()) {
        return s;
      }
      run.completions.push_back(std::move(completion));
    }
    core::WorkflowTaskOutput output = machine.TakeTaskOutput();
    for (v1::HistoryEvent& event : output.executed_events) {
      run.history.push_back(std::move(event));
    }
    if (machine.finished()) {
      run.final_task_begin = begin;
      run.final_inbound = std::move(inbound);
      for (v1::HistoryEvent& event : run.final_inbound) event.set_id(0);
      return run;
    }
    for (const v1::HistoryEvent& scheduled : output.scheduled_activities) {
      v1::HistoryEvent done;
      done.mutable_activity_completed()->set_scheduled_event_id(scheduled.id());
      *done.mutable_activity_completed()->mutable_result() =
          scheduled.activity_scheduled().arguments_size() > 0
              ? scheduled.activity_scheduled().arguments(0)
              : JsonBenchPayload("null");
      inbox.push_back(std::move(done));
    }
    for (core::OutboundEvent& outbound : output.outbound_events) {
      if (outbound.event.has_timer_fired()) {
        inbox.push_back(std::move(outbound.event));
      }
    }
    now += absl::Milliseconds(1);
  }
}

// A scripted language layer for a workflow mixing every kind of step: each
// of `rounds` rounds records a side effect, schedules an activity and starts
// a 1 ms timer, and waits for both; signals are counted as they come. It
// completes with the number of rounds. Deterministic, so it replays.
class MixedScript {
 public:
  explicit MixedScript(int rounds) : rounds_(rounds) {}

  v1::WorkflowActivationCompletion operator()(
      const v1::WorkflowActivation& activation) {
    v1::WorkflowActivationCompletion completion;
    completion.set_execution_id(activation.execution_id());
    auto* commands = completion.mutable_successful()->mutable_commands();
    bool advance = false;
    for (const v1::WorkflowActivationJob& job : activation.jobs()) {
      if (job.has_remove_from_cache()) {
        *this = MixedScript(rounds_);
        return completion;
      }
      if (job.has_start_workflow()) {
        *this = MixedScript(rounds_);
        advance = true;
      } else if (job.has_resolve_activity() &&
                 job.resolve_activity().seq() == activity_seq_) {
        activity_done_ = true;
      } else if (job.has_fire_timer() && job.fire_timer().seq() == timer_seq_) {
        timer_done_ = true;
      } else if (job.has_signal_workflow()) {
        ++signals_;
      }
    }
    if (activity_done_ && timer_done_) {
      ++round_;
      advance = true;
    }
    if (!advance) return completion;
    activity_done_ = timer_done_ = false;
    if (round_ == rounds_) {
      *commands->Add()->mutable_complete_workflow()->mutable_result() =
          JsonBenchPayload(absl::StrCat(round_));
      return completion;
    }
    auto* side_effect = commands->Add()->mutable_record_side_effect();
    side_effect->set_seq(++side_effect_seq_);
    *side_effect->mutable_result() = JsonBenchPayload(absl::StrCat(round_));
    auto* schedule = commands->Add()->mutable_schedule_activity();
    schedule->set_seq(activity_seq_ = ++next_activity_seq_);
    schedule->set_activity_name("Step");
    *schedule->add_arguments() = JsonBenchPayload(absl::StrCat(round_));
    auto* timer = commands->Add()->mutable_start_timer();
    timer->set_seq(timer_seq_ = ++next_timer_seq_);
    timer->set_duration_us(1000);
    return completion;
  }

 private:
  int rounds_;
  int round_ = 0;
  int signals_ = 0;
  bool activity_done_ = false;
  bool timer_done_ = false;
  uint32_t side_effect_seq_ = 0;
  uint32_t next_activity_seq_ = 0;
  uint32_t next_timer_seq_ = 0;
  uint32_t activity_seq_ = 0;
  uint32_t timer_seq_ = 0;
};

}  // namespace durable::bench

#endif  // DURABLE_BENCHMARKS_HISTORY_GEN_H_
