#include "core/replay/workflow_state_machine.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/errors.h"
#include "core/parent_notification.h"
#include "core/retry_policy.h"
#include "core/storage/store.h"
#include "core/time_util.h"

namespace durable::core {
namespace {

// OK, or why the options of a scheduled activity can never work.
absl::Status ValidateActivityOptions(const v1::ActivityScheduled& scheduled) {
  if (absl::Status policy =
          ValidateRetryPolicy(scheduled.retry_policy(), "retry_policy");
      !policy.ok()) {
    return policy;
  }
  const std::pair<const char*, int64_t> timeouts[] = {
      {"start_to_close_timeout_us", scheduled.start_to_close_timeout_us()},
      {"schedule_to_close_timeout_us",
       scheduled.schedule_to_close_timeout_us()},
      {"heartbeat_timeout_us", scheduled.heartbeat_timeout_us()}};
  for (const auto& [name, value] : timeouts) {
    if (value < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s is %d; it must not be negative (0 means none)", name, value));
    }
  }
  return absl::OkStatus();
}

// The failure a command with invalid options resolves with.
v1::Failure InvalidOptionsFailure(absl::string_view what,
                                  const absl::Status& why) {
  v1::Failure failure;
  failure.set_type("InvalidArgument");
  failure.set_message(absl::StrCat(what, ": ", why.message()));
  failure.set_non_retryable(true);
  return failure;
}

using v1::HistoryEvent;
using v1::WorkflowCommand;

enum class EventRole { kTaskStarted, kInbound, kCommand, kUnknown };

EventRole RoleOf(const HistoryEvent& event) {
  switch (event.attributes_case()) {
    case HistoryEvent::kWorkflowTaskStarted:
      return EventRole::kTaskStarted;
    case HistoryEvent::kWorkflowExecutionStarted:
    case HistoryEvent::kWorkflowExecutionCanceled:
    case HistoryEvent::kActivityCompleted:
    case HistoryEvent::kActivityFailed:
    case HistoryEvent::kTimerFired:
    case HistoryEvent::kSignalReceived:
    case HistoryEvent::kSubWorkflowCompleted:
    case HistoryEvent::kSubWorkflowFailed:
    case HistoryEvent::kSignalExternalDelivered:
    case HistoryEvent::kSignalExternalFailed:
      return EventRole::kInbound;
    case HistoryEvent::kWorkflowExecutionFinished:
    case HistoryEvent::kWorkflowExecutionContinuedAsNew:
    case HistoryEvent::kActivityScheduled:
    case HistoryEvent::kTimerScheduled:
    case HistoryEvent::kTimerCanceled:
    case HistoryEvent::kSideEffectResult:
    case HistoryEvent::kSignalSent:
    case HistoryEvent::kSubWorkflowScheduled:
    case HistoryEvent::kSubWorkflowCancellationRequested:
    case HistoryEvent::kMarkerRecorded:
      return EventRole::kCommand;
    case HistoryEvent::ATTRIBUTES_NOT_SET:
      break;
  }
  return EventRole::kUnknown;
}

std::string CommandKindName(const WorkflowCommand& command) {
  const auto* field = WorkflowCommand::descriptor()->FindFieldByNumber(
      static_cast<int>(command.variant_case()));
  return field == nullptr ? "EmptyCommand" : field->message_type()->name();
}

std::string DescribeCommand(const WorkflowCommand& command) {
  switch (command.variant_case()) {
    case WorkflowCommand::kScheduleActivity:
      return absl::StrFormat("ScheduleActivity(\"%s\", seq %d)",
                             command.schedule_activity().activity_name(),
                             command.schedule_activity().seq());
    case WorkflowCommand::kCompleteWorkflow:
      return "CompleteWorkflow";
    case WorkflowCommand::kFailWorkflow:
      return absl::StrFormat("FailWorkflow(%s)",
                             command.fail_workflow().failure().type());
    default:
      return CommandKindName(command);
  }
}

std::string DescribeEvent(const HistoryEvent& event) {
  switch (event.attributes_case()) {
    case HistoryEvent::kActivityScheduled:
      return absl::StrFormat("ActivityScheduled(\"%s\")",
                             event.activity_scheduled().activity_name());
    case HistoryEvent::kWorkflowExecutionFinished:
      return event.workflow_execution_finished().has_failure()
                 ? "WorkflowExecutionFinished(failure)"
                 : "WorkflowExecutionFinished(result)";
    default:
      return EventKindName(event);
  }
}

// A UUID-shaped id derived from `execution_id` and `purpose` (FNV-1a), so that a
// command replays to the same id. Frozen like the randomness seed.
std::string DeterministicUuid(const std::string& execution_id,
                              absl::string_view purpose) {
  auto fnv = [](uint64_t hash, absl::string_view text) {
    for (unsigned char c : text) {
      hash ^= c;
      hash *= 1099511628211ULL;
    }
    return hash;
  };
  const uint64_t hi =
      fnv(14695981039346656037ULL, execution_id + "/" + std::string(purpose));
  const uint64_t lo = fnv(hi ^ 0x9E3779B97F4A7C15ULL, purpose);
  return absl::StrFormat(
      "%08x-%04x-4%03x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFF,
      ((lo >> 48) & 0x3FFF) | 0x8000, lo & 0xFFFFFFFFFFFFULL);
}

// Names the pending TimerFired of a timer so a cancellation can withdraw it.
std::string TimerKey(int64_t scheduled_event_id) {
  return absl::StrCat("timer/", scheduled_event_id);
}

// Failure type of a signal whose target has no active execution.
constexpr char kInstanceNotFound[] = "InstanceNotFound";

// The id of the event a resolution refers to (the scheduled activity, the
// sub-workflow, the sent signal), or 0 for events that resolve no command.
int64_t ResolvedEventId(const HistoryEvent& event) {
  switch (event.attributes_case()) {
    case HistoryEvent::kActivityCompleted:
      return event.activity_completed().scheduled_event_id();
    case HistoryEvent::kActivityFailed:
      return event.activity_failed().scheduled_event_id();
    case HistoryEvent::kSubWorkflowCompleted:
      return event.sub_workflow_completed().scheduled_event_id();
    case HistoryEvent::kSubWorkflowFailed:
      return event.sub_workflow_failed().scheduled_event_id();
    case HistoryEvent::kSignalExternalDelivered:
      return event.signal_external_delivered().scheduled_event_id();
    case HistoryEvent::kSignalExternalFailed:
      return event.signal_external_failed().scheduled_event_id();
    default:
      return 0;
  }
}

}  // namespace

std::string EventKindName(const HistoryEvent& event) {
  const auto* field = HistoryEvent::descriptor()->FindFieldByNumber(
      static_cast<int>(event.attributes_case()));
  return field == nullptr ? "UnknownEvent" : field->message_type()->name();
}

uint64_t RandomnessSeedForRun(const std::string& execution_id) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : execution_id) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

