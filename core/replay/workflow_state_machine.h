// WorkflowStateMachine: the pure replay engine of one workflow run.
//
// It turns history into activations for the language layer and the commands
// it answers with into new history events. It performs no I/O and reads no
// clock: time comes in with the events, so a run replays identically on any
// machine.
//
// History is a sequence of workflow tasks, each opened by a
// WorkflowTaskStarted event and followed by the inbound events the task
// consumed (they become the activation's jobs) and then the events produced
// by the commands the code issued (the events replay must reproduce). The
// machine walks those tasks one activation at a time, because the jobs of a
// later task depend on the sequence numbers bound by earlier commands.
//
// Every command is resolved at most once: a result for an activity,
// sub-workflow or sent signal that was already resolved (a late duplicate)
// makes no job. The duplicate is in history like any consumed event, so replay
// drops it too.
//
// Usage, for one workflow task taken from the backend:
//
//   WorkflowStateMachine m(instance_id, execution_id);   // or a cached one
//   m.LoadHistory(history);                        // only when not cached
//   m.StartTask(now, inbox_events);
//   while (auto activation = *m.NextActivation()) {  // (check the status)
//     completion = language_layer(**activation);
//     status = m.ApplyCompletion(completion);      // NON_DETERMINISM, ...
//   }
//   WorkflowTaskOutput out = m.TakeTaskOutput();   // commit it
//
// After an error the machine must be discarded (the run is evicted).
// Not thread-safe: the worker gives each run to one thread at a time.
#ifndef DURABLE_CORE_REPLAY_WORKFLOW_STATE_MACHINE_H_
#define DURABLE_CORE_REPLAY_WORKFLOW_STATE_MACHINE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/proto/history.pb.h"
#include "core/proto/protocol.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"

namespace durable::core {

// What a completed workflow task produced, ready for the backend.
struct WorkflowTaskOutput {
  // Events appended by the task, starting with its WorkflowTaskStarted.
  std::vector<v1::HistoryEvent> executed_events;
  // ActivityScheduled events (also in executed_events) to enqueue as tasks.
  std::vector<v1::HistoryEvent> scheduled_activities;
  // Future TimerFired events to itself, signals to other instances,
  // sub-workflow starts: in delivery order
  // (WorkflowTaskCompletion::outbound_events states the rule; TakeTaskOutput
  // applies it).
  std::vector<OutboundEvent> outbound_events;
  // Pending events to withdraw (the firings of timers canceled in this task).
  std::vector<std::string> canceled_event_keys;
  // The task continued as new and asked to drop the earlier executions.
  bool remove_previous_executions = false;
  // The execution the task continued as (state CONTINUED_AS_NEW), else "".
  std::string next_execution_id;
  v1::WorkflowState state = v1::WORKFLOW_STATE_ACTIVE;
  // Set when the workflow finished in this task.
  std::optional<v1::WorkflowResult> result;
};

class WorkflowStateMachine {
 public:
  WorkflowStateMachine(std::string instance_id, std::string execution_id);

  WorkflowStateMachine(const WorkflowStateMachine&) = delete;
  WorkflowStateMachine& operator=(const WorkflowStateMachine&) = delete;

  // Queues committed history for replay. Call once, before the first
  // StartTask, on a machine that has seen nothing yet. DATA_LOSS if ids are
  // not consecutive from 1 or an event has no attributes; INVALID_ARGUMENT
  // if history does not start with a WorkflowTaskStarted.
  absl::Status LoadHistory(absl::Span<const v1::HistoryEvent> events);

  // Opens a new (live) workflow task at `now` consuming `inbox_events`.
  // Precondition: no task is in progress.
  absl::Status StartTask(absl::Time now,
                         std::vector<v1::HistoryEvent> inbox_events);

  // The next activation to hand out, or nullopt when the machine waits for a
  // completion or the live task is done. DATA_LOSS when history refers to
  // commands the run never issued.
  absl::StatusOr<std::optional<v1::WorkflowActivation>> NextActivation();

  // Applies the language layer's answer to the activation last handed out.
  // NON_DETERMINISM (see errors.h) when replayed commands differ from
  // history; INVALID_ARGUMENT for malformed commands; UNIMPLEMENTED for
  // commands this release does not support yet.
  absl::Status ApplyCompletion(const v1::WorkflowActivationCompletion& c);

  // True once the live task's activation was completed successfully.
  bool task_done() const { return task_done_; }

  // Moves out what the live task produced. Precondition: task_done().
  WorkflowTaskOutput TakeTaskOutput();

  // Events in history, counting those of a completed live task.
  int64_t history_length() const { return history_length_; }
  bool finished() const { return finished_; }
  const std::string& execution_id() const { return run_id_; }
  const std::string& instance_id() const { return instance_id_; }

 private:
  // One workflow task: its start, the inbound events it consumed, and (for
  // replayed tasks) the command events it recorded.
  struct TaskGroup {
    v1::HistoryEvent started;
    std::vector<v1::HistoryEvent> inbound;
    std::vector<v1::HistoryEvent> recorded;
    bool replaying = false;
  };

