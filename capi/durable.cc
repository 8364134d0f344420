// Implementation of durable.h over the core.
//
// Every entry point follows the same order, so that a refused call has done
// nothing: check the handle and every pointer argument, count the call in
// flight on its handle (its free waits for it), check text arguments and
// parse-and-check request messages (capi/request_checks.h), and only then
// call the core. C++ exceptions are caught so that nothing unwinds across
// the C ABI.
#include "durable/durable.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "capi/handles.h"
#include "capi/request_checks.h"
#include "core/client/client.h"
#include "core/errors.h"
#include "core/proto/protocol.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"
#include "core/storage/store_registry.h"
#include "core/worker/worker.h"

namespace {

using durable::capi::CallScope;
using durable::core::DurableCodeOf;

char* CopyString(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

// Messages may quote what the caller passed; they leave as valid UTF-8.
durable_status_t Fail(char** error, durable_status_t code,
                      absl::string_view message) {
  if (error != nullptr) {
    *error = CopyString(durable::capi::EscapeInvalidUtf8(message));
  }
  return code;
}

durable_status_t Ok(char** error) {
  if (error != nullptr) *error = nullptr;
  return DURABLE_OK;
}

durable_status_t Report(char** error, const absl::Status& status) {
  if (status.ok()) return Ok(error);
  return Fail(error, static_cast<durable_status_t>(DurableCodeOf(status)),
              status.message());
}

durable_status_t NullArgument(char** error, absl::string_view what) {
  return Fail(error, DURABLE_INVALID_ARGUMENT,
              absl::StrCat(what, " must not be NULL"));
}

// Outputs are NULL/0 unless the call succeeds.
void ResetOutput(uint8_t** out, size_t* out_len) {
  if (out != nullptr) *out = nullptr;
  if (out_len != nullptr) *out_len = 0;
}

// Serializes `message` into a malloc'ed buffer owned by the caller. The
// pointers were checked by the entry point.
durable_status_t Output(const google::protobuf::MessageLite& message,
                        uint8_t** out, size_t* out_len, char** error) {
  const size_t size = message.ByteSizeLong();
  if (size > durable::capi::kMaxRequestBytes) {
    return Fail(error, DURABLE_RESOURCE_EXHAUSTED,
                absl::StrCat("the response would be ", size,
                             " bytes, more than protobuf can serialize"));
  }
  // malloc(0) may return NULL; always allocate at least one byte so a
  // successful call returns a non-NULL buffer.
  auto* buffer = static_cast<uint8_t*>(std::malloc(size == 0 ? 1 : size));
  if (buffer == nullptr) {
    return Fail(error, DURABLE_RESOURCE_EXHAUSTED, "out of memory");
  }
  if (size > 0 && !message.SerializeToArray(buffer, static_cast<int>(size))) {
    std::free(buffer);
    return Fail(error, DURABLE_INTERNAL, "cannot serialize response");
  }
  *out = buffer;
  *out_len = size;
  return Ok(error);
}

// A text argument passed as (pointer, length). (NULL, 0) is the empty text
// where `nullable`; anywhere else NULL is refused.
absl::Status TextArgument(const char* text, size_t len, absl::string_view field,
                          bool nullable, absl::string_view* view) {
  if (text == nullptr) {
    if (!nullable)
      return absl::InvalidArgumentError(absl::StrCat(field, " is NULL"));
    if (len > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": NULL with non-zero length ", len));
    }
    *view = absl::string_view();
    return absl::OkStatus();
  }
  *view = absl::string_view(text, len);
  return absl::OkStatus();
}

absl::Status InstanceIdArgument(const char* id, size_t len,
                                std::string* instance_id) {
  absl::string_view view;
  if (absl::Status s = TextArgument(id, len, "instance_id", false, &view);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = durable::capi::CheckInstanceId(view, "instance_id");
      !s.ok()) {
    return s;
  }
  instance_id->assign(view.data(), view.size());
  return absl::OkStatus();
}

