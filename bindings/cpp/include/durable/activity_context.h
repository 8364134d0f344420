// ActivityContext: what an activity attempt knows about itself.
//
// Activities are plain functions taking `durable::ActivityContext&` first:
//
//   int Add(durable::ActivityContext& ctx, int a, int b) { return a + b; }
//
// They may return a value, absl::StatusOr<V>, absl::Status or void. A non-OK
// status (or a thrown exception, reported as type "panic") fails the attempt;
// the activity's retry policy decides whether another attempt follows, so
// activities should be idempotent. Attempt() tells which attempt this is.
//
// Heartbeats: a long-running activity scheduled with a heartbeat timeout
// (ActivityOptions::heartbeat_timeout) calls Heartbeat() more often than
// that timeout, optionally with progress details; otherwise the attempt
// fails with type "HeartbeatTimeout" and is retried per its policy.
// Heartbeat() returns NotFound once the attempt is no longer in flight (it
// timed out, by any of its timeouts): the activity should stop, since its
// outcome will be dropped. Without a heartbeat timeout, heartbeating is
// optional and harmless (the worker renews the task's lease either way).
//
//   absl::Status Train(durable::ActivityContext& ctx, int epochs) {
//     for (int i = 0; i < epochs; ++i) {
//       RunEpoch(i);
//       if (absl::Status s = ctx.Heartbeat(i); !s.ok()) return s;
//     }
//     return absl::OkStatus();
//   }
//
// The context is valid for the duration of the call only.
#ifndef DURABLE_ACTIVITY_CONTEXT_H_
#define DURABLE_ACTIVITY_CONTEXT_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/proto/protocol.pb.h"
#include "durable/payload.h"

namespace durable {

class ActivityContext {
 public:
  // Records one heartbeat (the worker passes one calling the C ABI).
  using HeartbeatFn = std::function<absl::Status(const v1::ActivityHeartbeat&)>;

  // Without `heartbeat` (tests), Heartbeat() only reports OK.
  explicit ActivityContext(const v1::ActivityTask& task,
                           HeartbeatFn heartbeat = nullptr);

  ActivityContext(const ActivityContext&) = delete;
  ActivityContext& operator=(const ActivityContext&) = delete;

  // The workflow instance that scheduled the activity.
  const std::string& InstanceId() const { return task_.instance_id(); }
  // The execution of that instance (continue-as-new starts another).
  const std::string& ExecutionId() const { return task_.execution_id(); }
  // Stable across attempts: a good idempotency key.
  const std::string& ActivityId() const { return task_.activity_id(); }
  const std::string& ActivityName() const { return task_.activity_name(); }
  const std::string& Queue() const { return task_.queue(); }
  // 0 for the first attempt.
  int Attempt() const { return task_.attempt(); }
  // When the first attempt was scheduled.
  absl::Time ScheduledTime() const {
    return absl::FromUnixMicros(task_.scheduled_time_unix_us());
  }
  // The owning workflow's metadata.
  const std::map<std::string, std::string>& Metadata() const {
    return metadata_;
  }

  // Reports that the attempt is alive (see the top comment). NotFound once
  // the attempt timed out: stop working and return.
  absl::Status Heartbeat() { return HeartbeatPayload(std::nullopt); }
  // The same with progress details (encoded as JSON; recorded by the
  // engine for diagnostics). InvalidArgument if they do not encode.
  template <class T>
  absl::Status Heartbeat(const T& details) {
    absl::StatusOr<v1::Payload> payload = EncodePayload(details);
    if (!payload.ok()) return payload.status();
    return HeartbeatPayload(*std::move(payload));
  }
  absl::Status HeartbeatPayload(std::optional<v1::Payload> details);

  // True once a Heartbeat() reported that the attempt timed out.
  bool TimedOut() const { return timed_out_; }

 private:
  const v1::ActivityTask& task_;
  std::map<std::string, std::string> metadata_;
  HeartbeatFn heartbeat_;
  bool timed_out_ = false;
};

}  // namespace durable

#endif  // DURABLE_ACTIVITY_CONTEXT_H_