  absl::StatusOr<v1::WorkflowActivation> BuildActivation(
      const TaskGroup& group);
  absl::StatusOr<v1::HistoryEvent> EventForCommand(
      const v1::WorkflowCommand& command, int64_t id, absl::Time now);
  absl::Status CheckMatches(const v1::WorkflowCommand& command,
                            const v1::HistoryEvent& event) const;
  void BindCommand(const v1::WorkflowCommand& command,
                   const v1::HistoryEvent& event);
  absl::Status CheckSequenceNumberUnused(
      const v1::WorkflowCommand& command) const;
  // Whether `command` writes a history event: a CancelTimer of a timer that
  // already fired or was canceled (or never started) is a no-op.
  bool ProducesEvent(const v1::WorkflowCommand& command) const;
  // The execution id of attempt `attempt` (0: the first) of the sub-workflow
  // scheduled at `scheduled_event_id`. Frozen like the randomness seed: a
  // UUID derived from the run id and the event id.
  std::string SubWorkflowExecutionId(int64_t scheduled_event_id,
                                     int32_t attempt) const;
  // The event that starts attempt `attempt` of the sub-workflow scheduled by
  // `scheduled_event`.
  OutboundEvent SubWorkflowStart(const v1::HistoryEvent& scheduled_event,
                                 int32_t attempt) const;
  // An event for this execution's own inbox, timestamped like `cause`.
  OutboundEvent ToSelf(const v1::HistoryEvent& cause) const;
  // Outbound events and withdrawals caused by a command of the live task.
  void RecordSideOutputs(const v1::WorkflowCommand& command,
                         const v1::HistoryEvent& event);

  const std::string instance_id_;
  const std::string run_id_;
  const uint64_t randomness_seed_;

  std::deque<TaskGroup> pending_groups_;
  std::optional<TaskGroup> active_group_;  // handed out, awaiting completion
  bool history_loaded_ = false;
  bool task_done_ = false;
  bool finished_ = false;

  int64_t history_length_ = 0;  // events committed + events of the live task
  absl::Time live_task_time_;

  // Activity sequence numbers <-> ActivityScheduled event ids.
  absl::flat_hash_map<int64_t, uint32_t> activity_seq_by_event_;
  absl::flat_hash_map<uint32_t, int64_t> activity_event_by_seq_;
  // Timer sequence numbers <-> TimerScheduled event ids, and the timers that
  // fired or were canceled.
  absl::flat_hash_map<int64_t, uint32_t> timer_seq_by_event_;
  absl::flat_hash_map<uint32_t, int64_t> timer_event_by_seq_;
  absl::flat_hash_set<int64_t> finished_timers_;
  // Sub-workflow sequence numbers <-> SubWorkflowScheduled event ids;
  // sub-workflows that this run asked to cancel.
  absl::flat_hash_map<int64_t, uint32_t> sub_workflow_seq_by_event_;
  absl::flat_hash_map<uint32_t, int64_t> sub_workflow_event_by_seq_;
  absl::flat_hash_map<int64_t, std::string> sub_workflow_instance_by_event_;
  // The SubWorkflowScheduled events (for retries) and how often each
  // sub-workflow failed so far.
  absl::flat_hash_map<int64_t, v1::HistoryEvent>
      sub_workflow_scheduled_by_event_;
  absl::flat_hash_map<int64_t, int32_t> sub_workflow_failures_;
  absl::flat_hash_set<int64_t> canceled_sub_workflows_;
  // External signal sequence numbers by SignalSent event id, and the
  // sequence numbers used.
  absl::flat_hash_map<int64_t, uint32_t> signal_seq_by_event_;
  absl::flat_hash_set<uint32_t> signal_seqs_;
  // Ids of the events (ActivityScheduled, SubWorkflowScheduled, SignalSent)
  // whose command was resolved: later results for them are dropped.
  absl::flat_hash_set<int64_t> resolved_commands_;
  // From the WorkflowExecutionStarted event.
  std::string workflow_name_;
  google::protobuf::Map<std::string, std::string> workflow_metadata_;
  v1::WorkflowParent parent_;
  // Side effects whose recorded results replay has delivered so far; the
  // n-th recorded SideEffectResult answers side effect seq n.
  uint32_t replayed_side_effects_ = 0;

  std::string workflow_queue_;
  WorkflowTaskOutput output_;
};

// Frozen algorithm (64-bit FNV-1a of the run id): never change it, or
// replays of existing runs see different random numbers.
uint64_t RandomnessSeedForRun(const std::string& execution_id);

// Human-readable event kind, e.g. "ActivityScheduled".
std::string EventKindName(const v1::HistoryEvent& event);

}  // namespace durable::core

#endif  // DURABLE_CORE_REPLAY_WORKFLOW_STATE_MACHINE_H_