WorkflowStateMachine::WorkflowStateMachine(std::string instance_id,
                                           std::string execution_id)
    : instance_id_(std::move(instance_id)),
      run_id_(std::move(execution_id)),
      randomness_seed_(RandomnessSeedForRun(run_id_)) {}

absl::Status WorkflowStateMachine::LoadHistory(
    absl::Span<const HistoryEvent> events) {
  if (history_loaded_ || history_length_ != 0 || active_group_.has_value()) {
    return absl::FailedPreconditionError(
        "LoadHistory must be called once, on a fresh state machine");
  }
  history_loaded_ = true;
  for (size_t i = 0; i < events.size(); ++i) {
    const HistoryEvent& event = events[i];
    const int64_t expected_id = static_cast<int64_t>(i) + 1;
    if (event.id() != expected_id) {
      return absl::DataLossError(absl::StrFormat(
          "history of workflow instance \"%s\" (run %s): event at position "
          "%d has id %d, expected %d",
          instance_id_, run_id_, expected_id, event.id(), expected_id));
    }
    switch (RoleOf(event)) {
      case EventRole::kTaskStarted:
        pending_groups_.push_back(TaskGroup{event, {}, {}, true});
        break;
      case EventRole::kInbound:
      case EventRole::kCommand:
        if (pending_groups_.empty()) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "history of workflow instance \"%s\" (run %s) starts with %s "
              "instead of WorkflowTaskStarted",
              instance_id_, run_id_, EventKindName(event)));
        }
        (RoleOf(event) == EventRole::kInbound ? pending_groups_.back().inbound
                                              : pending_groups_.back().recorded)
            .push_back(event);
        break;
      case EventRole::kUnknown:
        return absl::DataLossError(absl::StrFormat(
            "history of workflow instance \"%s\" (run %s): event %d has no "
            "attributes this release understands",
            instance_id_, run_id_, event.id()));
    }
  }
  history_length_ = static_cast<int64_t>(events.size());
  return absl::OkStatus();
}

absl::Status WorkflowStateMachine::StartTask(
    absl::Time now, std::vector<HistoryEvent> inbox_events) {
  const bool live_task_pending =
      !pending_groups_.empty() && !pending_groups_.back().replaying;
  if (active_group_.has_value() || live_task_pending || task_done_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "run %s: a workflow task is already in progress", run_id_));
  }
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrFormat("workflow instance \"%s\" (run %s) already finished",
                        instance_id_, run_id_));
  }
  task_done_ = false;
  output_ = WorkflowTaskOutput();
  live_task_time_ = now;

  TaskGroup group;
  group.replaying = false;
  group.started.set_id(++history_length_);
  group.started.set_timestamp_unix_us(absl::ToUnixMicros(now));
  group.started.mutable_workflow_task_started();
  output_.executed_events.push_back(group.started);
  for (HistoryEvent& event : inbox_events) {
    if (RoleOf(event) != EventRole::kInbound) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "run %s: inbox event of kind %s cannot start a workflow task",
          run_id_, EventKindName(event)));
    }
    event.set_id(++history_length_);
    output_.executed_events.push_back(event);
    group.inbound.push_back(std::move(event));
  }
  pending_groups_.push_back(std::move(group));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::WorkflowActivation>>
WorkflowStateMachine::NextActivation() {
  if (active_group_.has_value() || pending_groups_.empty()) {
    return std::optional<v1::WorkflowActivation>();
  }
  active_group_ = std::move(pending_groups_.front());
  pending_groups_.pop_front();
  absl::StatusOr<v1::WorkflowActivation> activation =
      BuildActivation(*active_group_);
  if (!activation.ok()) return activation.status();
  return std::optional<v1::WorkflowActivation>(*std::move(activation));
}

