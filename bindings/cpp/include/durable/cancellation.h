// Cancellation scopes for workflow code, go-workflows style.
//
//   auto [child, cancel] = durable::WithCancel(ctx);
//   durable::Future<void> timer = child.ScheduleTimer(absl::Hours(1));
//   ...
//   cancel();                       // CancelTimer; `timer` yields CANCELLED
//
//   // In a canceled workflow, cleanup still runs:
//   durable::WorkflowContext cleanup = durable::NewDisconnectedContext(ctx);
//   co_await cleanup.ExecuteActivity(ReleaseResources);
//
// Contract:
//  - Every WorkflowContext is a cancellation scope. The workflow's own
//    context is canceled when the instance is canceled (the CancelWorkflow
//    job, sent after Client::CancelWorkflowInstance).
//  - WithCancel(parent) returns a child context and the function that
//    cancels it. The child is canceled with its parent (at once if the
//    parent already is) or by the function; canceling never reaches the
//    parent. The function may be called any number of times, also after
//    the run moved on: only the first call does something.
//  - NewDisconnectedContext(parent) returns a context of the same run that
//    no cancellation reaches (not the parent's, not the instance's), for
//    cleanup work in a canceled workflow. WithCancel on it works as usual.
//  - What canceling a context does (see workflow_context.h): scheduling
//    activities and timers and signaling other instances on it fails at once
//    with CANCELLED and issues no command; its pending timers are canceled
//    (CancelTimer) and their futures resolve CANCELLED; activities already
//    scheduled keep running and deliver their results; Canceled(), Err()
//    and Done() report it.
//  - Cancellation happens in a deterministic order: a scope's own timers in
//    the order they were started, then its children in creation order.
#ifndef DURABLE_CANCELLATION_H_
#define DURABLE_CANCELLATION_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <functional>
#include <utility>

#include "durable/workflow_context.h"

namespace durable {

// Cancels the context WithCancel returned; idempotent.
using CancelFunc = std::function<void()>;

std::pair<WorkflowContext, CancelFunc> WithCancel(
    const WorkflowContext& parent);

WorkflowContext NewDisconnectedContext(const WorkflowContext& parent);

}  // namespace durable

#endif  // DURABLE_CANCELLATION_H_
