#include "durable/failure.h"

#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace durable {
namespace {

std::string Normalize(absl::string_view name) {
  return absl::AsciiStrToLower(absl::StrReplaceAll(name, {{"_", ""}}));
}

absl::StatusCode CodeForType(absl::string_view type) {
  const std::string normalized = Normalize(type);
  for (int code = 1; code <= 16; ++code) {
    const auto status_code = static_cast<absl::StatusCode>(code);
    if (Normalize(absl::StatusCodeToString(status_code)) == normalized) {
      return status_code;
    }
  }
  return absl::StatusCode::kUnknown;
}

}  // namespace

v1::Failure MakeFailure(absl::string_view type, absl::string_view message) {
  v1::Failure failure;
  failure.set_type(std::string(type));
  failure.set_message(std::string(message));
  return failure;
}

absl::Status StatusFromFailure(const v1::Failure& failure) {
  absl::StatusCode code = CodeForType(failure.type());
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  absl::Status status(
      code, failure.type().empty()
                ? failure.message()
                : absl::StrCat(failure.type(), ": ", failure.message()));
  status.SetPayload(kFailurePayloadUrl,
                    absl::Cord(failure.SerializeAsString()));
  return status;
}

absl::Status FailureStatus(absl::string_view type, absl::string_view message) {
  return StatusFromFailure(MakeFailure(type, message));
}

std::optional<v1::Failure> FailureFromStatus(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  if (auto carried = status.GetPayload(kFailurePayloadUrl)) {
    v1::Failure failure;
    if (failure.ParseFromString(std::string(*carried))) return failure;
  }
  return MakeFailure(absl::StatusCodeToString(status.code()), status.message());
}

std::string FailureType(const absl::Status& status) {
  std::optional<v1::Failure> failure = FailureFromStatus(status);
  return failure ? failure->type() : "";
}

absl::Status NonRetryableFailureStatus(absl::string_view type,
                                       absl::string_view message) {
  v1::Failure failure = MakeFailure(type, message);
  failure.set_non_retryable(true);
  return StatusFromFailure(failure);
}

absl::Status FailureStatus(absl::string_view type, absl::string_view message,
                           const v1::Payload& details,
                           const absl::Status& cause) {
  v1::Failure failure = MakeFailure(type, message);
  *failure.mutable_details() = details;
  if (std::optional<v1::Failure> caused_by = FailureFromStatus(cause)) {
    *failure.mutable_cause() = *std::move(caused_by);
  }
  return StatusFromFailure(failure);
}

bool IsTimeout(const absl::Status& status) {
  return !status.ok() && absl::EndsWith(FailureType(status), "Timeout");
}

bool IsCanceled(const absl::Status& status) {
  if (status.ok()) return false;
  if (status.code() == absl::StatusCode::kCancelled) return true;
  const std::string type = FailureType(status);
  return type == "Canceled" || type == "Cancelled";
}

bool IsNonRetryable(const absl::Status& status) {
  std::optional<v1::Failure> failure = FailureFromStatus(status);
  return failure.has_value() && failure->non_retryable();
}

bool IsPanic(const absl::Status& status) {
  return !status.ok() && FailureType(status) == kPanicFailure;
}

bool IsInstanceNotFound(const absl::Status& status) {
  return !status.ok() && FailureType(status) == kInstanceNotFoundFailure;
}

bool IsApplicationError(const absl::Status& status) {
  return !status.ok() && !IsTimeout(status) && !IsCanceled(status) &&
         !IsPanic(status);
}

}  // namespace durable