// Runs `body`, converting escaped C++ exceptions into DURABLE_INTERNAL.
template <typename Body>
durable_status_t Guard(char** error, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Fail(error, DURABLE_INTERNAL,
                absl::StrCat("internal error: ", e.what()));
  } catch (...) {
    return Fail(error, DURABLE_INTERNAL, "internal error: unknown exception");
  }
}

// The shape of the client reads: check, count, read `instance_id`, answer
// with what `read(id)` returns (a StatusOr of a message).
template <typename Read>
durable_status_t ClientRead(durable_client_t* client, const char* instance_id,
                            size_t instance_id_len, uint8_t** out,
                            size_t* out_len, char** error, Read&& read) {
  ResetOutput(out, out_len);
  if (client == nullptr) return NullArgument(error, "client");
  if (out == nullptr || out_len == nullptr) {
    return NullArgument(error, "out and out_len");
  }
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(client->calls);
    std::string id;
    if (absl::Status s = InstanceIdArgument(instance_id, instance_id_len, &id);
        !s.ok()) {
      return Report(error, s);
    }
    auto answer = read(*client->client, id);
    if (!answer.ok()) return Report(error, answer.status());
    return Output(*answer, out, out_len, error);
  });
}

// The shape of the worker calls that take one request message and answer
// with a status only.
template <typename Message, typename Call>
durable_status_t WorkerRequest(durable_worker_t* worker, const uint8_t* data,
                               size_t len, const char* what, char** error,
                               Call&& call) {
  if (worker == nullptr) return NullArgument(error, "worker");
  return Guard(error, [&]() -> durable_status_t {
    CallScope scope(worker->calls);
    Message parsed;
    if (absl::Status s = durable::capi::ParseRequest(data, len, what, &parsed);
        !s.ok()) {
      return Report(error, s);
    }
    return Report(error, call(*worker->worker, parsed));
  });
}

absl::Duration Millis(int64_t ms) {
  return ms < 0 ? absl::ZeroDuration() : absl::Milliseconds(ms);
}

}  // namespace

extern "C" {

const char* durable_status_name(durable_status_t status) {
  return durable::core::DurableCodeName(status);
}

const char* durable_version(void) { return "0.1.0"; }

int durable_abi_version(void) { return DURABLE_ABI_VERSION; }

void durable_free(void* ptr) { std::free(ptr); }

durable_status_t durable_backend_open(const char* uri, durable_backend_t** out,
                                      char** error) {
  if (out == nullptr) return NullArgument(error, "out");
  *out = nullptr;
  if (uri == nullptr) return NullArgument(error, "uri");
  return Guard(error, [&]() -> durable_status_t {
    if (absl::Status s = durable::capi::CheckText(uri, "uri"); !s.ok()) {
      return Report(error, s);
    }
    auto backend = durable::core::storage::OpenStore(uri);
    if (!backend.ok()) return Report(error, backend.status());
    auto handle = std::make_unique<durable_backend_t>();
    handle->backend = *std::move(backend);
    *out = handle.release();
    return Ok(error);
  });
}

void durable_backend_free(durable_backend_t* backend) {
  if (backend == nullptr) return;
  backend->calls.AwaitNone();
  delete backend;
}

durable_status_t durable_client_new(durable_backend_t* backend,
                                    durable_client_t** out, char** error) {
  if (out == nullptr) return NullArgument(error, "out");
  *out = nullptr;
  if (backend == nullptr) return NullArgument(error, "backend");
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(backend->calls);
    auto handle = std::make_unique<durable_client_t>();
    handle->client = std::make_unique<durable::core::Client>(backend->backend);
    *out = handle.release();
    return Ok(error);
  });
}

void durable_client_free(durable_client_t* client) {
  if (client == nullptr) return;
  client->calls.AwaitNone();
  delete client;
}

durable_status_t durable_client_create_workflow_instance(
    durable_client_t* client, const uint8_t* request, size_t request_len,
    uint8_t** out, size_t* out_len, char** error) {
  ResetOutput(out, out_len);
  if (client == nullptr) return NullArgument(error, "client");
  if (out == nullptr || out_len == nullptr) {
    return NullArgument(error, "out and out_len");
  }
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(client->calls);
    durable::v1::CreateWorkflowInstanceRequest parsed;
    if (absl::Status s = durable::capi::ParseRequest(request, request_len,
                                                     "request", &parsed);
        !s.ok()) {
      return Report(error, s);
    }
    auto instance = client->client->CreateWorkflowInstance(parsed);
    if (!instance.ok()) return Report(error, instance.status());
    return Output(*instance, out, out_len, error);
  });
}

