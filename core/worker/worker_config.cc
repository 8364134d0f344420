// WorkerConfig::FromProto: the options the language layer passes through
// the C ABI (v1::WorkerOptions), validated and turned into a WorkerConfig.
// Its own file because it is the one place that says which option means
// what and which values are refused; the worker itself only reads the
// result.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/worker/worker.h"

namespace durable::core {
namespace {

absl::Status CheckNames(
    const google::protobuf::RepeatedPtrField<std::string>& names,
    const char* what) {
  for (const std::string& name : names) {
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "worker options: registered_names has an empty ", what, " name"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WorkerConfig> WorkerConfig::FromProto(
    const v1::WorkerOptions& options) {
  WorkerConfig config;
  if (options.queues_size() > 0) {
    config.queues.assign(options.queues().begin(), options.queues().end());
    for (const std::string& queue : config.queues) {
      if (queue.empty()) {
        return absl::InvalidArgumentError("worker options: empty queue name");
      }
    }
  }
  if (options.has_max_cached_workflows()) {
    if (options.max_cached_workflows() < 0) {
      return absl::InvalidArgumentError(
          "worker options: max_cached_workflows must not be negative");
    }
    config.max_cached_runs = options.max_cached_workflows();
  }
  auto duration = [](int64_t us, absl::Duration fallback) {
    return us > 0 ? absl::Microseconds(us) : fallback;
  };
  if (options.workflow_task_lease_us() < 0 ||
      options.activity_task_lease_us() < 0 ||
      options.workflow_task_retry_delay_us() < 0) {
    return absl::InvalidArgumentError(
        "worker options: leases and delays must not be negative");
  }
  config.workflow_task_lease =
      duration(options.workflow_task_lease_us(), config.workflow_task_lease);
  config.activity_task_lease =
      duration(options.activity_task_lease_us(), config.activity_task_lease);
  config.workflow_task_retry_delay = duration(
      options.workflow_task_retry_delay_us(), config.workflow_task_retry_delay);
  config.fail_workflow_on_nondeterminism =
      options.fail_workflow_on_nondeterminism();
  if (options.max_history_length() < 0) {
    return absl::InvalidArgumentError(
        "worker options: max_history_length must not be negative");
  }
  if (options.max_history_length() > 0) {
    config.max_history_length = options.max_history_length();
  }
  if (options.has_registered_names()) {
    const v1::RegisteredNames& names = options.registered_names();
    if (absl::Status s = CheckNames(names.workflow_names(), "workflow");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckNames(names.activity_names(), "activity");
        !s.ok()) {
      return s;
    }
    config.registered_names = names;
  }
  if (options.worker_ttl_us() < 0) {
    return absl::InvalidArgumentError(
        "worker options: worker_ttl_us must not be negative");
  }
  config.worker_ttl = duration(options.worker_ttl_us(), config.worker_ttl);
  return config;
}

}  // namespace durable::core
