// Whether a worker registry entry (Store::ListWorkers) is live. The one
// place that judges liveness: workers use it to decide which names other
// live workers of their queues run, clients to list live workers. Stores
// never judge it.
#ifndef DURABLE_CORE_WORKER_LIVENESS_H_
#define DURABLE_CORE_WORKER_LIVENESS_H_

#include "absl/time/time.h"
#include "core/proto/service.pb.h"

namespace durable::core {

// How long an entry counts as live after its last heartbeat when the worker
// did not say (WorkerOptions.worker_ttl_us == 0).
inline constexpr absl::Duration kDefaultWorkerTtl = absl::Seconds(30);

// True while `now` is before the entry's last heartbeat plus its TTL. The
// heartbeat was stamped by the worker's clock and `now` is the reader's, so
// hosts are expected to keep their clocks within a fraction of the TTL.
inline bool IsWorkerLive(const v1::WorkerInfo& worker, absl::Time now) {
  const absl::Duration ttl = worker.ttl_us() > 0
                                 ? absl::Microseconds(worker.ttl_us())
                                 : kDefaultWorkerTtl;
  return now < absl::FromUnixMicros(worker.last_seen_unix_us()) + ttl;
}

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_LIVENESS_H_