absl::StatusOr<v1::WorkflowActivation> WorkflowStateMachine::BuildActivation(
    const TaskGroup& group) {
  v1::WorkflowActivation activation;
  activation.set_execution_id(run_id_);
  activation.set_instance_id(instance_id_);
  activation.set_workflow_time_unix_us(group.started.timestamp_unix_us());
  activation.set_is_replaying(group.replaying);
  activation.set_history_length(group.started.id() +
                                static_cast<int64_t>(group.inbound.size()));
  for (const HistoryEvent& event : group.inbound) {
    if (event.has_timer_fired()) {
      const int64_t scheduled_id = event.timer_fired().scheduled_event_id();
      auto seq = timer_seq_by_event_.find(scheduled_id);
      if (seq == timer_seq_by_event_.end()) {
        return absl::DataLossError(absl::StrFormat(
            "workflow instance \"%s\" (run %s): event %d (TimerFired) refers "
            "to event %d, which is not a timer this run started",
            instance_id_, run_id_, event.id(), scheduled_id));
      }
      // A firing that raced with a cancellation is dropped: the code was
      // already told the timer was canceled.
      if (!finished_timers_.insert(scheduled_id).second) continue;
      activation.add_jobs()->mutable_fire_timer()->set_seq(seq->second);
      continue;
    }
    // A late copy of a result the code already saw (a second
    // ActivityCompleted for one activity, say) resolves nothing. It is in
    // history all the same, so replay drops it at the same point.
    if (const int64_t resolved = ResolvedEventId(event);
        resolved != 0 && resolved_commands_.contains(resolved)) {
      continue;
    }
    v1::WorkflowActivationJob* job = activation.add_jobs();
    switch (event.attributes_case()) {
      case HistoryEvent::kWorkflowExecutionStarted: {
        const auto& started = event.workflow_execution_started();
        workflow_queue_ = started.queue();
        workflow_name_ = started.workflow_name();
        workflow_metadata_ = started.metadata();
        parent_ = started.parent();
        auto* start = job->mutable_start_workflow();
        start->set_workflow_name(started.workflow_name());
        *start->mutable_arguments() = started.arguments();
        *start->mutable_metadata() = started.metadata();
        start->set_queue(started.queue());
        start->set_randomness_seed(randomness_seed_);
        break;
      }
      case HistoryEvent::kActivityCompleted:
      case HistoryEvent::kActivityFailed: {
        const bool completed = event.has_activity_completed();
        const int64_t scheduled_id =
            completed ? event.activity_completed().scheduled_event_id()
                      : event.activity_failed().scheduled_event_id();
        auto seq = activity_seq_by_event_.find(scheduled_id);
        if (seq == activity_seq_by_event_.end()) {
          return absl::DataLossError(absl::StrFormat(
              "workflow instance \"%s\" (run %s): event %d (%s) refers to "
              "event %d, which is not an activity this run scheduled",
              instance_id_, run_id_, event.id(), EventKindName(event),
              scheduled_id));
        }
        resolved_commands_.insert(scheduled_id);
        auto* resolve = job->mutable_resolve_activity();
        resolve->set_seq(seq->second);
        if (completed) {
          *resolve->mutable_completed() = event.activity_completed().result();
        } else {
          *resolve->mutable_failed() = event.activity_failed().failure();
        }
        break;
      }
      case HistoryEvent::kSubWorkflowCompleted:
      case HistoryEvent::kSubWorkflowFailed: {
        const bool completed = event.has_sub_workflow_completed();
        const int64_t scheduled_id =
            completed ? event.sub_workflow_completed().scheduled_event_id()
                      : event.sub_workflow_failed().scheduled_event_id();
        auto seq = sub_workflow_seq_by_event_.find(scheduled_id);
        if (seq == sub_workflow_seq_by_event_.end()) {
          return absl::DataLossError(absl::StrFormat(
              "workflow instance \"%s\" (run %s): event %d (%s) refers to "
              "event %d, which is not a sub-workflow this run started",
              instance_id_, run_id_, event.id(), EventKindName(event),
              scheduled_id));
        }
        if (!completed && !canceled_sub_workflows_.contains(scheduled_id)) {
          const HistoryEvent& scheduled =
              sub_workflow_scheduled_by_event_.at(scheduled_id);
          const int32_t failures = sub_workflow_failures_[scheduled_id]++;
          std::optional<absl::Duration> retry_in = NextRetryDelay(
              scheduled.sub_workflow_scheduled().retry_policy(), failures,
              event.sub_workflow_failed().failure(),
              absl::FromUnixMicros(scheduled.timestamp_unix_us()),
              absl::FromUnixMicros(group.started.timestamp_unix_us()));
          if (retry_in.has_value()) {
            // The code never sees this failure: the sub-workflow starts again.
            activation.mutable_jobs()->RemoveLast();
            if (!group.replaying) {
              OutboundEvent restart = SubWorkflowStart(scheduled, failures + 1);
              restart.visible_at =
                  absl::FromUnixMicros(group.started.timestamp_unix_us()) +
                  *retry_in;
              output_.outbound_events.push_back(std::move(restart));
            }
            break;
          }
        }
        resolved_commands_.insert(scheduled_id);
        auto* resolve = job->mutable_resolve_sub_workflow();
        resolve->set_seq(seq->second);
        if (completed) {
          *resolve->mutable_completed() =
              event.sub_workflow_completed().result();
        } else {
          *resolve->mutable_failed() = event.sub_workflow_failed().failure();
        }
        break;
      }
      case HistoryEvent::kSignalExternalDelivered:
      case HistoryEvent::kSignalExternalFailed: {
        const int64_t sent_id = ResolvedEventId(event);
        auto seq = signal_seq_by_event_.find(sent_id);
        if (seq == signal_seq_by_event_.end()) {
          return absl::DataLossError(absl::StrFormat(
              "workflow instance \"%s\" (run %s): event %d (%s) refers to "
              "event %d, which is not a signal this run sent",
              instance_id_, run_id_, event.id(), EventKindName(event),
              sent_id));
        }
        resolved_commands_.insert(sent_id);
        auto* resolve = job->mutable_resolve_signal_external();
        resolve->set_seq(seq->second);
        if (event.has_signal_external_failed()) {
          *resolve->mutable_failure() =
              event.signal_external_failed().failure();
        }
        break;
      }
      case HistoryEvent::kSignalReceived: {
        auto* signal = job->mutable_signal_workflow();
        signal->set_signal_name(event.signal_received().signal_name());
        *signal->mutable_input() = event.signal_received().input();
        break;
      }
      case HistoryEvent::kWorkflowExecutionCanceled:
        job->mutable_cancel_workflow()->set_reason(
            event.workflow_execution_canceled().reason());
        break;
      default:
        return absl::UnimplementedError(absl::StrFormat(
            "workflow instance \"%s\": history event %d of kind %s is not "
            "supported by this durable release",
            instance_id_, event.id(), EventKindName(event)));
    }
  }
  if (group.replaying) {
    // Recorded side-effect results and patch markers go right after
    // StartWorkflow (or first), before any job that resumes code, so the
    // code finds them when it reaches the SideEffect and Patched calls.
    v1::WorkflowActivation ordered = activation;
    ordered.clear_jobs();
    const bool starts =
        activation.jobs_size() > 0 && activation.jobs(0).has_start_workflow();
    if (starts) *ordered.add_jobs() = activation.jobs(0);
    for (const HistoryEvent& event : group.recorded) {
      if (event.has_side_effect_result()) {
        auto* resolve = ordered.add_jobs()->mutable_resolve_side_effect();
        resolve->set_seq(++replayed_side_effects_);
        *resolve->mutable_result() = event.side_effect_result().result();
      } else if (event.has_marker_recorded() &&
                 event.marker_recorded().name() == "patch") {
        ordered.add_jobs()->mutable_notify_has_patch()->set_patch_id(
            event.marker_recorded().id());
      }
    }
    for (int j = starts ? 1 : 0; j < activation.jobs_size(); ++j) {
      *ordered.add_jobs() = activation.jobs(j);
    }
    activation = std::move(ordered);
  }
  return activation;
}

