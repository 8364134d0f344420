#include "core/parent_notification.h"

namespace durable::core {

std::optional<OutboundEvent> OutcomeForParent(
    const v1::WorkflowParent& parent,
    const v1::WorkflowExecutionFinished& finished, int64_t timestamp_unix_us) {
  if (parent.instance_id().empty()) return std::nullopt;
  OutboundEvent to_parent;
  to_parent.instance_id = parent.instance_id();
  to_parent.execution_id = parent.execution_id();
  to_parent.event.set_timestamp_unix_us(timestamp_unix_us);
  if (finished.has_failure()) {
    auto* failed = to_parent.event.mutable_sub_workflow_failed();
    failed->set_scheduled_event_id(parent.scheduled_event_id());
    *failed->mutable_failure() = finished.failure();
  } else {
    auto* completed = to_parent.event.mutable_sub_workflow_completed();
    completed->set_scheduled_event_id(parent.scheduled_event_id());
    *completed->mutable_result() = finished.result();
  }
  return to_parent;
}

std::optional<OutboundEvent> FailureForParent(const v1::WorkflowParent& parent,
                                              const v1::Failure& failure,
                                              int64_t timestamp_unix_us) {
  v1::WorkflowExecutionFinished finished;
  *finished.mutable_failure() = failure;
  return OutcomeForParent(parent, finished, timestamp_unix_us);
}

}  // namespace durable::core
