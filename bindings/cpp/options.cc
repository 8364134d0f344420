#include "durable/options.h"

#include <cstdint>
#include <limits>

namespace durable {
namespace internal {

int64_t DurationMicros(absl::Duration duration) {
  if (duration <= absl::ZeroDuration()) return 0;
  if (duration == absl::InfiniteDuration()) {
    return std::numeric_limits<int64_t>::max();
  }
  return absl::ToInt64Microseconds(absl::Ceil(duration, absl::Microseconds(1)));
}

}  // namespace internal

v1::RetryPolicy RetryPolicy::ToProto() const {
  v1::RetryPolicy proto;
  proto.set_maximum_attempts(maximum_attempts < 0 ? 0 : maximum_attempts);
  proto.set_initial_interval_us(internal::DurationMicros(initial_interval));
  proto.set_backoff_coefficient(backoff_coefficient);
  proto.set_maximum_interval_us(internal::DurationMicros(maximum_interval));
  proto.set_timeout_us(internal::DurationMicros(timeout));
  for (const std::string& type : non_retryable_error_types) {
    proto.add_non_retryable_error_types(type);
  }
  return proto;
}

}  // namespace durable