absl::Status WorkflowStateMachine::ApplyCompletion(
    const v1::WorkflowActivationCompletion& completion) {
  if (!active_group_.has_value()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "run %s has no activation awaiting completion", run_id_));
  }
  if (completion.execution_id() != run_id_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("completion for run \"%s\" given to run %s",
                        completion.execution_id(), run_id_));
  }
  TaskGroup group = std::move(*active_group_);
  active_group_.reset();
  if (completion.has_failed()) {
    return absl::InternalError(absl::StrFormat(
        "the language layer failed the activation of run %s: %s: %s", run_id_,
        completion.failed().type(), completion.failed().message()));
  }

  // A timer or sub-workflow started and canceled in the same completion leaves
  // no trace (the sub-workflow never runs).
  absl::flat_hash_set<uint32_t> started_timers, dropped_timers;
  absl::flat_hash_set<uint32_t> started_sub_workflows, dropped_sub_workflows;
  for (const WorkflowCommand& command : completion.successful().commands()) {
    if (command.has_start_timer()) {
      started_timers.insert(command.start_timer().seq());
    } else if (command.has_cancel_timer() &&
               started_timers.contains(command.cancel_timer().seq())) {
      dropped_timers.insert(command.cancel_timer().seq());
    } else if (command.has_start_sub_workflow()) {
      started_sub_workflows.insert(command.start_sub_workflow().seq());
    } else if (command.has_cancel_sub_workflow() &&
               started_sub_workflows.contains(
                   command.cancel_sub_workflow().seq())) {
      dropped_sub_workflows.insert(command.cancel_sub_workflow().seq());
    }
  }
  auto dropped = [&](const WorkflowCommand& command) {
    switch (command.variant_case()) {
      case WorkflowCommand::kStartTimer:
        return dropped_timers.contains(command.start_timer().seq());
      case WorkflowCommand::kCancelTimer:
        return dropped_timers.contains(command.cancel_timer().seq());
      case WorkflowCommand::kStartSubWorkflow:
        return dropped_sub_workflows.contains(
            command.start_sub_workflow().seq());
      case WorkflowCommand::kCancelSubWorkflow:
        return dropped_sub_workflows.contains(
            command.cancel_sub_workflow().seq());
      default:
        return false;
    }
  };
  // Patch markers recorded by older code that nobody asks about any more
  // are skipped on replay.
  auto skip_unclaimed_markers = [&](size_t& next, const WorkflowCommand& c) {
    while (next < group.recorded.size() &&
           group.recorded[next].has_marker_recorded() &&
           !(c.has_set_patch_marker() &&
             c.set_patch_marker().patch_id() ==
                 group.recorded[next].marker_recorded().id())) {
      ++next;
    }
  };

  size_t next_recorded = 0;
  for (const WorkflowCommand& command : completion.successful().commands()) {
    if (dropped(command) || !ProducesEvent(command)) continue;
    if (finished_) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "run %s: command %s issued after the workflow completed", run_id_,
          DescribeCommand(command)));
    }
    if (absl::Status s = CheckSequenceNumberUnused(command); !s.ok()) return s;
    if (group.replaying) {
      skip_unclaimed_markers(next_recorded, command);
      const bool has_recorded = next_recorded < group.recorded.size();
      if (command.has_set_patch_marker() &&
          command.set_patch_marker().deprecated() &&
          (!has_recorded ||
           !group.recorded[next_recorded].has_marker_recorded())) {
        continue;  // deprecated patch: histories without its marker replay
      }
      if (!has_recorded) {
        return NonDeterminismError(absl::StrFormat(
            "workflow instance \"%s\" (run %s): replaying the workflow task "
            "started at event %d, the code issued %s but history records no "
            "further event for that task",
            instance_id_, run_id_, group.started.id(),
            DescribeCommand(command)));
      }
      const HistoryEvent& event = group.recorded[next_recorded++];
      if (absl::Status s = CheckMatches(command, event); !s.ok()) return s;
      BindCommand(command, event);
    } else {
      absl::StatusOr<HistoryEvent> event =
          EventForCommand(command, history_length_ + 1, live_task_time_);
      if (!event.ok()) return event.status();
      ++history_length_;
      BindCommand(command, *event);
      RecordSideOutputs(command, *event);
      output_.executed_events.push_back(*std::move(event));
    }
    if (command.has_complete_workflow() || command.has_fail_workflow() ||
        command.has_continue_as_new()) {
      finished_ = true;
    }
  }
  if (group.replaying) {
    WorkflowCommand none;
    skip_unclaimed_markers(next_recorded, none);
    if (next_recorded < group.recorded.size()) {
      const HistoryEvent& missing = group.recorded[next_recorded];
      return NonDeterminismError(absl::StrFormat(
          "workflow instance \"%s\" (run %s): history event %d %s was "
          "recorded by the workflow task started at event %d, but the code "
          "did not issue it on replay",
          instance_id_, run_id_, missing.id(), DescribeEvent(missing),
          group.started.id()));
    }
  } else {
    task_done_ = true;
  }
  return absl::OkStatus();
}

