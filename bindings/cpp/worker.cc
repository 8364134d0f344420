#include "durable/worker.h"

#include <iostream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bindings/cpp/c_abi.h"
#include "core/proto/protocol.pb.h"
#include "durable/durable.h"
#include "durable/failure.h"
#include "durable/internal/activity_executor.h"
#include "durable/internal/workflow_executor.h"

namespace durable {
namespace {

// How long one poll may block; bounds how late a poller notices Stop().
constexpr int64_t kPollTimeoutMs = 1000;
// Pause after an unexpected poll error so a broken backend is not hammered.
constexpr absl::Duration kErrorBackoff = absl::Milliseconds(200);

void LogError(absl::string_view what, durable_status_t code, char* error) {
  std::unique_ptr<char, internal::DurableFree> owned(error);
  std::cerr << absl::StrCat("[durable] worker: ", what,
                            " failed: ", durable_status_name(code), ": ",
                            error != nullptr ? error : "", "\n")
            << std::flush;
}

// The message of a failed call (freed).
std::string TakeError(char*& error) {
  std::unique_ptr<char, internal::DurableFree> owned(error);
  error = nullptr;
  return owned != nullptr ? std::string(owned.get()) : std::string();
}

// The failure that replaces an answer the C ABI refused as malformed (text
// that is not valid UTF-8, say). The refused call did nothing, so the task
// still awaits an answer; without this one its lease would be renewed
// forever.
v1::Failure RefusedAnswer(absl::string_view what, absl::string_view reason) {
  v1::Failure failure;
  failure.set_type(std::string(kInvalidArgumentFailure));
  failure.set_message(absl::StrCat("durable refused ", what, ": ", reason));
  return failure;
}

}  // namespace

v1::WorkerOptions WorkerOptions::ToProto() const {
  v1::WorkerOptions proto;
  for (const std::string& queue : queues) proto.add_queues(queue);
  proto.set_max_cached_workflows(max_cached_workflows);
  proto.set_workflow_task_lease_us(
      absl::ToInt64Microseconds(workflow_task_lease));
  proto.set_activity_task_lease_us(
      absl::ToInt64Microseconds(activity_task_lease));
  proto.set_fail_workflow_on_nondeterminism(fail_workflow_on_nondeterminism);
  proto.set_max_history_length(max_history_length < 0 ? 0 : max_history_length);
  proto.set_worker_ttl_us(absl::ToInt64Microseconds(worker_ttl));
  return proto;
}

Worker::Worker(const Backend& backend, const Registry& registry,
               WorkerOptions options)
    : backend_(backend),
      registry_(registry),
      options_(std::move(options)),
      executor_(std::make_unique<internal::WorkflowExecutor>(registry)) {}

Worker::~Worker() { Stop().IgnoreError(); }

absl::Status Worker::Start() {
  absl::MutexLock lock(&mu_);
  if (worker_ != nullptr || stopping_) {
    return absl::FailedPreconditionError("the worker was already started");
  }
  if (options_.workflow_pollers < 0 || options_.activity_pollers < 0) {
    return absl::InvalidArgumentError(
        "WorkerOptions: workflow_pollers and activity_pollers must be "
        "non-negative");
  }
  v1::WorkerOptions proto = options_.ToProto();
  // What this worker runs: a kind it does not poll, it runs none of.
  v1::RegisteredNames* names = proto.mutable_registered_names();
  if (options_.workflow_pollers > 0) {
    for (const std::string& name : registry_.WorkflowNames()) {
      names->add_workflow_names(name);
    }
  }
  if (options_.activity_pollers > 0) {
    for (const std::string& name : registry_.ActivityNames()) {
      names->add_activity_names(name);
    }
  }
  const std::string options = proto.SerializeAsString();
  char* error = nullptr;
  absl::Status status = internal::StatusFromC(
      durable_worker_new(backend_.handle(), internal::Bytes(options),
                         options.size(), &worker_, &error),
      &error);
  if (!status.ok()) return status;
  for (int i = 0; i < options_.workflow_pollers; ++i) {
    threads_.emplace_back([this] { PollWorkflowActivations(); });
  }
  for (int i = 0; i < options_.activity_pollers; ++i) {
    threads_.emplace_back([this] { PollActivityTasks(); });
  }
  return absl::OkStatus();
}

absl::Status Worker::Stop(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  if (worker_ == nullptr) return absl::OkStatus();
  const absl::Time deadline = absl::Now() + timeout;
  stop_deadline_unix_ms_ = absl::ToUnixMillis(deadline);
  durable_worker_initiate_shutdown(worker_);
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  char* error = nullptr;
  absl::Status status = internal::StatusFromC(
      durable_worker_finalize_shutdown(
          worker_, internal::TimeoutMillis(deadline - absl::Now()), &error),
      &error);
  durable_worker_free(worker_);
  worker_ = nullptr;
  if (absl::IsDeadlineExceeded(status)) {
    return absl::DeadlineExceededError(
        absl::StrCat("worker stop: in-flight work outlived the timeout: ",
                     status.message()));
  }
  return status;
}

void Worker::PollWorkflowActivations() {
  while (true) {
    internal::OutBuffer out;
    char* error = nullptr;
    durable_status_t code = durable_worker_poll_workflow_activation(
        worker_, kPollTimeoutMs, out.data(), out.size(), &error);
    if (code == DURABLE_SHUTDOWN) {
      durable_free(error);
      return;
    }
    if (code == DURABLE_TIMEOUT) {
      durable_free(error);
      if (PastStopDeadline()) return;  // in-flight work outlived Stop()
      continue;
    }
    if (code != DURABLE_OK) {
      LogError("polling a workflow activation", code, error);
      if (stopping_) return;
      absl::SleepFor(kErrorBackoff);
      continue;
    }
    v1::WorkflowActivation activation;
    v1::WorkflowActivationCompletion completion;
    if (absl::Status parsed = out.ParseInto(activation); parsed.ok()) {
      completion = executor_->Process(activation);
    } else {
      // Answer with a failed completion so the engine fails the task and
      // retries it; without a run id there is nothing to answer.
      std::cerr << "[durable] worker: " << parsed << "\n";
      if (activation.execution_id().empty()) continue;
      completion.set_execution_id(activation.execution_id());
      completion.mutable_failed()->set_type("InvalidActivation");
      completion.mutable_failed()->set_message(std::string(parsed.message()));
    }
    const std::string bytes = completion.SerializeAsString();
    code = durable_worker_complete_workflow_activation(
        worker_, internal::Bytes(bytes), bytes.size(), &error);
    if (code == DURABLE_INVALID_ARGUMENT) {
      // Fail the workflow task instead (it is retried later, and the reason
      // shows as the instance's last task failure).
      v1::WorkflowActivationCompletion failed;
      failed.set_execution_id(activation.execution_id());
      *failed.mutable_failed() =
          RefusedAnswer("the workflow's completion", TakeError(error));
      std::cerr << "[durable] worker: workflow instance "
                << activation.instance_id() << " (run " << activation.execution_id()
                << "): " << failed.failed().message() << "\n";
      const std::string replacement = failed.SerializeAsString();
      code = durable_worker_complete_workflow_activation(
          worker_, internal::Bytes(replacement), replacement.size(), &error);
    }
    if (code != DURABLE_OK) {
      LogError(absl::StrCat("completing the activation of workflow instance ",
                            activation.instance_id(), " (run ",
                            activation.execution_id(), ")"),
               code, error);
    }
  }
}

bool Worker::PastStopDeadline() const {
  return stopping_ && absl::ToUnixMillis(absl::Now()) > stop_deadline_unix_ms_;
}

void Worker::PollActivityTasks() {
  while (true) {
    internal::OutBuffer out;
    char* error = nullptr;
    durable_status_t code = durable_worker_poll_activity_task(
        worker_, kPollTimeoutMs, out.data(), out.size(), &error);
    if (code == DURABLE_SHUTDOWN) {
      durable_free(error);
      return;
    }
    if (code == DURABLE_TIMEOUT) {
      durable_free(error);
      continue;
    }
    if (code != DURABLE_OK) {
      LogError("polling an activity task", code, error);
      if (stopping_) return;
      absl::SleepFor(kErrorBackoff);
      continue;
    }
    v1::ActivityTask task;
    if (absl::Status parsed = out.ParseInto(task); !parsed.ok()) {
      std::cerr << "[durable] worker: " << parsed << "\n";
      continue;
    }
    durable_worker_t* worker = worker_;
    bool timed_out = false;
    auto heartbeat = [worker, &timed_out](const v1::ActivityHeartbeat& beat) {
      const std::string bytes = beat.SerializeAsString();
      char* error = nullptr;
      absl::Status status = internal::StatusFromC(
          durable_worker_record_activity_heartbeat(
              worker, internal::Bytes(bytes), bytes.size(), &error),
          &error);
      if (absl::IsNotFound(status)) timed_out = true;
      return status;
    };
    const std::string bytes =
        internal::ExecuteActivityTask(registry_, task, heartbeat)
            .SerializeAsString();
    code = durable_worker_complete_activity_task(
        worker_, internal::Bytes(bytes), bytes.size(), &error);
    if (code == DURABLE_INVALID_ARGUMENT) {
      // Report the attempt as failed instead, without retries: the same
      // code would most likely produce the same result.
      v1::ActivityTaskResult failed;
      failed.set_task_token(task.task_token());
      *failed.mutable_failed() = RefusedAnswer(
          absl::StrCat("the result of activity \"", task.activity_name(), "\""),
          TakeError(error));
      failed.mutable_failed()->set_non_retryable(true);
      const std::string replacement = failed.SerializeAsString();
      code = durable_worker_complete_activity_task(
          worker_, internal::Bytes(replacement), replacement.size(), &error);
    }
    if (code == DURABLE_NOT_FOUND && timed_out) {
      // The activity learned from a heartbeat that its attempt timed out;
      // the engine already failed (or retried) it.
      durable_free(error);
    } else if (code != DURABLE_OK) {
      LogError(absl::StrCat("completing activity \"", task.activity_name(),
                            "\" of workflow instance ", task.instance_id()),
               code, error);
    }
  }
}

}  // namespace durable
