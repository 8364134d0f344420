// Activity retry decisions: given a failed attempt and its RetryPolicy, when
// (if at all) the next attempt runs. Pure; the worker applies the answer by
// re-queuing the task with a visibility delay, so retries cost no workflow
// task and only the final outcome enters history.
#ifndef DURABLE_CORE_RETRY_POLICY_H_
#define DURABLE_CORE_RETRY_POLICY_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/proto/common.pb.h"

namespace durable::core {

// Defaults for unset policy fields.
inline constexpr absl::Duration kDefaultRetryInitialInterval = absl::Seconds(1);
inline constexpr double kDefaultRetryBackoffCoefficient = 2.0;
// Without a maximum interval, delays stop growing at this many initial
// intervals (Temporal's default), so backoff never overflows into a delay
// that never ends.
inline constexpr int kDefaultRetryMaximumIntervalFactor = 100;

// OK, or INVALID_ARGUMENT naming the first bad field of `policy` (prefixed
// with `field`, e.g. "retry_policy"): a backoff coefficient that is NaN or
// infinite, a negative maximum_attempts, or a negative interval or timeout.
// (Zero means "the default" for each field, and a finite coefficient below
// 1 means the default coefficient.)
absl::Status ValidateRetryPolicy(const v1::RetryPolicy& policy,
                                 absl::string_view field);

// The delay before the attempt after `failed_attempt` (0-based), or nullopt
// when the failure is final: the failure is non-retryable (flag or type
// listed in the policy), the attempts are used up (maximum_attempts 0 means
// 1: no retry), or the next attempt would start after the policy's overall
// timeout counted from `first_scheduled`. The delay grows from the initial
// interval by the backoff coefficient and never exceeds the maximum interval
// (kDefaultRetryMaximumIntervalFactor initial intervals when unset), however
// many attempts failed. `policy` should have passed ValidateRetryPolicy; a
// non-finite coefficient is treated as the maximum interval at once.
std::optional<absl::Duration> NextRetryDelay(const v1::RetryPolicy& policy,
                                             int32_t failed_attempt,
                                             const v1::Failure& failure,
                                             absl::Time first_scheduled,
                                             absl::Time now);

}  // namespace durable::core

#endif  // DURABLE_CORE_RETRY_POLICY_H_