absl::Status WorkflowStateMachine::CheckSequenceNumberUnused(
    const WorkflowCommand& command) const {
  const char* kind = nullptr;
  uint32_t seq = 0;
  if (command.has_schedule_activity()) {
    seq = command.schedule_activity().seq();
    if (activity_event_by_seq_.contains(seq)) kind = "activity";
  } else if (command.has_start_timer()) {
    seq = command.start_timer().seq();
    if (timer_event_by_seq_.contains(seq)) kind = "timer";
  } else if (command.has_start_sub_workflow()) {
    seq = command.start_sub_workflow().seq();
    if (sub_workflow_event_by_seq_.contains(seq)) kind = "sub-workflow";
  } else if (command.has_signal_external_workflow()) {
    seq = command.signal_external_workflow().seq();
    if (signal_seqs_.contains(seq)) kind = "external signal";
  }
  if (kind == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "run %s: %s sequence number %d is used twice", run_id_, kind, seq));
}

absl::StatusOr<HistoryEvent> WorkflowStateMachine::EventForCommand(
    const WorkflowCommand& command, int64_t id, absl::Time now) {
  HistoryEvent event;
  event.set_id(id);
  event.set_timestamp_unix_us(absl::ToUnixMicros(now));
  switch (command.variant_case()) {
    case WorkflowCommand::kScheduleActivity: {
      const auto& schedule = command.schedule_activity();
      if (schedule.activity_name().empty()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "run %s: ScheduleActivity (seq %d) has an empty activity name",
            run_id_, schedule.seq()));
      }
      auto* scheduled = event.mutable_activity_scheduled();
      scheduled->set_activity_name(schedule.activity_name());
      *scheduled->mutable_arguments() = schedule.arguments();
      scheduled->set_queue(!schedule.queue().empty()  ? schedule.queue()
                           : !workflow_queue_.empty() ? workflow_queue_
                                                      : kDefaultQueue);
      if (schedule.has_retry_policy()) {
        *scheduled->mutable_retry_policy() = schedule.retry_policy();
      }
      scheduled->set_start_to_close_timeout_us(
          schedule.start_to_close_timeout_us());
      scheduled->set_schedule_to_close_timeout_us(
          schedule.schedule_to_close_timeout_us());
      scheduled->set_heartbeat_timeout_us(schedule.heartbeat_timeout_us());
      return event;
    }
    case WorkflowCommand::kStartTimer: {
      const auto& start = command.start_timer();
      if (start.duration_us() < 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("run %s: timer (seq %d) has a negative duration",
                            run_id_, start.seq()));
      }
      auto* scheduled = event.mutable_timer_scheduled();
      // Saturating: an infinite or huge timer is due at the end of time
      // (never), not at a time that wrapped around into the past.
      const int64_t now_us = absl::ToUnixMicros(now);
      scheduled->set_fire_at_unix_us(
          start.duration_us() > std::numeric_limits<int64_t>::max() - now_us
              ? std::numeric_limits<int64_t>::max()
              : now_us + start.duration_us());
      scheduled->set_name(start.name());
      return event;
    }
    case WorkflowCommand::kCancelTimer:
      event.mutable_timer_canceled()->set_scheduled_event_id(
          timer_event_by_seq_.at(command.cancel_timer().seq()));
      return event;
    case WorkflowCommand::kRecordSideEffect:
      *event.mutable_side_effect_result()->mutable_result() =
          command.record_side_effect().result();
      return event;
    case WorkflowCommand::kSignalExternalWorkflow: {
      const auto& signal = command.signal_external_workflow();
      if (signal.instance_id().empty() || signal.signal_name().empty()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "run %s: SignalExternalWorkflow (seq %d) needs an instance id and "
            "a signal name",
            run_id_, signal.seq()));
      }
      auto* sent = event.mutable_signal_sent();
      sent->set_instance_id(signal.instance_id());
      sent->set_signal_name(signal.signal_name());
      *sent->mutable_input() = signal.input();
      return event;
    }
    case WorkflowCommand::kStartSubWorkflow: {
      const auto& start = command.start_sub_workflow();
      if (start.workflow_name().empty()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "run %s: StartSubWorkflow (seq %d) has an empty workflow name",
            run_id_, start.seq()));
      }
      auto* scheduled = event.mutable_sub_workflow_scheduled();
      // A deterministic id, so replays and retries name the same
      // sub-workflow. "/child-" is frozen: these ids are recorded in
      // histories and users see them.
      scheduled->set_instance_id(
          start.instance_id().empty()
              ? absl::StrCat(run_id_, "/child-", start.seq())
              : start.instance_id());
      // The sub-workflow's first execution runs under this id
      // (SubWorkflowStart); a function of the run and the event, so the machine
      // stays pure.
      scheduled->set_execution_id(SubWorkflowExecutionId(id, 0));
      scheduled->set_workflow_name(start.workflow_name());
      *scheduled->mutable_arguments() = start.arguments();
      if (start.has_retry_policy()) {
        *scheduled->mutable_retry_policy() = start.retry_policy();
      }
      scheduled->set_queue(!start.queue().empty()     ? start.queue()
                           : !workflow_queue_.empty() ? workflow_queue_
                                                      : kDefaultQueue);
      // Sub-workflows inherit the parent's metadata (a trace id, say); their
      // own entries win.
      *scheduled->mutable_metadata() = workflow_metadata_;
      for (const auto& [key, value] : start.metadata()) {
        (*scheduled->mutable_metadata())[key] = value;
      }
      return event;
    }
    case WorkflowCommand::kCancelSubWorkflow:
      event.mutable_sub_workflow_cancellation_requested()
          ->set_scheduled_event_id(sub_workflow_event_by_seq_.at(
              command.cancel_sub_workflow().seq()));
      return event;
    case WorkflowCommand::kSetPatchMarker: {
      auto* marker = event.mutable_marker_recorded();
      marker->set_name("patch");
      marker->set_id(command.set_patch_marker().patch_id());
      marker->set_deprecated(command.set_patch_marker().deprecated());
      return event;
    }
    case WorkflowCommand::kContinueAsNew: {
      auto* continued = event.mutable_workflow_execution_continued_as_new();
      *continued->mutable_arguments() = command.continue_as_new().arguments();
      continued->set_workflow_name(command.continue_as_new().workflow_name());
      continued->set_next_execution_id(
          DeterministicUuid(run_id_, "continue-as-new"));
      for (const v1::SignalWorkflow& signal :
           command.continue_as_new().unreceived_signals()) {
        v1::SignalReceived* carried = continued->add_carried_signals();
        carried->set_signal_name(signal.signal_name());
        *carried->mutable_input() = signal.input();
      }
      return event;
    }
    case WorkflowCommand::kCompleteWorkflow:
      *event.mutable_workflow_execution_finished()->mutable_result() =
          command.complete_workflow().result();
      return event;
    case WorkflowCommand::kFailWorkflow:
      *event.mutable_workflow_execution_finished()->mutable_failure() =
          command.fail_workflow().failure();
      return event;
    case WorkflowCommand::VARIANT_NOT_SET:
      return absl::InvalidArgumentError(
          absl::StrFormat("run %s: a command has no variant set", run_id_));
    default:
      return absl::UnimplementedError(absl::StrFormat(
          "run %s: command %s is not supported by this durable release",
          run_id_, CommandKindName(command)));
  }
}

