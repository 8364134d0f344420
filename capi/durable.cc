// Implementation of durable.h over the core. Every entry point catches C++
// exceptions so that nothing unwinds across the C ABI.
#include "durable/durable.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backends/open_backend.h"
#include "core/backend.h"
#include "core/client/client.h"
#include "core/errors.h"
#include "core/proto/protocol.pb.h"
#include "core/proto/service.pb.h"
#include "core/worker/worker.h"

struct durable_backend_t {
  std::shared_ptr<durable::core::Backend> backend;
};

struct durable_client_t {
  std::unique_ptr<durable::core::Client> client;
};

struct durable_worker_t {
  std::unique_ptr<durable::core::Worker> worker;
};

namespace {

using durable::core::DurableCode;
using durable::core::DurableCodeOf;

char* CopyString(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

durable_status_t Fail(char** error, durable_status_t code,
                      const std::string& message) {
  if (error != nullptr) *error = CopyString(message);
  return code;
}

durable_status_t Report(char** error, const absl::Status& status) {
  if (status.ok()) {
    if (error != nullptr) *error = nullptr;
    return DURABLE_OK;
  }
  return Fail(error, static_cast<durable_status_t>(DurableCodeOf(status)),
              std::string(status.message()));
}

durable_status_t Ok(char** error) {
  if (error != nullptr) *error = nullptr;
  return DURABLE_OK;
}

// Serializes `message` into a malloc'ed buffer owned by the caller.
durable_status_t Output(const google::protobuf::MessageLite& message,
                        uint8_t** out, size_t* out_len, char** error) {
  if (out == nullptr || out_len == nullptr) {
    return Fail(error, DURABLE_INVALID_ARGUMENT,
                "output buffer pointers must not be NULL");
  }
  const size_t size = message.ByteSizeLong();
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

template <typename Message>
durable_status_t Parse(const uint8_t* data, size_t len, const char* what,
                       Message* message, char** error) {
  if (data == nullptr && len > 0) {
    return Fail(error, DURABLE_INVALID_ARGUMENT,
                absl::StrCat(what, ": NULL data with non-zero length"));
  }
  if (len > 0 && !message->ParseFromArray(data, static_cast<int>(len))) {
    return Fail(
        error, DURABLE_INVALID_ARGUMENT,
        absl::StrCat(what, ": ", len, " bytes are not a valid durable.v1.",
                     Message::descriptor()->name(), " message"));
  }
  return DURABLE_OK;
}

// Parses `data` as a `Message` and reports what `call(message)` returns:
// the shape of every entry point that takes one request message and
// answers with a status only.
template <typename Message, typename Call>
durable_status_t ParseAndReport(const uint8_t* data, size_t len,
                                const char* what, char** error, Call&& call) {
  Message parsed;
  if (durable_status_t s = Parse(data, len, what, &parsed, error);
      s != DURABLE_OK) {
    return s;
  }
  return Report(error, call(parsed));
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
  return Guard(error, [&]() -> durable_status_t {
    if (out == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "out must not be NULL");
    }
    *out = nullptr;
    if (uri == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "backend URI is NULL");
    }
    auto backend = durable::backends::OpenBackend(uri);
    if (!backend.ok()) return Report(error, backend.status());
    *out = new durable_backend_t{*std::move(backend)};
    return Ok(error);
  });
}

void durable_backend_free(durable_backend_t* backend) { delete backend; }

durable_status_t durable_client_new(durable_backend_t* backend,
                                    durable_client_t** out, char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (backend == nullptr || out == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "backend and out must not be NULL");
    }
    *out = new durable_client_t{
        std::make_unique<durable::core::Client>(backend->backend)};
    return Ok(error);
  });
}

void durable_client_free(durable_client_t* client) { delete client; }

durable_status_t durable_client_create_workflow_instance(
    durable_client_t* client, const uint8_t* request, size_t request_len,
    uint8_t** out, size_t* out_len, char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (client == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "client is NULL");
    }
    durable::v1::CreateWorkflowInstanceRequest parsed;
    if (durable_status_t s =
            Parse(request, request_len, "request", &parsed, error);
        s != DURABLE_OK) {
      return s;
    }
    auto instance = client->client->CreateWorkflowInstance(parsed);
    if (!instance.ok()) return Report(error, instance.status());
    return Output(*instance, out, out_len, error);
  });
}

durable_status_t durable_client_wait_for_workflow_result(
    durable_client_t* client, const char* instance_id, int64_t timeout_ms,
    uint8_t** out, size_t* out_len, char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (client == nullptr || instance_id == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "client and instance_id must not be NULL");
    }
    auto result =
        client->client->WaitForWorkflowResult(instance_id, Millis(timeout_ms));
    if (!result.ok()) return Report(error, result.status());
    return Output(*result, out, out_len, error);
  });
}

durable_status_t durable_client_get_workflow_instance_state(
    durable_client_t* client, const char* instance_id, uint8_t** out,
    size_t* out_len, char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (client == nullptr || instance_id == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "client and instance_id must not be NULL");
    }
    auto state = client->client->GetWorkflowInstanceState(instance_id);
    if (!state.ok()) return Report(error, state.status());
    return Output(*state, out, out_len, error);
  });
}

