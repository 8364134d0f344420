// Conversions between absl::Time and the int64 microsecond timestamps used in
// durable's protocol messages and backend rows.
#ifndef DURABLE_CORE_TIME_UTIL_H_
#define DURABLE_CORE_TIME_UTIL_H_

#include <cstdint>

#include "absl/time/time.h"

namespace durable::core {

// Call these qualified (core::ToUnixMicros): absl has functions of the same
// names that argument-dependent lookup also finds.
inline int64_t ToUnixMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromUnixMicros(int64_t us) {
  return absl::FromUnixMicros(us);
}
inline int64_t ToMicros(absl::Duration d) {
  return absl::ToInt64Microseconds(d);
}

}  // namespace durable::core

#endif  // DURABLE_CORE_TIME_UTIL_H_