absl::Status WorkflowStateMachine::CheckMatches(
    const WorkflowCommand& command, const HistoryEvent& event) const {
  bool matches = false;
  switch (command.variant_case()) {
    case WorkflowCommand::kScheduleActivity:
      matches = event.has_activity_scheduled() &&
                event.activity_scheduled().activity_name() ==
                    command.schedule_activity().activity_name();
      break;
    case WorkflowCommand::kStartTimer:
      matches = event.has_timer_scheduled();
      break;
    case WorkflowCommand::kCancelTimer:
      matches = event.has_timer_canceled() &&
                event.timer_canceled().scheduled_event_id() ==
                    timer_event_by_seq_.at(command.cancel_timer().seq());
      break;
    case WorkflowCommand::kRecordSideEffect:
      matches = event.has_side_effect_result();
      break;
    case WorkflowCommand::kSignalExternalWorkflow:
      matches = event.has_signal_sent() &&
                event.signal_sent().instance_id() ==
                    command.signal_external_workflow().instance_id() &&
                event.signal_sent().signal_name() ==
                    command.signal_external_workflow().signal_name();
      break;
    case WorkflowCommand::kStartSubWorkflow:
      matches = event.has_sub_workflow_scheduled() &&
                event.sub_workflow_scheduled().workflow_name() ==
                    command.start_sub_workflow().workflow_name() &&
                (command.start_sub_workflow().instance_id().empty() ||
                 event.sub_workflow_scheduled().instance_id() ==
                     command.start_sub_workflow().instance_id());
      break;
    case WorkflowCommand::kCancelSubWorkflow:
      matches =
          event.has_sub_workflow_cancellation_requested() &&
          event.sub_workflow_cancellation_requested().scheduled_event_id() ==
              sub_workflow_event_by_seq_.at(
                  command.cancel_sub_workflow().seq());
      break;
    case WorkflowCommand::kSetPatchMarker:
      matches =
          event.has_marker_recorded() &&
          event.marker_recorded().id() == command.set_patch_marker().patch_id();
      break;
    case WorkflowCommand::kContinueAsNew:
      matches = event.has_workflow_execution_continued_as_new();
      break;
    case WorkflowCommand::kCompleteWorkflow:
      matches = event.has_workflow_execution_finished() &&
                !event.workflow_execution_finished().has_failure();
      break;
    case WorkflowCommand::kFailWorkflow:
      matches = event.has_workflow_execution_finished() &&
                event.workflow_execution_finished().has_failure();
      break;
    default:
      return absl::UnimplementedError(absl::StrFormat(
          "run %s: command %s is not supported by this durable release",
          run_id_, CommandKindName(command)));
  }
  if (matches) return absl::OkStatus();
  return NonDeterminismError(absl::StrFormat(
      "workflow instance \"%s\" (run %s): history event %d is %s but the "
      "workflow code issued %s on replay",
      instance_id_, run_id_, event.id(), DescribeEvent(event),
      DescribeCommand(command)));
}

