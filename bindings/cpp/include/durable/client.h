// Client: starts workflow instances and observes them.
//
//   durable::Client client(backend, &registry);
//   absl::StatusOr<durable::WorkflowInstance> instance =
//       client.CreateWorkflowInstance({.queue = "default"}, Workflow1, "hi");
//   absl::StatusOr<int> result =
//       client.GetWorkflowResult<int>(instance->instance_id,
//       absl::Seconds(30));
//
// Workflows are named by function pointer (looked up in the Registry given
// at construction, the one the workers use) or by name (for workflows
// implemented in another process or language). Arguments are encoded as JSON
// (see payload.h).
//
// A workflow's failure comes back as a non-OK status carrying the
// durable.v1.Failure (see failure.h): FailureFromStatus(status)->type() is
// e.g. "WorkflowNotRegistered" or the activity error the workflow returned.
// Engine codes map to absl codes of the same number; a wait that runs out of
// time is DeadlineExceeded.
//
// Signals and cancellation reach the instance's active execution:
//
//   absl::Status s = client.SignalWorkflow(id, "approval", std::string("ann"));
//   s = client.CancelWorkflowInstance(id, "no longer needed");
//
// Both return once the engine recorded the request; the workflow sees it in
// its next workflow task (signal channels, see signal_channel.h; context
// cancellation, see cancellation.h). NotFound if the instance is unknown or
// already finished.
//
// Text (instance ids, names, queues, metadata, reasons) must be valid UTF-8
// and instance ids must not contain NUL; otherwise the call fails with
// InvalidArgument naming the field (e.g. "instance_id: an instance id cannot
// contain NUL (found at offset 1)") and nothing is stored. Ids are passed
// whole, so "a\0b" is refused rather than taken for "a".
//
// Thread-safe. The Registry, if any, must outlive the Client.
#ifndef DURABLE_CLIENT_H_
#define DURABLE_CLIENT_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "durable/backend.h"
#include "durable/failure.h"
#include "durable/payload.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/workflow_context.h"

struct durable_client_t;

namespace durable {

struct WorkflowInstanceOptions {
  // Empty: the engine generates a UUID.
  std::string instance_id;
  // Queue of the instance's workflow tasks; empty means "default".
  std::string queue;
  // Visible to the workflow (WorkflowContext::Metadata()) and propagated to
  // its activities.
  std::map<std::string, std::string> metadata;
};

// Names one execution of a workflow instance.
struct WorkflowInstance {
  std::string instance_id;
  std::string execution_id;
};

class Client {
 public:
  explicit Client(const Backend& backend, const Registry* registry = nullptr);
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts the workflow registered as `fn` with `args` (converted to fn's
  // parameter types). NotFound if fn is not in the Registry (or there is
  // none); AlreadyExists if an active instance has options.instance_id.
  template <class R, class... P, class... A>
  absl::StatusOr<WorkflowInstance> CreateWorkflowInstance(
      const WorkflowInstanceOptions& options,
      Task<R> (*fn)(WorkflowContext&, P...), A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A),
                  "CreateWorkflowInstance: the number of arguments must match "
                  "the workflow's parameters (after WorkflowContext&)");
    absl::StatusOr<std::string> name = WorkflowNameOf(internal::KeyOf(fn));
    if (!name.ok()) return name.status();
    return Create(options, *std::move(name),
                  internal::EncodeArguments<P...>(std::forward<A>(args)...));
  }

  // Starts the workflow registered as `name` by some worker; each argument is
  // encoded as its own type.
  template <class... A>
  absl::StatusOr<WorkflowInstance> CreateWorkflowInstance(
      const WorkflowInstanceOptions& options, std::string_view name,
      A&&... args) {
    return Create(options, std::string(name),
                  internal::EncodeArguments<std::decay_t<A>...>(
                      std::forward<A>(args)...));
  }

  // Waits up to `timeout` for the instance to finish and decodes its result
  // as T. DeadlineExceeded if it is still running; NotFound if unknown; the
  // workflow's failure as a status carrying it.
  template <class T>
  absl::StatusOr<T> GetWorkflowResult(const std::string& instance_id,
                                      absl::Duration timeout) {
    absl::StatusOr<v1::Payload> payload =
        WaitForWorkflowResult(instance_id, timeout);
    if (!payload.ok()) return payload.status();
    return DecodePayload<T>(*payload);
  }

  // The result payload as-is (for results read by another language's codec).
  absl::StatusOr<v1::Payload> WaitForWorkflowResult(
      const std::string& instance_id, absl::Duration timeout);

  // Sends the signal `signal_name` carrying `value` (encoded as JSON) to the
  // instance's active execution; workflows receive signals of one name in
  // send order. NotFound if the instance is unknown or finished;
  // InvalidArgument if `value` does not encode.
  template <class T>
  absl::Status SignalWorkflow(const std::string& instance_id,
                              std::string_view signal_name, const T& value) {
    absl::StatusOr<v1::Payload> payload = EncodePayload(value);
    if (!payload.ok()) return payload.status();
    return SignalWorkflowPayload(instance_id, signal_name, *std::move(payload));
  }

  // The same with a payload as-is (for workflows in another language).
  absl::Status SignalWorkflowPayload(const std::string& instance_id,
                                     std::string_view signal_name,
                                     v1::Payload input);

  // Asks the instance's active execution to cancel: its workflow context
  // becomes canceled, with `reason` in the status it reports, and the
  // workflow decides how to finish. NotFound if the instance is unknown or
  // finished.
  absl::Status CancelWorkflowInstance(const std::string& instance_id,
                                      std::string_view reason = "");

  // The state of the instance's latest execution.
  absl::StatusOr<v1::WorkflowInstanceState> GetWorkflowInstanceState(
      const std::string& instance_id);

  // The history of the instance's latest execution, oldest event first.
  absl::StatusOr<std::vector<v1::HistoryEvent>> GetWorkflowHistory(
      const std::string& instance_id);

  // Every stored execution of the instance, oldest first; executions that
  // continued as new end in WORKFLOW_STATE_CONTINUED_AS_NEW.
  absl::StatusOr<std::vector<v1::WorkflowInstanceState>> ListWorkflowExecutions(
      const std::string& instance_id);

  // The live workers of the backend, in any process or language, ordered by
  // worker id: each one's host, pid, queues and registered names (unset
  // registered_names: it runs any name). A worker leaves the list when it
  // stops, or when its TTL passed since its last heartbeat (it crashed).
  absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers();

 private:
  absl::StatusOr<std::string> WorkflowNameOf(internal::FunctionKey fn) const;
  absl::StatusOr<WorkflowInstance> Create(
      const WorkflowInstanceOptions& options, std::string workflow_name,
      absl::StatusOr<std::vector<v1::Payload>> arguments);

  const Backend backend_;
  const Registry* const registry_;
  // Null if the engine refused to create the client; `init_status_` says why
  // and every call returns it.
  durable_client_t* client_ = nullptr;
  absl::Status init_status_;
};

}  // namespace durable

#endif  // DURABLE_CLIENT_H_
