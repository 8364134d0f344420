#include "core/worker/lease_renewer.h"

#include <algorithm>

#include "core/worker/worker.h"

namespace durable::core {

LeaseRenewer::LeaseRenewer(Store& store, const WorkerConfig& config)
    : store_(store),
      config_(config),
      interval_(
          std::min(config.workflow_task_lease, config.activity_task_lease) /
          3) {}

void LeaseRenewer::Renew(const Held& held, absl::Time now) {
  next_due_ = now + interval_;
  // A failed renewal means the lease is lost; the completion will report
  // it, so there is nothing more to do here.
  for (const WorkflowTask& task : held.workflow_tasks) {
    store_.ExtendWorkflowTaskLease(task, config_.workflow_task_lease)
        .IgnoreError();
  }
  for (const ActivityTask& task : held.activity_tasks) {
    store_.ExtendActivityTaskLease(task, config_.activity_task_lease)
        .IgnoreError();
  }
}

}  // namespace durable::core