durable_status_t durable_client_get_workflow_history(durable_client_t* client,
                                                     const char* instance_id,
                                                     uint8_t** out,
                                                     size_t* out_len,
                                                     char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (client == nullptr || instance_id == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "client and instance_id must not be NULL");
    }
    auto events = client->client->GetWorkflowHistory(instance_id);
    if (!events.ok()) return Report(error, events.status());
    durable::v1::History history;
    for (auto& event : *events) *history.add_events() = std::move(event);
    return Output(history, out, out_len, error);
  });
}

durable_status_t durable_client_list_workflow_executions(
    durable_client_t* client, const char* instance_id, uint8_t** out,
    size_t* out_len, char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (client == nullptr || instance_id == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "client and instance_id must not be NULL");
    }
    auto executions = client->client->ListWorkflowExecutions(instance_id);
    if (!executions.ok()) return Report(error, executions.status());
    durable::v1::WorkflowExecutionList list;
    for (auto& state : *executions) *list.add_executions() = std::move(state);
    return Output(list, out, out_len, error);
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
  return Guard(error, [&]() -> durable_status_t {
    if (client == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "client is NULL");
    }
    return ParseAndReport<durable::v1::SignalWorkflowRequest>(
        request, request_len, "request", error, [&](const auto& parsed) {
          return client->client->SignalWorkflow(parsed);
        });
  });
}

durable_status_t durable_client_cancel_workflow_instance(
    durable_client_t* client, const char* instance_id, const char* reason,
    char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (client == nullptr || instance_id == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "client and instance_id must not be NULL");
    }
    return Report(error, client->client->CancelWorkflowInstance(
                             instance_id, reason == nullptr ? "" : reason));
  });
}

durable_status_t durable_worker_new(durable_backend_t* backend,
                                    const uint8_t* options, size_t options_len,
                                    durable_worker_t** out, char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (backend == nullptr || out == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "backend and out must not be NULL");
    }
    durable::v1::WorkerOptions parsed;
    if (durable_status_t s =
            Parse(options, options_len, "worker options", &parsed, error);
        s != DURABLE_OK) {
      return s;
    }
    auto config = durable::core::WorkerConfig::FromProto(parsed);
    if (!config.ok()) return Report(error, config.status());
    *out = new durable_worker_t{std::make_unique<durable::core::Worker>(
        backend->backend, *std::move(config))};
    return Ok(error);
  });
}

durable_status_t durable_worker_poll_workflow_activation(
    durable_worker_t* worker, int64_t timeout_ms, uint8_t** out,
    size_t* out_len, char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (worker == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "worker is NULL");
    }
    // Checked before polling: a polled activation or task that cannot be
    // returned would stay leased to this worker for good.
    if (out == nullptr || out_len == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "output buffer pointers must not be NULL");
    }
    auto activation =
        worker->worker->PollWorkflowActivation(Millis(timeout_ms));
    if (!activation.ok()) return Report(error, activation.status());
    return Output(*activation, out, out_len, error);
  });
}

durable_status_t durable_worker_complete_workflow_activation(
    durable_worker_t* worker, const uint8_t* completion, size_t completion_len,
    char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (worker == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "worker is NULL");
    }
    return ParseAndReport<durable::v1::WorkflowActivationCompletion>(
        completion, completion_len, "completion", error,
        [&](const auto& parsed) {
          return worker->worker->CompleteWorkflowActivation(parsed);
        });
  });
}

durable_status_t durable_worker_poll_activity_task(durable_worker_t* worker,
                                                   int64_t timeout_ms,
                                                   uint8_t** out,
                                                   size_t* out_len,
                                                   char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (worker == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "worker is NULL");
    }
    // Checked before polling: a polled activation or task that cannot be
    // returned would stay leased to this worker for good.
    if (out == nullptr || out_len == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT,
                  "output buffer pointers must not be NULL");
    }
    auto task = worker->worker->PollActivityTask(Millis(timeout_ms));
    if (!task.ok()) return Report(error, task.status());
    return Output(*task, out, out_len, error);
  });
}

durable_status_t durable_worker_complete_activity_task(durable_worker_t* worker,
                                                       const uint8_t* result,
                                                       size_t result_len,
                                                       char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (worker == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "worker is NULL");
    }
    return ParseAndReport<durable::v1::ActivityTaskResult>(
        result, result_len, "activity result", error, [&](const auto& parsed) {
          return worker->worker->CompleteActivityTask(parsed);
        });
  });
}

durable_status_t durable_worker_record_activity_heartbeat(
    durable_worker_t* worker, const uint8_t* heartbeat, size_t heartbeat_len,
    char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (worker == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "worker is NULL");
    }
    return ParseAndReport<durable::v1::ActivityHeartbeat>(
        heartbeat, heartbeat_len, "heartbeat", error, [&](const auto& parsed) {
          return worker->worker->RecordActivityHeartbeat(parsed);
        });
  });
}

void durable_worker_initiate_shutdown(durable_worker_t* worker) {
  if (worker == nullptr) return;
  try {
    worker->worker->InitiateShutdown();
  } catch (...) {
  }
}

durable_status_t durable_worker_finalize_shutdown(durable_worker_t* worker,
                                                  int64_t timeout_ms,
                                                  char** error) {
  return Guard(error, [&]() -> durable_status_t {
    if (worker == nullptr) {
      return Fail(error, DURABLE_INVALID_ARGUMENT, "worker is NULL");
    }
    return Report(error, worker->worker->FinalizeShutdown(Millis(timeout_ms)));
  });
}

void durable_worker_free(durable_worker_t* worker) {
  if (worker == nullptr) return;
  try {
    delete worker;
  } catch (...) {
  }
}

}  // extern "C"