durable_status_t durable_client_wait_for_workflow_result(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    int64_t timeout_ms, uint8_t** out, size_t* out_len, char** error) {
  return ClientRead(client, instance_id, instance_id_len, out, out_len, error,
                    [&](durable::core::Client& c, const std::string& id) {
                      return c.WaitForWorkflowResult(id, Millis(timeout_ms));
                    });
}

durable_status_t durable_client_get_workflow_instance_state(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    uint8_t** out, size_t* out_len, char** error) {
  return ClientRead(client, instance_id, instance_id_len, out, out_len, error,
                    [](durable::core::Client& c, const std::string& id) {
                      return c.GetWorkflowInstanceState(id);
                    });
}

durable_status_t durable_client_get_workflow_history(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    uint8_t** out, size_t* out_len, char** error) {
  return ClientRead(
      client, instance_id, instance_id_len, out, out_len, error,
      [](durable::core::Client& c,
         const std::string& id) -> absl::StatusOr<durable::v1::History> {
        auto events = c.GetWorkflowHistory(id);
        if (!events.ok()) return events.status();
        durable::v1::History history;
        for (auto& event : *events) *history.add_events() = std::move(event);
        return history;
      });
}

durable_status_t durable_client_list_workflow_executions(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    uint8_t** out, size_t* out_len, char** error) {
  return ClientRead(client, instance_id, instance_id_len, out, out_len, error,
                    [](durable::core::Client& c, const std::string& id)
                        -> absl::StatusOr<durable::v1::WorkflowExecutionList> {
                      auto executions = c.ListWorkflowExecutions(id);
                      if (!executions.ok()) return executions.status();
                      durable::v1::WorkflowExecutionList list;
                      for (auto& state : *executions) {
                        *list.add_executions() = std::move(state);
                      }
                      return list;
                    });
}

durable_status_t durable_client_list_workers(durable_client_t* client,
                                             uint8_t** out, size_t* out_len,
                                             char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (client == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "client is NULL");
    }
    auto workers = client->client->ListWorkers();
    if (!workers.ok()) return Report(error, workers.status());
    durable::v1::WorkerList list;
    for (auto& worker : *workers) *list.add_workers() = std::move(worker);
    return Output(list, out, out_len, error);
  });
}

durable_status_t durable_client_signal_workflow(durable_client_t* client,
                                                const uint8_t* request,
                                                size_t request_len,
                                                char** error) {
  if (client == nullptr) return NullArgument(error, "client");
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(client->calls);
    durable::v1::SignalWorkflowRequest parsed;
    if (absl::Status s = durable::capi::ParseRequest(request, request_len,
                                                     "request", &parsed);
        !s.ok()) {
      return Report(error, s);
    }
    return Report(error, client->client->SignalWorkflow(parsed));
  });
}

durable_status_t durable_client_cancel_workflow_instance(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    const char* reason, size_t reason_len, char** error) {
  if (client == nullptr) return NullArgument(error, "client");
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(client->calls);
    std::string id;
    absl::string_view why;
    absl::Status s = InstanceIdArgument(instance_id, instance_id_len, &id);
    if (s.ok()) s = TextArgument(reason, reason_len, "reason", true, &why);
    if (s.ok()) s = durable::capi::CheckText(why, "reason");
    if (!s.ok()) return Report(error, s);
    return Report(error,
                  client->client->CancelWorkflowInstance(id, std::string(why)));
  });
}

