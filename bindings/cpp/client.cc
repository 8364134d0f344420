#include "durable/client.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bindings/cpp/c_abi.h"
#include "durable/durable.h"

namespace durable {

Client::Client(const Backend& backend, const Registry* registry)
    : backend_(backend), registry_(registry) {
  char* error = nullptr;
  init_status_ = internal::StatusFromC(
      durable_client_new(backend_.handle(), &client_, &error), &error);
}

Client::~Client() { durable_client_free(client_); }

absl::StatusOr<std::string> Client::WorkflowNameOf(
    internal::FunctionKey fn) const {
  if (registry_ == nullptr) {
    return absl::FailedPreconditionError(
        "CreateWorkflowInstance by function needs the Client to be built with "
        "the Registry holding the workflow; or pass the workflow's name");
  }
  std::optional<std::string> name = registry_->WorkflowName(fn);
  if (!name.has_value()) {
    std::vector<std::string> names = registry_->WorkflowNames();
    return absl::NotFoundError(absl::StrCat(
        "the function passed to CreateWorkflowInstance is not registered as a "
        "workflow (registered: ",
        names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  return *std::move(name);
}

absl::StatusOr<WorkflowInstance> Client::Create(
    const WorkflowInstanceOptions& options, std::string workflow_name,
    absl::StatusOr<std::vector<v1::Payload>> arguments) {
  if (!init_status_.ok()) return init_status_;
  if (!arguments.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "workflow \"", workflow_name,
        "\": cannot encode arguments: ", arguments.status().message()));
  }
  v1::CreateWorkflowInstanceRequest request;
  request.set_instance_id(options.instance_id);
  request.set_workflow_name(std::move(workflow_name));
  request.set_queue(options.queue);
  for (v1::Payload& payload : *arguments) {
    *request.add_arguments() = std::move(payload);
  }
  request.mutable_metadata()->insert(options.metadata.begin(),
                                     options.metadata.end());
  const std::string bytes = request.SerializeAsString();
  internal::OutBuffer out;
  char* error = nullptr;
  absl::Status status =
      internal::StatusFromC(durable_client_create_workflow_instance(
                                client_, internal::Bytes(bytes), bytes.size(),
                                out.data(), out.size(), &error),
                            &error);
  if (!status.ok()) return status;
  v1::WorkflowInstance instance;
  if (status = out.ParseInto(instance); !status.ok()) return status;
  return WorkflowInstance{instance.instance_id(), instance.execution_id()};
}

absl::StatusOr<v1::Payload> Client::WaitForWorkflowResult(
    const std::string& instance_id, absl::Duration timeout) {
  if (!init_status_.ok()) return init_status_;
  internal::OutBuffer out;
  char* error = nullptr;
  absl::Status status = internal::StatusFromC(
      durable_client_wait_for_workflow_result(
          client_, instance_id.data(), instance_id.size(),
          internal::TimeoutMillis(timeout), out.data(), out.size(), &error),
      &error);
  if (!status.ok()) return status;
  v1::WorkflowResult result;
  if (status = out.ParseInto(result); !status.ok()) return status;
  if (result.has_failure()) return StatusFromFailure(result.failure());
  return result.result();
}

absl::Status Client::SignalWorkflowPayload(const std::string& instance_id,
                                           std::string_view signal_name,
                                           v1::Payload input) {
  if (!init_status_.ok()) return init_status_;
  v1::SignalWorkflowRequest request;
  request.set_instance_id(instance_id);
  request.set_signal_name(std::string(signal_name));
  *request.mutable_input() = std::move(input);
  const std::string bytes = request.SerializeAsString();
  char* error = nullptr;
  return internal::StatusFromC(
      durable_client_signal_workflow(client_, internal::Bytes(bytes),
                                     bytes.size(), &error),
      &error);
}

absl::Status Client::CancelWorkflowInstance(const std::string& instance_id,
                                            std::string_view reason) {
  if (!init_status_.ok()) return init_status_;
  char* error = nullptr;
  return internal::StatusFromC(
      durable_client_cancel_workflow_instance(client_, instance_id.data(),
                                              instance_id.size(), reason.data(),
                                              reason.size(), &error),
      &error);
}

absl::StatusOr<v1::WorkflowInstanceState> Client::GetWorkflowInstanceState(
    const std::string& instance_id) {
  if (!init_status_.ok()) return init_status_;
  internal::OutBuffer out;
  char* error = nullptr;
  absl::Status status =
      internal::StatusFromC(durable_client_get_workflow_instance_state(
                                client_, instance_id.data(), instance_id.size(),
                                out.data(), out.size(), &error),
                            &error);
  if (!status.ok()) return status;
  v1::WorkflowInstanceState state;
  if (status = out.ParseInto(state); !status.ok()) return status;
  return state;
}

absl::StatusOr<std::vector<v1::WorkflowInstanceState>>
Client::ListWorkflowExecutions(const std::string& instance_id) {
  if (!init_status_.ok()) return init_status_;
  internal::OutBuffer out;
  char* error = nullptr;
  absl::Status status =
      internal::StatusFromC(durable_client_list_workflow_executions(
                                client_, instance_id.data(), instance_id.size(),
                                out.data(), out.size(), &error),
                            &error);
  if (!status.ok()) return status;
  v1::WorkflowExecutionList list;
  if (status = out.ParseInto(list); !status.ok()) return status;
  return std::vector<v1::WorkflowInstanceState>(list.executions().begin(),
                                                list.executions().end());
}

absl::StatusOr<std::vector<v1::WorkerInfo>> Client::ListWorkers() {
  if (!init_status_.ok()) return init_status_;
  internal::OutBuffer out;
  char* error = nullptr;
  absl::Status status = internal::StatusFromC(
      durable_client_list_workers(client_, out.data(), out.size(), &error),
      &error);
  if (!status.ok()) return status;
  v1::WorkerList list;
  if (status = out.ParseInto(list); !status.ok()) return status;
  return std::vector<v1::WorkerInfo>(
      std::make_move_iterator(list.mutable_workers()->begin()),
      std::make_move_iterator(list.mutable_workers()->end()));
}

absl::StatusOr<std::vector<v1::HistoryEvent>> Client::GetWorkflowHistory(
    const std::string& instance_id) {
  if (!init_status_.ok()) return init_status_;
  internal::OutBuffer out;
  char* error = nullptr;
  absl::Status status =
      internal::StatusFromC(durable_client_get_workflow_history(
                                client_, instance_id.data(), instance_id.size(),
                                out.data(), out.size(), &error),
                            &error);
  if (!status.ok()) return status;
  v1::History history;
  if (status = out.ParseInto(history); !status.ok()) return status;
  return std::vector<v1::HistoryEvent>(
      std::make_move_iterator(history.mutable_events()->begin()),
      std::make_move_iterator(history.mutable_events()->end()));
}

}  // namespace durable
