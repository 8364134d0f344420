#include "bindings/cpp/c_abi.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace durable::internal {

absl::Status StatusFromC(durable_status_t code, char** error_ptr) {
  char* error = *error_ptr;
  *error_ptr = nullptr;
  std::unique_ptr<char, DurableFree> owned(error);
  if (code == DURABLE_OK) return absl::OkStatus();
  std::string message = error != nullptr ? error : "";
  if (code == DURABLE_NON_DETERMINISM) {
    return absl::FailedPreconditionError(
        absl::StrCat("NON_DETERMINISM: ", message));
  }
  if (code == DURABLE_SHUTDOWN) {
    return absl::CancelledError(absl::StrCat("SHUTDOWN: ", message));
  }
  if (code > 0 && code <= 15) {
    return absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  return absl::UnknownError(
      absl::StrCat(durable_status_name(code), " (", code, "): ", message));
}

absl::Status OutBuffer::ParseInto(
    google::protobuf::MessageLite& message) const {
  if (!message.ParseFromArray(data_, static_cast<int>(size_))) {
    return absl::DataLossError(absl::StrCat(
        "durable returned bytes that are not a valid ", message.GetTypeName()));
  }
  return absl::OkStatus();
}

int64_t TimeoutMillis(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return 0;
  if (timeout == absl::InfiniteDuration()) return INT64_MAX;
  return absl::ToInt64Milliseconds(timeout + absl::Microseconds(999));
}

}  // namespace durable::internal
