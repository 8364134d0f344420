#include "core/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace durable::core {

absl::Status ValidateRetryPolicy(const v1::RetryPolicy& policy,
                                 absl::string_view field) {
  auto invalid = [&](absl::string_view name, const auto& value,
                     absl::string_view rule) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".", name, " is ", value, "; ", rule));
  };
  if (!std::isfinite(policy.backoff_coefficient())) {
    return invalid("backoff_coefficient",
                   std::isnan(policy.backoff_coefficient()) ? "NaN"
                   : policy.backoff_coefficient() > 0       ? "inf"
                                                            : "-inf",
                   "it must be a finite number of at least 1 (0 means the "
                   "default, 2)");
  }
  if (policy.maximum_attempts() < 0) {
    return invalid("maximum_attempts", policy.maximum_attempts(),
                   "it must not be negative (0 means the default, 1)");
  }
  const std::pair<absl::string_view, int64_t> durations[] = {
      {"initial_interval_us", policy.initial_interval_us()},
      {"maximum_interval_us", policy.maximum_interval_us()},
      {"timeout_us", policy.timeout_us()}};
  for (const auto& [name, value] : durations) {
    if (value < 0) {
      return invalid(name, value,
                     "it must not be negative (0 means the default)");
    }
  }
  return absl::OkStatus();
}

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
  const absl::Duration maximum =
      policy.maximum_interval_us() > 0
          ? absl::Microseconds(policy.maximum_interval_us())
          : initial * kDefaultRetryMaximumIntervalFactor;
  const double coefficient = std::isnan(policy.backoff_coefficient()) ? HUGE_VAL
                             : policy.backoff_coefficient() >= 1.0
                                 ? policy.backoff_coefficient()
                                 : kDefaultRetryBackoffCoefficient;
  // In floating point, so that many attempts or a huge coefficient saturate
  // at the maximum instead of overflowing.
  const double factor = std::pow(coefficient, std::max(failed_attempt, 0));
  const double delay_us = absl::ToDoubleMicroseconds(initial) * factor;
  const absl::Duration delay =
      std::isfinite(delay_us) && delay_us < absl::ToDoubleMicroseconds(maximum)
          ? absl::Microseconds(static_cast<int64_t>(delay_us))
          : maximum;
  if (policy.timeout_us() > 0 &&
      now + delay - first_scheduled > absl::Microseconds(policy.timeout_us())) {
    return std::nullopt;
  }
  return delay;
}

}  // namespace durable::core
