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
// The context is valid for the duration of the call only.
#ifndef DURABLE_ACTIVITY_CONTEXT_H_
#define DURABLE_ACTIVITY_CONTEXT_H_

#include <map>
#include <string>

#include "absl/time/time.h"
#include "core/proto/protocol.pb.h"

namespace durable {

class ActivityContext {
 public:
  explicit ActivityContext(const v1::ActivityTask& task);

  ActivityContext(const ActivityContext&) = delete;
  ActivityContext& operator=(const ActivityContext&) = delete;

  // The workflow instance that scheduled the activity.
  const std::string& InstanceId() const { return task_.instance_id(); }
  // The run (execution) of that instance.
  const std::string& RunId() const { return task_.run_id(); }
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

 private:
  const v1::ActivityTask& task_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace durable

#endif  // DURABLE_ACTIVITY_CONTEXT_H_
