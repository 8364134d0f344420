// Client: starts workflow instances and observes them.
//
// Thin over the Store: it validates requests, assigns instance and
// execution ids, builds the WorkflowExecutionStarted event, and waits for
// results. Thread-safe.
//
// Time: the events it builds are stamped, and other workers' liveness is
// judged, with the Clock given at construction (the real one by default).
// WaitForWorkflowResult's timeout is real time whatever the clock says.
#ifndef DURABLE_CORE_CLIENT_CLIENT_H_
#define DURABLE_CORE_CLIENT_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"

namespace durable::core {

class Client {
 public:
  // `clock` (null: the real one) is not owned and must outlive the client.
  explicit Client(std::shared_ptr<Store> backend,
                  const Clock* clock = &Clock::Real());

  // INVALID_ARGUMENT for an empty workflow name; ALREADY_EXISTS when an
  // active instance has the requested id.
  absl::StatusOr<v1::WorkflowInstance> CreateWorkflowInstance(
      const v1::CreateWorkflowInstanceRequest& request);

  // The outcome of the instance's latest execution; DEADLINE_EXCEEDED if it
  // does not finish within `timeout`.
  absl::StatusOr<v1::WorkflowResult> WaitForWorkflowResult(
      const std::string& instance_id, absl::Duration timeout);

  // NOT_FOUND if the instance is unknown or finished; INVALID_ARGUMENT for
  // an empty signal name.
  absl::Status SignalWorkflow(const v1::SignalWorkflowRequest& request);

  // Asks the instance's active execution to cancel. NOT_FOUND if the
  // instance is unknown or finished.
  absl::Status CancelWorkflowInstance(const std::string& instance_id,
                                      const std::string& reason);

  absl::StatusOr<v1::WorkflowInstanceState> GetWorkflowInstanceState(
      const std::string& instance_id);

  // Every stored execution of the instance, oldest first.
  absl::StatusOr<std::vector<v1::WorkflowInstanceState>> ListWorkflowExecutions(
      const std::string& instance_id);

  // History of the latest execution.
  absl::StatusOr<std::vector<v1::HistoryEvent>> GetWorkflowHistory(
      const std::string& instance_id);

  // The live workers of the backend's worker registry (see
  // core/worker/worker.h), ordered by worker_id: entries whose TTL has not
  // run out since their last heartbeat, as of this client's clock.
  absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers();

 private:
  std::shared_ptr<Store> backend_;
  const Clock& clock_;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_CLIENT_CLIENT_H_
