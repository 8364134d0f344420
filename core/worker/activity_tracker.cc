#include "core/worker/activity_tracker.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace durable::core {

void ActivityTracker::Start(const std::string& token, ActivityTask task,
                            absl::Time now) {
  auto [it, inserted] =
      attempts_.emplace(token, Attempt{std::move(task), now, now});
  // A few comparisons per attempt; the thread is woken only when this
  // attempt times out before it planned to wake anyway.
  if (inserted && Deadline(it->second) < planned_wakeup_) {
    wake_requested_ = true;
  }
}

std::optional<ActivityTask> ActivityTracker::Finish(const std::string& token) {
  auto it = attempts_.find(token);
  if (it == attempts_.end()) return std::nullopt;
  std::optional<ActivityTask> task = std::move(it->second.task);
  attempts_.erase(it);
  return task;
}

bool ActivityTracker::Heartbeat(const std::string& token, absl::Time now) {
  auto it = attempts_.find(token);
  if (it == attempts_.end()) return false;
  it->second.last_heartbeat = now;
  return true;
}

void ActivityTracker::AppendLeases(
    std::vector<ActivityTask>& activity_tasks) const {
  for (const auto& [token, attempt] : attempts_) {
    activity_tasks.push_back(attempt.task);
  }
}

std::vector<std::pair<ActivityTask, v1::Failure>> ActivityTracker::TakeTimedOut(
    absl::Time now) {
  std::vector<std::pair<ActivityTask, v1::Failure>> timed_out;
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    if (std::optional<v1::Failure> failure = Timeout(it->second, now)) {
      timed_out.emplace_back(std::move(it->second.task), *std::move(failure));
      attempts_.erase(it++);
    } else {
      ++it;
    }
  }
  return timed_out;
}

absl::Time ActivityTracker::NextDeadline() const {
  absl::Time earliest = absl::InfiniteFuture();
  for (const auto& [token, attempt] : attempts_) {
    earliest = std::min(earliest, Deadline(attempt));
  }
  return earliest;
}

absl::Time ActivityTracker::Deadline(const Attempt& attempt) {
  const v1::ActivityScheduled& options =
      attempt.task.scheduled_event.activity_scheduled();
  // Timeout() fails an attempt once strictly more than the limit has
  // passed; a nanosecond past the limit is the first instant at which it
  // does, so a thread woken at the deadline always finds the attempt over.
  auto after = [](absl::Time from, int64_t limit_us) {
    return limit_us > 0
               ? from + absl::Microseconds(limit_us) + absl::Nanoseconds(1)
               : absl::InfiniteFuture();
  };
  return std::min(
      {after(attempt.task.scheduled_at, options.schedule_to_close_timeout_us()),
       after(attempt.started, options.start_to_close_timeout_us()),
       after(attempt.last_heartbeat, options.heartbeat_timeout_us())});
}

std::optional<v1::Failure> ActivityTracker::Timeout(const Attempt& attempt,
                                                    absl::Time now) {
  const v1::ActivityScheduled& options =
      attempt.task.scheduled_event.activity_scheduled();
  auto failure = [&](const char* type, const char* what, int64_t limit_us,
                     bool final) {
    v1::Failure f;
    f.set_type(type);
    f.set_message(
        absl::StrFormat("activity \"%s\" (attempt %d) %s %s",
                        options.activity_name(), attempt.task.attempt, what,
                        absl::FormatDuration(absl::Microseconds(limit_us))));
    f.set_non_retryable(final);
    return f;
  };
  // Schedule-to-close first: it ends the activity for good, whatever else
  // ran out at the same time.
  if (options.schedule_to_close_timeout_us() > 0 &&
      now - attempt.task.scheduled_at >
          absl::Microseconds(options.schedule_to_close_timeout_us())) {
    return failure("ScheduleToCloseTimeout",
                   "did not finish within its schedule-to-close timeout of",
                   options.schedule_to_close_timeout_us(), true);
  }
  if (options.start_to_close_timeout_us() > 0 &&
      now - attempt.started >
          absl::Microseconds(options.start_to_close_timeout_us())) {
    return failure("StartToCloseTimeout",
                   "did not finish within its start-to-close timeout of",
                   options.start_to_close_timeout_us(), false);
  }
  if (options.heartbeat_timeout_us() > 0 &&
      now - attempt.last_heartbeat >
          absl::Microseconds(options.heartbeat_timeout_us())) {
    return failure("HeartbeatTimeout",
                   "sent no heartbeat within its heartbeat timeout of",
                   options.heartbeat_timeout_us(), false);
  }
  return std::nullopt;
}

}  // namespace durable::core
