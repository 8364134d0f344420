#include "durable/internal/workflow_executor.h"

#include <memory>

namespace durable::internal {

v1::WorkflowActivationCompletion WorkflowExecutor::Process(
    const v1::WorkflowActivation& activation) {
  const std::string& execution_id = activation.execution_id();
  bool evict = false;
  bool start = false;
  for (const v1::WorkflowActivationJob& job : activation.jobs()) {
    evict |= job.has_remove_from_cache();
    start |= job.has_start_workflow();
  }
  if (evict) {
    std::shared_ptr<WorkflowRun> evicted;
    {
      absl::MutexLock lock(&mu_);
      auto it = runs_.find(execution_id);
      if (it != runs_.end()) {
        evicted = std::move(it->second);
        runs_.erase(it);
      }
    }
    // `evicted` destroys the run's coroutine frames outside the lock.
    v1::WorkflowActivationCompletion completion;
    completion.set_execution_id(execution_id);
    completion.mutable_successful();
    return completion;
  }

  std::shared_ptr<WorkflowRun> run;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<WorkflowRun>& cached = runs_[execution_id];
    if (start || cached == nullptr) {
      // A StartWorkflow always begins from scratch: replay rebuilds the run.
      cached = std::make_shared<WorkflowRun>(registry_, execution_id);
    }
    run = cached;
  }
  v1::WorkflowActivationCompletion completion = run->Activate(activation);
  if (completion.has_failed()) {
    absl::MutexLock lock(&mu_);
    auto it = runs_.find(execution_id);
    if (it != runs_.end() && it->second == run) runs_.erase(it);
  }
  return completion;
}

size_t WorkflowExecutor::cached_runs() const {
  absl::MutexLock lock(&mu_);
  return runs_.size();
}

}  // namespace durable::internal
