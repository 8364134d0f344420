// WorkflowExecutor: the facade's cache of workflow runs (its half of the
// engine's executor cache). Internal; public only for tests.
//
// Process() routes an activation to its run: RemoveFromCache drops the run
// and answers with an empty successful completion; a StartWorkflow job
// creates the run (replacing any stale one); other activations go to the
// cached run. A run whose activation fails is dropped, since the engine evicts
// it too and will replay it from StartWorkflow.
//
// Thread-safe: activations of different runs may be processed concurrently
// (the engine never hands out two activations of one run at once).
#ifndef DURABLE_INTERNAL_WORKFLOW_EXECUTOR_H_
#define DURABLE_INTERNAL_WORKFLOW_EXECUTOR_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/proto/protocol.pb.h"
#include "durable/internal/workflow_run.h"
#include "durable/registry.h"

namespace durable::internal {

class WorkflowExecutor {
 public:
  explicit WorkflowExecutor(const Registry& registry) : registry_(registry) {}

  v1::WorkflowActivationCompletion Process(
      const v1::WorkflowActivation& activation);

  size_t cached_runs() const;

 private:
  const Registry& registry_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<WorkflowRun>> runs_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace durable::internal

#endif  // DURABLE_INTERNAL_WORKFLOW_EXECUTOR_H_
