#include "durable/activity_context.h"

#include <utility>

namespace durable {

ActivityContext::ActivityContext(const v1::ActivityTask& task,
                                 HeartbeatFn heartbeat)
    : task_(task),
      metadata_(task.metadata().begin(), task.metadata().end()),
      heartbeat_(std::move(heartbeat)) {}

absl::Status ActivityContext::HeartbeatPayload(
    std::optional<v1::Payload> details) {
  if (timed_out_) {
    return absl::NotFoundError(
        "the activity attempt is no longer in flight (it timed out)");
  }
  if (heartbeat_ == nullptr) return absl::OkStatus();
  v1::ActivityHeartbeat heartbeat;
  heartbeat.set_task_token(task_.task_token());
  if (details.has_value()) *heartbeat.mutable_details() = *std::move(details);
  absl::Status status = heartbeat_(heartbeat);
  if (absl::IsNotFound(status)) timed_out_ = true;
  return status;
}

}  // namespace durable
