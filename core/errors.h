// Status conventions shared by every layer below the C ABI.
//
// durable reports errors as absl::Status. Two conditions have no canonical
// absl code of their own, so they are absl statuses with a payload naming the
// durable code:
//   - NonDeterminism: replayed workflow code issued commands that differ from
//     the recorded history (code kFailedPrecondition + payload).
//   - Shutdown: the worker is shutting down (code kCancelled + payload).
// DurableCodeOf() maps any status onto the DURABLE_* numbers of durable.h.
#ifndef DURABLE_CORE_ERRORS_H_
#define DURABLE_CORE_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace durable::core {

// Numeric codes of durable.h (DURABLE_OK ...). Kept equal to absl's canonical
// codes where one exists so the mapping is the identity for those.
enum class DurableCode : int {
  kOk = 0,
  kCanceled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kTimeout = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kNonDeterminism = 100,
  kShutdown = 101,
};

absl::Status NonDeterminismError(absl::string_view message);
absl::Status ShutdownError(absl::string_view message);

bool IsNonDeterminism(const absl::Status& status);
bool IsShutdown(const absl::Status& status);

DurableCode DurableCodeOf(const absl::Status& status);

// The DURABLE_* name of a code, e.g. "NON_DETERMINISM"; "UNKNOWN_CODE" for
// numbers that are not codes.
const char* DurableCodeName(int code);

}  // namespace durable::core

#endif  // DURABLE_CORE_ERRORS_H_