void WorkflowStateMachine::BindCommand(const WorkflowCommand& command,
                                       const HistoryEvent& event) {
  if (command.has_schedule_activity()) {
    activity_seq_by_event_[event.id()] = command.schedule_activity().seq();
    activity_event_by_seq_[command.schedule_activity().seq()] = event.id();
  } else if (command.has_start_timer()) {
    timer_seq_by_event_[event.id()] = command.start_timer().seq();
    timer_event_by_seq_[command.start_timer().seq()] = event.id();
  } else if (command.has_cancel_timer()) {
    finished_timers_.insert(event.timer_canceled().scheduled_event_id());
  } else if (command.has_start_sub_workflow()) {
    sub_workflow_seq_by_event_[event.id()] = command.start_sub_workflow().seq();
    sub_workflow_event_by_seq_[command.start_sub_workflow().seq()] = event.id();
    sub_workflow_instance_by_event_[event.id()] =
        event.sub_workflow_scheduled().instance_id();
    sub_workflow_scheduled_by_event_[event.id()] = event;
  } else if (command.has_cancel_sub_workflow()) {
    canceled_sub_workflows_.insert(
        event.sub_workflow_cancellation_requested().scheduled_event_id());
  } else if (command.has_signal_external_workflow()) {
    signal_seq_by_event_[event.id()] = command.signal_external_workflow().seq();
    signal_seqs_.insert(command.signal_external_workflow().seq());
  }
}

bool WorkflowStateMachine::ProducesEvent(const WorkflowCommand& command) const {
  if (command.has_cancel_timer()) {
    auto timer = timer_event_by_seq_.find(command.cancel_timer().seq());
    return timer != timer_event_by_seq_.end() &&
           !finished_timers_.contains(timer->second);
  }
  if (command.has_cancel_sub_workflow()) {
    auto scheduled =
        sub_workflow_event_by_seq_.find(command.cancel_sub_workflow().seq());
    return scheduled != sub_workflow_event_by_seq_.end() &&
           !resolved_commands_.contains(scheduled->second) &&
           !canceled_sub_workflows_.contains(scheduled->second);
  }
  return true;
}

std::string WorkflowStateMachine::SubWorkflowExecutionId(
    int64_t scheduled_event_id, int32_t attempt) const {
  // The "child/" seed is part of the frozen algorithm: recorded histories
  // hold the ids it derives.
  return DeterministicUuid(
      run_id_, attempt == 0 ? absl::StrCat("child/", scheduled_event_id)
                            : absl::StrCat("child/", scheduled_event_id,
                                           "/attempt/", attempt));
}

OutboundEvent WorkflowStateMachine::SubWorkflowStart(
    const HistoryEvent& scheduled_event, int32_t attempt) const {
  const auto& scheduled = scheduled_event.sub_workflow_scheduled();
  OutboundEvent start;
  start.instance_id = scheduled.instance_id();
  // The first attempt runs under the recorded id; a retry is a new
  // execution of the sub-workflow instance and needs an id of its own.
  start.execution_id =
      attempt == 0 && !scheduled.execution_id().empty()
          ? scheduled.execution_id()
          : SubWorkflowExecutionId(scheduled_event.id(), attempt);
  start.event.set_timestamp_unix_us(scheduled_event.timestamp_unix_us());
  auto* started = start.event.mutable_workflow_execution_started();
  started->set_workflow_name(scheduled.workflow_name());
  *started->mutable_arguments() = scheduled.arguments();
  *started->mutable_metadata() = scheduled.metadata();
  started->set_queue(scheduled.queue());
  started->mutable_parent()->set_instance_id(instance_id_);
  started->mutable_parent()->set_execution_id(run_id_);
  started->mutable_parent()->set_scheduled_event_id(scheduled_event.id());
  return start;
}

OutboundEvent WorkflowStateMachine::ToSelf(const HistoryEvent& cause) const {
  OutboundEvent self;
  self.instance_id = instance_id_;
  self.execution_id = run_id_;
  self.event.set_timestamp_unix_us(cause.timestamp_unix_us());
  return self;
}

