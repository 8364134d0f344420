// Failures <-> absl::Status.
//
// Errors cross the engine as durable.v1.Failure{type, message, details,
// non_retryable, cause}: activity -> workflow, workflow -> client, across
// languages. In C++ they are absl::Status values:
//
//  - StatusFromFailure(f) is a non-OK status whose message is
//    "<type>: <message>" (e.g. `ActivityNotRegistered: activity "Foo" is not
//    registered with this worker`) and which carries the serialized Failure
//    as a status payload under kFailurePayloadUrl, so nothing is lost.
//    Its code is the absl code whose name matches the type, ignoring case and
//    underscores ("INVALID_ARGUMENT" and "InvalidArgument" both give
//    kInvalidArgument); any other type gives kUnknown.
//  - FailureFromStatus(s) reverses that: the carried Failure if there is one
//    (so a workflow returning an activity's status fails with the activity's
//    failure type), otherwise Failure{type = the absl code name, e.g.
//    "INVALID_ARGUMENT", message = s.message()}. We use the code name rather
//    than a blanket "ApplicationError" because it keeps the code through a
//    round trip and lets callers branch on it. OK gives std::nullopt.
#ifndef DURABLE_FAILURE_H_
#define DURABLE_FAILURE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/proto/common.pb.h"

namespace durable {

// Type URL of the status payload holding a serialized v1::Failure.
inline constexpr absl::string_view kFailurePayloadUrl =
    "type.googleapis.com/durable.v1.Failure";

// Failure types the facade itself produces.
inline constexpr absl::string_view kPanicFailure = "panic";
inline constexpr absl::string_view kInvalidArgumentFailure = "InvalidArgument";
inline constexpr absl::string_view kWorkflowNotRegisteredFailure =
    "WorkflowNotRegistered";
inline constexpr absl::string_view kActivityNotRegisteredFailure =
    "ActivityNotRegistered";

v1::Failure MakeFailure(absl::string_view type, absl::string_view message);

absl::Status StatusFromFailure(const v1::Failure& failure);

// Shorthand for StatusFromFailure(MakeFailure(type, message)).
absl::Status FailureStatus(absl::string_view type, absl::string_view message);

std::optional<v1::Failure> FailureFromStatus(const absl::Status& status);

// The failure type of a non-OK status (see FailureFromStatus); "" for OK.
std::string FailureType(const absl::Status& status);

}  // namespace durable

#endif  // DURABLE_FAILURE_H_
