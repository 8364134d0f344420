// The examples of docs/orchestration.md, runnable end to end.
//
// RunOrchestrationExample registers the examples' workflows and activities,
// runs a Worker polling "default" and "gpu" on `backend` (with `options`'
// cache size), starts instances with a Client and checks what they return;
// any mismatch is an error status saying what differed.
#ifndef DURABLE_EXAMPLES_ORCHESTRATION_ORCHESTRATION_H_
#define DURABLE_EXAMPLES_ORCHESTRATION_ORCHESTRATION_H_

#include "absl/status/status.h"
#include "durable/backend.h"
#include "durable/worker.h"

namespace examples {

absl::Status RunOrchestrationExample(const durable::Backend& backend,
                                     durable::WorkerOptions options);

}  // namespace examples

#endif  // DURABLE_EXAMPLES_ORCHESTRATION_ORCHESTRATION_H_
