#include "core/errors.h"

#include "absl/strings/cord.h"

namespace durable::core {
namespace {

constexpr absl::string_view kCodePayloadUrl = "type.durable.dev/durable.code";

absl::Status WithCode(absl::StatusCode base, absl::string_view message,
                      absl::string_view code) {
  absl::Status status(base, message);
  status.SetPayload(kCodePayloadUrl, absl::Cord(code));
  return status;
}

bool HasCode(const absl::Status& status, absl::string_view code) {
  auto payload = status.GetPayload(kCodePayloadUrl);
  return payload.has_value() && *payload == code;
}

}  // namespace

absl::Status NonDeterminismError(absl::string_view message) {
  return WithCode(absl::StatusCode::kFailedPrecondition, message,
                  "NON_DETERMINISM");
}

absl::Status ShutdownError(absl::string_view message) {
  return WithCode(absl::StatusCode::kCancelled, message, "SHUTDOWN");
}

bool IsNonDeterminism(const absl::Status& status) {
  return HasCode(status, "NON_DETERMINISM");
}

bool IsShutdown(const absl::Status& status) {
  return HasCode(status, "SHUTDOWN");
}

DurableCode DurableCodeOf(const absl::Status& status) {
  if (IsNonDeterminism(status)) return DurableCode::kNonDeterminism;
  if (IsShutdown(status)) return DurableCode::kShutdown;
  return static_cast<DurableCode>(static_cast<int>(status.code()));
}

const char* DurableCodeName(int code) {
  switch (static_cast<DurableCode>(code)) {
    case DurableCode::kOk:
      return "OK";
    case DurableCode::kCanceled:
      return "CANCELED";
    case DurableCode::kUnknown:
      return "UNKNOWN";
    case DurableCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case DurableCode::kTimeout:
      return "TIMEOUT";
    case DurableCode::kNotFound:
      return "NOT_FOUND";
    case DurableCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case DurableCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case DurableCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case DurableCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case DurableCode::kAborted:
      return "ABORTED";
    case DurableCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case DurableCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case DurableCode::kInternal:
      return "INTERNAL";
    case DurableCode::kUnavailable:
      return "UNAVAILABLE";
    case DurableCode::kDataLoss:
      return "DATA_LOSS";
    case DurableCode::kNonDeterminism:
      return "NON_DETERMINISM";
    case DurableCode::kShutdown:
      return "SHUTDOWN";
  }
  return "UNKNOWN_CODE";
}

}  // namespace durable::core
