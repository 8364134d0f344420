// Activity retry decisions: given a failed attempt and its RetryPolicy, when
// (if at all) the next attempt runs. Pure; the worker applies the answer by
// re-queuing the task with a visibility delay, so retries cost no workflow
// task and only the final outcome enters history.
#ifndef DURABLE_CORE_RETRY_POLICY_H_
#define DURABLE_CORE_RETRY_POLICY_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "core/proto/common.pb.h"

namespace durable::core {

// Defaults for unset policy fields.
inline constexpr absl::Duration kDefaultRetryInitialInterval = absl::Seconds(1);
inline constexpr double kDefaultRetryBackoffCoefficient = 2.0;

// The delay before the attempt after `failed_attempt` (0-based), or nullopt
// when the failure is final: the failure is non-retryable (flag or type
// listed in the policy), the attempts are used up (maximum_attempts 0 means
// 1: no retry), or the next attempt would start after the policy's overall
// timeout counted from `first_scheduled`.
std::optional<absl::Duration> NextRetryDelay(const v1::RetryPolicy& policy,
                                             int32_t failed_attempt,
                                             const v1::Failure& failure,
                                             absl::Time first_scheduled,
                                             absl::Time now);

}  // namespace durable::core

#endif  // DURABLE_CORE_RETRY_POLICY_H_