durable_status_t durable_worker_new(durable_backend_t* backend,
                                    const uint8_t* options, size_t options_len,
                                    durable_worker_t** out, char** error) {
  if (out == nullptr) return NullArgument(error, "out");
  *out = nullptr;
  if (backend == nullptr) return NullArgument(error, "backend");
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(backend->calls);
    durable::v1::WorkerOptions parsed;
    if (absl::Status s = durable::capi::ParseRequest(options, options_len,
                                                     "options", &parsed);
        !s.ok()) {
      return Report(error, s);
    }
    auto config = durable::core::WorkerConfig::FromProto(parsed);
    if (!config.ok()) return Report(error, config.status());
    auto handle = std::make_unique<durable_worker_t>();
    handle->worker = std::make_unique<durable::core::Worker>(
        backend->backend, *std::move(config));
    *out = handle.release();
    return Ok(error);
  });
}

durable_status_t durable_worker_poll_workflow_activation(
    durable_worker_t* worker, int64_t timeout_ms, uint8_t** out,
    size_t* out_len, char** error) {
  ResetOutput(out, out_len);
  if (worker == nullptr) return NullArgument(error, "worker");
  // Checked before polling: a polled activation that cannot be returned
  // would stay leased to this worker for good.
  if (out == nullptr || out_len == nullptr) {
    return NullArgument(error, "out and out_len");
  }
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(worker->calls);
    auto activation =
        worker->worker->PollWorkflowActivation(Millis(timeout_ms));
    if (!activation.ok()) return Report(error, activation.status());
    return Output(*activation, out, out_len, error);
  });
}

durable_status_t durable_worker_complete_workflow_activation(
    durable_worker_t* worker, const uint8_t* completion, size_t completion_len,
    char** error) {
  return WorkerRequest<durable::v1::WorkflowActivationCompletion>(
      worker, completion, completion_len, "completion", error,
      [](durable::core::Worker& w, const auto& parsed) {
        return w.CompleteWorkflowActivation(parsed);
      });
}

durable_status_t durable_worker_poll_activity_task(durable_worker_t* worker,
                                                   int64_t timeout_ms,
                                                   uint8_t** out,
                                                   size_t* out_len,
                                                   char** error) {
  ResetOutput(out, out_len);
  if (worker == nullptr) return NullArgument(error, "worker");
  // Checked before polling: a polled task that cannot be returned would
  // stay leased to this worker for good.
  if (out == nullptr || out_len == nullptr) {
    return NullArgument(error, "out and out_len");
  }
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(worker->calls);
    auto task = worker->worker->PollActivityTask(Millis(timeout_ms));
    if (!task.ok()) return Report(error, task.status());
    return Output(*task, out, out_len, error);
  });
}

durable_status_t durable_worker_complete_activity_task(durable_worker_t* worker,
                                                       const uint8_t* result,
                                                       size_t result_len,
                                                       char** error) {
  return WorkerRequest<durable::v1::ActivityTaskResult>(
      worker, result, result_len, "result", error,
      [](durable::core::Worker& w, const auto& parsed) {
        return w.CompleteActivityTask(parsed);
      });
}

durable_status_t durable_worker_record_activity_heartbeat(
    durable_worker_t* worker, const uint8_t* heartbeat, size_t heartbeat_len,
    char** error) {
  return WorkerRequest<durable::v1::ActivityHeartbeat>(
      worker, heartbeat, heartbeat_len, "heartbeat", error,
      [](durable::core::Worker& w, const auto& parsed) {
        return w.RecordActivityHeartbeat(parsed);
      });
}

void durable_worker_initiate_shutdown(durable_worker_t* worker) {
  if (worker == nullptr) return;
  CallScope call(worker->calls);
  try {
    worker->worker->InitiateShutdown();
  } catch (...) {
  }
}

durable_status_t durable_worker_finalize_shutdown(durable_worker_t* worker,
                                                  int64_t timeout_ms,
                                                  char** error) {
  if (worker == nullptr) return NullArgument(error, "worker");
  return Guard(error, [&]() -> durable_status_t {
    CallScope call(worker->calls);
    return Report(error, worker->worker->FinalizeShutdown(Millis(timeout_ms)));
  });
}

void durable_worker_free(durable_worker_t* worker) {
  if (worker == nullptr) return;
  try {
    // Wakes blocked polls, so that the calls in flight return.
    worker->worker->InitiateShutdown();
  } catch (...) {
  }
  worker->calls.AwaitNone();
  try {
    delete worker;
  } catch (...) {
  }
}

}  // extern "C"
