// Helpers for tests that drive durable.h directly from C++: owning wrappers
// for outputs, and a minimal language layer that answers activations.
#ifndef DURABLE_CAPI_ABI_TEST_SUPPORT_H_
#define DURABLE_CAPI_ABI_TEST_SUPPORT_H_

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/proto/history.pb.h"
#include "core/proto/protocol.pb.h"
#include "core/proto/service.pb.h"
#include "durable/durable.h"

namespace durable::capi_test {

// A call's status and its error message (freed).
struct Result {
  durable_status_t code = DURABLE_OK;
  std::string error;
  bool error_set = false;  // *error was non-NULL
  std::string out;         // the output buffer, if any
};

// Takes the addresses, so that the outputs are read after the call that
// set them whatever the argument evaluation order.
inline Result Finish(durable_status_t code, char** error) {
  Result r;
  r.code = code;
  r.error_set = *error != nullptr;
  if (*error != nullptr) r.error = *error;
  durable_free(*error);
  *error = nullptr;
  return r;
}

inline Result FinishOut(durable_status_t code, char** error, uint8_t** out,
                        size_t* out_len) {
  Result r = Finish(code, error);
  if (*out != nullptr) {
    r.out.assign(reinterpret_cast<char*>(*out), *out_len);
  }
  durable_free(*out);
  *out = nullptr;
  return r;
}

inline const uint8_t* Data(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

inline std::string TempUri(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string("sqlite://") + (dir != nullptr ? dir : "/tmp") + "/" +
         std::string(name);
}

inline v1::Payload Json(const std::string& text) {
  v1::Payload p;
  p.set_encoding("json/plain");
  p.set_data(text);
  return p;
}

inline Result Create(durable_client_t* client,
                     const v1::CreateWorkflowInstanceRequest& request) {
  const std::string bytes = request.SerializeAsString();
  uint8_t* out = nullptr;
  size_t out_len = 0;
  char* error = nullptr;
  durable_status_t code = durable_client_create_workflow_instance(
      client, Data(bytes), bytes.size(), &out, &out_len, &error);
  return FinishOut(code, &error, &out, &out_len);
}

inline v1::CreateWorkflowInstanceRequest CreateRequest(
    const std::string& instance_id, const std::string& workflow) {
  v1::CreateWorkflowInstanceRequest request;
  request.set_instance_id(instance_id);
  request.set_workflow_name(workflow);
  return request;
}

inline Result State(durable_client_t* client, const std::string& id) {
  uint8_t* out = nullptr;
  size_t out_len = 0;
  char* error = nullptr;
  durable_status_t code = durable_client_get_workflow_instance_state(
      client, id.data(), id.size(), &out, &out_len, &error);
  return FinishOut(code, &error, &out, &out_len);
}

inline Result History(durable_client_t* client, const std::string& id) {
  uint8_t* out = nullptr;
  size_t out_len = 0;
  char* error = nullptr;
  durable_status_t code = durable_client_get_workflow_history(
      client, id.data(), id.size(), &out, &out_len, &error);
  return FinishOut(code, &error, &out, &out_len);
}

inline Result WaitResult(durable_client_t* client, const std::string& id,
                         int64_t timeout_ms) {
  uint8_t* out = nullptr;
  size_t out_len = 0;
  char* error = nullptr;
  durable_status_t code = durable_client_wait_for_workflow_result(
      client, id.data(), id.size(), timeout_ms, &out, &out_len, &error);
  return FinishOut(code, &error, &out, &out_len);
}

inline Result Cancel(durable_client_t* client, const std::string& id,
                     const std::string& reason) {
  char* error = nullptr;
  durable_status_t code = durable_client_cancel_workflow_instance(
      client, id.data(), id.size(), reason.data(), reason.size(), &error);
  return Finish(code, &error);
}

inline Result CompleteActivation(durable_worker_t* worker,
                                 const v1::WorkflowActivationCompletion& c) {
  const std::string bytes = c.SerializeAsString();
  char* error = nullptr;
  durable_status_t code = durable_worker_complete_workflow_activation(
      worker, Data(bytes), bytes.size(), &error);
  return Finish(code, &error);
}

// True if the instance's latest execution finished (with any outcome).
inline bool Finished(durable_client_t* client, const std::string& id) {
  Result r = State(client, id);
  if (r.code != DURABLE_OK) return false;
  v1::WorkflowInstanceState state;
  return state.ParseFromString(r.out) &&
         state.state() == v1::WORKFLOW_STATE_FINISHED;
}

// The language layer of the tests' workflows:
//   "Finish": completes at once with result 1.
//   "Wait":   starts a one-hour timer; when canceled, completes with the
//             result "canceled: <reason>".
// Evictions are acknowledged. Returns the completion for `activation`.
inline v1::WorkflowActivationCompletion Answer(
    const v1::WorkflowActivation& activation) {
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id(activation.execution_id());
  auto* success = completion.mutable_successful();
  for (const v1::WorkflowActivationJob& job : activation.jobs()) {
    if (job.has_start_workflow()) {
      if (job.start_workflow().workflow_name() == "Wait") {
        auto* timer = success->add_commands()->mutable_start_timer();
        timer->set_seq(1);
        timer->set_duration_us(3'600'000'000LL);
      } else {
        *success->add_commands()
             ->mutable_complete_workflow()
             ->mutable_result() = Json("1");
      }
    } else if (job.has_cancel_workflow()) {
      *success->add_commands()->mutable_complete_workflow()->mutable_result() =
          Json("\"canceled: " + job.cancel_workflow().reason() + "\"");
    }
  }
  return completion;
}

// Polls and answers activations until `done()` or the deadline; false on
// timeout. Activations that fail to poll or complete are reported through
// `*last_error`.
template <typename Done>
bool Drive(durable_worker_t* worker, Done&& done, absl::Duration timeout,
           std::string* last_error) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    uint8_t* out = nullptr;
    size_t out_len = 0;
    char* error = nullptr;
    durable_status_t code = durable_worker_poll_workflow_activation(
        worker, 200, &out, &out_len, &error);
    Result polled = FinishOut(code, &error, &out, &out_len);
    if (polled.code == DURABLE_TIMEOUT) continue;
    if (polled.code != DURABLE_OK) {
      *last_error =
          std::string(durable_status_name(polled.code)) + ": " + polled.error;
      absl::SleepFor(absl::Milliseconds(20));
      continue;
    }
    v1::WorkflowActivation activation;
    if (!activation.ParseFromString(polled.out)) {
      *last_error = "unparseable activation";
      continue;
    }
    Result completed = CompleteActivation(worker, Answer(activation));
    if (completed.code != DURABLE_OK) {
      *last_error = std::string(durable_status_name(completed.code)) + ": " +
                    completed.error;
    }
  }
  return true;
}

}  // namespace durable::capi_test

#endif  // DURABLE_CAPI_ABI_TEST_SUPPORT_H_
