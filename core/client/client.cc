#include "core/client/client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "core/uuid.h"
#include "core/worker_liveness.h"

namespace durable::core {

Client::Client(std::shared_ptr<Store> backend, const Clock* clock)
    : backend_(std::move(backend)),
      clock_(clock != nullptr ? *clock : Clock::Real()) {}

absl::StatusOr<v1::WorkflowInstance> Client::CreateWorkflowInstance(
    const v1::CreateWorkflowInstanceRequest& request) {
  if (request.workflow_name().empty()) {
    return absl::InvalidArgumentError(
        "CreateWorkflowInstance: workflow_name is empty");
  }
  v1::WorkflowInstance instance;
  instance.set_instance_id(
      request.instance_id().empty() ? NewUuid() : request.instance_id());
  instance.set_execution_id(NewUuid());

  v1::HistoryEvent started;
  started.set_timestamp_unix_us(absl::ToUnixMicros(clock_.Now()));
  auto* attributes = started.mutable_workflow_execution_started();
  attributes->set_workflow_name(request.workflow_name());
  *attributes->mutable_arguments() = request.arguments();
  *attributes->mutable_metadata() = request.metadata();
  attributes->set_queue(request.queue().empty() ? kDefaultQueue
                                                : request.queue());
  if (absl::Status s = backend_->CreateWorkflowInstance(instance, started);
      !s.ok()) {
    return s;
  }
  return instance;
}

absl::StatusOr<v1::WorkflowResult> Client::WaitForWorkflowResult(
    const std::string& instance_id, absl::Duration timeout) {
  // A real-time wait: the timeout is the caller's, not the clock's.
  absl::StatusOr<v1::WorkflowInstanceState> state =
      backend_->WaitForWorkflowInstanceFinished(instance_id,
                                                Clock::Real().Now() + timeout);
  if (!state.ok()) return state.status();
  if (state->state() != v1::WORKFLOW_STATE_FINISHED) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "workflow instance \"%s\" ended without a result (state %s)",
        instance_id, v1::WorkflowState_Name(state->state())));
  }
  return state->result();
}

absl::Status Client::SignalWorkflow(const v1::SignalWorkflowRequest& request) {
  if (request.signal_name().empty()) {
    return absl::InvalidArgumentError("SignalWorkflow: signal_name is empty");
  }
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(clock_.Now()));
  event.mutable_signal_received()->set_signal_name(request.signal_name());
  *event.mutable_signal_received()->mutable_input() = request.input();
  return backend_->DeliverWorkflowEvent(request.instance_id(), event);
}

absl::Status Client::CancelWorkflowInstance(const std::string& instance_id,
                                            const std::string& reason) {
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(clock_.Now()));
  event.mutable_workflow_execution_canceled()->set_reason(reason);
  return backend_->DeliverWorkflowEvent(instance_id, event);
}

absl::StatusOr<v1::WorkflowInstanceState> Client::GetWorkflowInstanceState(
    const std::string& instance_id) {
  return backend_->GetWorkflowInstanceState(instance_id);
}

absl::StatusOr<std::vector<v1::WorkflowInstanceState>>
Client::ListWorkflowExecutions(const std::string& instance_id) {
  return backend_->ListWorkflowExecutions(instance_id);
}

absl::StatusOr<std::vector<v1::WorkerInfo>> Client::ListWorkers() {
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = backend_->ListWorkers();
  if (!workers.ok()) return workers.status();
  const absl::Time now = clock_.Now();
  workers->erase(std::remove_if(workers->begin(), workers->end(),
                                [now](const v1::WorkerInfo& worker) {
                                  return !IsWorkerLive(worker, now);
                                }),
                 workers->end());
  return workers;
}

absl::StatusOr<std::vector<v1::HistoryEvent>> Client::GetWorkflowHistory(
    const std::string& instance_id) {
  absl::StatusOr<v1::WorkflowInstanceState> state =
      backend_->GetWorkflowInstanceState(instance_id);
  if (!state.ok()) return state.status();
  return backend_->GetWorkflowHistory(instance_id, state->execution_id());
}

}  // namespace durable::core
