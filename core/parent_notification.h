// How a sub-workflow's parent learns that the sub-workflow ended. One rule,
// used wherever an execution finishes: by the replay state machine when the
// workflow code returns or fails, by the worker when the engine fails the
// workflow itself (history limit exceeded, corrupted history,
// non-determinism with fail_workflow_on_nondeterminism, a workflow no live
// worker runs), and by stores for a sub-workflow that could not start. Every
// way a sub-workflow ends resolves its parent's future.
#ifndef DURABLE_CORE_PARENT_NOTIFICATION_H_
#define DURABLE_CORE_PARENT_NOTIFICATION_H_

#include <cstdint>
#include <optional>

#include "core/proto/common.pb.h"
#include "core/proto/history.pb.h"
#include "core/storage/store.h"

namespace durable::core {

// The SubWorkflowCompleted (a result) or SubWorkflowFailed (a failure) event
// for the inbox of `parent`'s execution, answering its SubWorkflowScheduled
// event, stamped `timestamp_unix_us`; nullopt when `parent` names no parent
// (empty instance_id). Commit it with the sub-workflow's finish.
std::optional<OutboundEvent> OutcomeForParent(
    const v1::WorkflowParent& parent,
    const v1::WorkflowExecutionFinished& finished, int64_t timestamp_unix_us);

// OutcomeForParent for a sub-workflow that failed with `failure`.
std::optional<OutboundEvent> FailureForParent(const v1::WorkflowParent& parent,
                                              const v1::Failure& failure,
                                              int64_t timestamp_unix_us);

}  // namespace durable::core

#endif  // DURABLE_CORE_PARENT_NOTIFICATION_H_
