// ActivityResult: an activity attempt's final outcome on its way to history.
//
// The attempt (whose lease stays held until the outcome is committed) and
// the ActivityCompleted or ActivityFailed event its workflow will see. It has
// its own header because three parts of the worker hand it along: local
// dispatch fuses it with the workflow task it wakes (local_dispatch.h), the
// run cache keeps it next to that task (run_cache.h), and the failure policy
// commits it on its own when the fused task fails (failure_policy.h).
#ifndef DURABLE_CORE_WORKER_ACTIVITY_RESULT_H_
#define DURABLE_CORE_WORKER_ACTIVITY_RESULT_H_

#include "core/proto/history.pb.h"
#include "core/storage/store.h"

namespace durable::core {

struct ActivityResult {
  ActivityTask task;
  v1::HistoryEvent event;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_ACTIVITY_RESULT_H_