void WorkflowStateMachine::RecordSideOutputs(const WorkflowCommand& command,
                                             const HistoryEvent& event) {
  switch (event.attributes_case()) {
    case HistoryEvent::kActivityScheduled: {
      const auto& scheduled = event.activity_scheduled();
      if (absl::Status invalid = ValidateActivityOptions(scheduled);
          !invalid.ok()) {
        // Bad options never run and never retry: the activity fails at once
        // (the next task tells the code), and nothing else is held up.
        OutboundEvent failed = ToSelf(event);
        failed.event.mutable_activity_failed()->set_scheduled_event_id(
            event.id());
        *failed.event.mutable_activity_failed()->mutable_failure() =
            InvalidOptionsFailure(
                absl::StrFormat("activity \"%s\"", scheduled.activity_name()),
                invalid);
        output_.outbound_events.push_back(std::move(failed));
        break;
      }
      output_.scheduled_activities.push_back(event);
      break;
    }
    case HistoryEvent::kTimerScheduled: {
      OutboundEvent fired;
      fired.instance_id = instance_id_;
      fired.execution_id = run_id_;
      fired.event.set_timestamp_unix_us(
          event.timer_scheduled().fire_at_unix_us());
      fired.event.mutable_timer_fired()->set_scheduled_event_id(event.id());
      fired.event.mutable_timer_fired()->set_fire_at_unix_us(
          event.timer_scheduled().fire_at_unix_us());
      fired.visible_at =
          absl::FromUnixMicros(event.timer_scheduled().fire_at_unix_us());
      fired.key = TimerKey(event.id());
      output_.outbound_events.push_back(std::move(fired));
      break;
    }
    case HistoryEvent::kTimerCanceled:
      output_.canceled_event_keys.push_back(
          TimerKey(event.timer_canceled().scheduled_event_id()));
      break;
    case HistoryEvent::kSubWorkflowScheduled: {
      const auto& scheduled = event.sub_workflow_scheduled();
      if (absl::Status invalid =
              ValidateRetryPolicy(scheduled.retry_policy(), "retry_policy");
          !invalid.ok()) {
        OutboundEvent failed = ToSelf(event);
        failed.event.mutable_sub_workflow_failed()->set_scheduled_event_id(
            event.id());
        *failed.event.mutable_sub_workflow_failed()->mutable_failure() =
            InvalidOptionsFailure(absl::StrFormat("sub-workflow \"%s\"",
                                                  scheduled.workflow_name()),
                                  invalid);
        output_.outbound_events.push_back(std::move(failed));
        break;
      }
      output_.outbound_events.push_back(SubWorkflowStart(event, 0));
      break;
    }
    case HistoryEvent::kSubWorkflowCancellationRequested: {
      const int64_t scheduled_id =
          event.sub_workflow_cancellation_requested().scheduled_event_id();
      OutboundEvent cancel;
      cancel.instance_id = sub_workflow_instance_by_event_.at(scheduled_id);
      cancel.event.set_timestamp_unix_us(event.timestamp_unix_us());
      cancel.event.mutable_workflow_execution_canceled()->set_reason(
          "the parent workflow canceled it");
      output_.outbound_events.push_back(std::move(cancel));
      break;
    }
    case HistoryEvent::kWorkflowExecutionFinished: {
      output_.state = v1::WORKFLOW_STATE_FINISHED;
      v1::WorkflowResult result;
      const auto& finished = event.workflow_execution_finished();
      if (finished.has_failure()) {
        *result.mutable_failure() = finished.failure();
      } else {
        *result.mutable_result() = finished.result();
      }
      output_.result = result;
      // The parent learns the outcome in the same commit.
      if (std::optional<OutboundEvent> to_parent =
              OutcomeForParent(parent_, finished, event.timestamp_unix_us())) {
        output_.outbound_events.push_back(*std::move(to_parent));
      }
      break;
    }
    case HistoryEvent::kWorkflowExecutionContinuedAsNew: {
      output_.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
      const auto& continued = event.workflow_execution_continued_as_new();
      output_.remove_previous_executions =
          command.continue_as_new().remove_previous_executions();
      OutboundEvent next;
      next.instance_id = instance_id_;
      next.execution_id = continued.next_execution_id();
      next.event.set_timestamp_unix_us(event.timestamp_unix_us());
      auto* started = next.event.mutable_workflow_execution_started();
      started->set_workflow_name(continued.workflow_name().empty()
                                     ? workflow_name_
                                     : continued.workflow_name());
      *started->mutable_arguments() = continued.arguments();
      *started->mutable_metadata() = workflow_metadata_;
      started->set_queue(workflow_queue_);
      // The next execution reports to the same parent.
      if (!parent_.instance_id().empty()) *started->mutable_parent() = parent_;
      started->set_continued_from_execution_id(run_id_);
      output_.outbound_events.push_back(std::move(next));
      // Signals the code had not received go to the next execution first;
      // signals still in this execution's inbox follow them (the store
      // carries those over, see WorkflowTaskCompletion::next_execution_id).
      for (const v1::SignalReceived& signal : continued.carried_signals()) {
        OutboundEvent carried;
        carried.instance_id = instance_id_;
        carried.execution_id = continued.next_execution_id();
        carried.event.set_timestamp_unix_us(event.timestamp_unix_us());
        *carried.event.mutable_signal_received() = signal;
        output_.outbound_events.push_back(std::move(carried));
      }
      output_.next_execution_id = continued.next_execution_id();
      break;
    }
    case HistoryEvent::kSignalSent: {
      const auto& sent = event.signal_sent();
      OutboundEvent signal;
      signal.instance_id = sent.instance_id();
      signal.event.set_timestamp_unix_us(event.timestamp_unix_us());
      signal.event.mutable_signal_received()->set_signal_name(
          sent.signal_name());
      *signal.event.mutable_signal_received()->mutable_input() = sent.input();
      // Both answers for this execution; the store picks the one that holds
      // when it delivers the signal.
      OutboundEvent::Reply& reply = signal.reply.emplace();
      reply.instance_id = instance_id_;
      reply.execution_id = run_id_;
      reply.delivered.set_timestamp_unix_us(event.timestamp_unix_us());
      reply.delivered.mutable_signal_external_delivered()
          ->set_scheduled_event_id(event.id());
      reply.not_delivered.set_timestamp_unix_us(event.timestamp_unix_us());
      auto* failed = reply.not_delivered.mutable_signal_external_failed();
      failed->set_scheduled_event_id(event.id());
      failed->mutable_failure()->set_type(kInstanceNotFound);
      failed->mutable_failure()->set_message(absl::StrFormat(
          "workflow instance \"%s\" does not exist or has finished; signal "
          "\"%s\" was not delivered",
          sent.instance_id(), sent.signal_name()));
      failed->mutable_failure()->set_non_retryable(true);
      output_.outbound_events.push_back(std::move(signal));
      break;
    }
    default:
      break;
  }
}

WorkflowTaskOutput WorkflowStateMachine::TakeTaskOutput() {
  // Executions start before anything is delivered to other instances, so
  // the order of the commands never changes the outcome (see
  // WorkflowTaskCompletion::outbound_events).
  std::stable_partition(
      output_.outbound_events.begin(), output_.outbound_events.end(),
      [](const OutboundEvent& outbound) {
        return outbound.event.has_workflow_execution_started();
      });
  WorkflowTaskOutput out = std::move(output_);
  output_ = WorkflowTaskOutput();
  task_done_ = false;
  return out;
}

}  // namespace durable::core
