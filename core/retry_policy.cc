#include "core/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace durable::core {

std::optional<absl::Duration> NextRetryDelay(const v1::RetryPolicy& policy,
                                             int32_t failed_attempt,
                                             const v1::Failure& failure,
                                             absl::Time first_scheduled,
                                             absl::Time now) {
  if (failure.non_retryable()) return std::nullopt;
  for (const std::string& type : policy.non_retryable_error_types()) {
    if (type == failure.type()) return std::nullopt;
  }
  const int32_t max_attempts = std::max(policy.maximum_attempts(), 1);
  if (failed_attempt + 1 >= max_attempts) return std::nullopt;

  const absl::Duration initial =
      policy.initial_interval_us() > 0
          ? absl::Microseconds(policy.initial_interval_us())
          : kDefaultRetryInitialInterval;
  const double coefficient = policy.backoff_coefficient() >= 1.0
                                 ? policy.backoff_coefficient()
                                 : kDefaultRetryBackoffCoefficient;
  absl::Duration delay = initial * std::pow(coefficient, failed_attempt);
  if (policy.maximum_interval_us() > 0) {
    delay = std::min(delay, absl::Microseconds(policy.maximum_interval_us()));
  }
  if (policy.timeout_us() > 0 &&
      now + delay - first_scheduled > absl::Microseconds(policy.timeout_us())) {
    return std::nullopt;
  }
  return delay;
}

}  // namespace durable::core
