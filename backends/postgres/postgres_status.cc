#include "backends/postgres/postgres_status.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace durable::backends::postgres {

absl::StatusCode SqlStateCode(absl::string_view sqlstate) {
  if (sqlstate.empty()) return absl::StatusCode::kUnavailable;
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return absl::StatusCode::kAborted;
  }
  if (absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" ||
      sqlstate == "57P02" || sqlstate == "57P03") {
    return absl::StatusCode::kUnavailable;
  }
  if (sqlstate == "23505") return absl::StatusCode::kAlreadyExists;
  if (absl::StartsWith(sqlstate, "28") || sqlstate == "42501") {
    return absl::StatusCode::kPermissionDenied;
  }
  if (absl::StartsWith(sqlstate, "53")) {
    return absl::StatusCode::kResourceExhausted;
  }
  if (sqlstate == "XX001" || sqlstate == "XX002") {
    return absl::StatusCode::kDataLoss;
  }
  if (sqlstate == "22021" || sqlstate == "22P05") {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kInternal;
}

absl::Status PostgresStatus(absl::string_view sqlstate,
                            absl::string_view message,
                            absl::string_view context) {
  message = absl::StripTrailingAsciiWhitespace(message);
  return absl::Status(SqlStateCode(sqlstate),
                      absl::StrCat(context, ": ", message, " (SQLSTATE ",
                                   sqlstate.empty() ? "none" : sqlstate, ")"));
}

}  // namespace durable::backends::postgres
