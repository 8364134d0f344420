// ExecuteActivityTask: runs one activity attempt through the Registry.
// Internal; public only for tests. Never throws: unknown activities become
// non-retryable failures of type "ActivityNotRegistered", user errors and
// exceptions become failures as described in registry.h.
#ifndef DURABLE_INTERNAL_ACTIVITY_EXECUTOR_H_
#define DURABLE_INTERNAL_ACTIVITY_EXECUTOR_H_

#include "core/proto/protocol.pb.h"
#include "durable/registry.h"

namespace durable::internal {

// `heartbeat` records the attempt's heartbeats (ActivityContext::Heartbeat).
v1::ActivityTaskResult ExecuteActivityTask(
    const Registry& registry, const v1::ActivityTask& task,
    ActivityContext::HeartbeatFn heartbeat = nullptr);

}  // namespace durable::internal

#endif  // DURABLE_INTERNAL_ACTIVITY_EXECUTOR_H_
