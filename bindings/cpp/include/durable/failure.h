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
//
// Telling failures apart in a workflow (typed errors):
//
//   absl::StatusOr<int> r = co_await ctx.ExecuteActivity(options, Charge, 5);
//   if (durable::IsTimeout(r.status())) ...        // "...Timeout" types
//   else if (durable::IsCanceled(r.status())) ...  // CANCELLED
//   else if (durable::IsNonRetryable(r.status())) ...
//   else if (!r.ok()) ...  // an application error: FailureType(r.status())
//
//  - IsTimeout: the failure type ends in "Timeout": an activity attempt's
//    "StartToCloseTimeout" or "HeartbeatTimeout" (retryable) or its
//    "ScheduleToCloseTimeout" (final), as reported once retries are over.
//  - IsCanceled: code CANCELLED, e.g. an operation on a canceled context, a
//    sub-workflow canceled before it started, a sub-workflow or activity that
//    returned its context's Err(); also failure types "Canceled"/"Cancelled".
//  - IsNonRetryable: Failure.non_retryable is set (by
//    NonRetryableFailureStatus, or by the engine for final timeouts).
//  - IsPanic: a C++ exception escaped user code (type "panic", the
//    exception's what() as message); it never crosses the C ABI.
//  - IsInstanceNotFound: type "InstanceNotFound", what an awaited
//    WorkflowContext::SignalWorkflow yields when the target instance does
//    not exist or has finished (an application error, non-retryable).
//  - Anything else is an application error: its type is the one the code
//    that failed chose (FailureStatus(type, message)), or an absl code name.
//
// Failures keep their type, message, details and cause across every
// boundary: activity -> workflow, child -> parent, workflow -> client.
#ifndef DURABLE_FAILURE_H_
#define DURABLE_FAILURE_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

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
// The status a workflow returns to continue as new (WorkflowContext::
// ContinueAsNew); never seen by clients or parents.
inline constexpr absl::string_view kContinueAsNewFailure = "ContinueAsNew";

// Failure types the engine produces.
inline constexpr absl::string_view kStartToCloseTimeoutFailure =
    "StartToCloseTimeout";
inline constexpr absl::string_view kScheduleToCloseTimeoutFailure =
    "ScheduleToCloseTimeout";
inline constexpr absl::string_view kHeartbeatTimeoutFailure =
    "HeartbeatTimeout";
inline constexpr absl::string_view kHistoryLimitExceededFailure =
    "HistoryLimitExceeded";
inline constexpr absl::string_view kInstanceAlreadyExistsFailure =
    "InstanceAlreadyExists";
// A signal from a workflow (WorkflowContext::SignalWorkflow) whose target
// instance does not exist or has finished; non-retryable.
inline constexpr absl::string_view kInstanceNotFoundFailure =
    "InstanceNotFound";
inline constexpr absl::string_view kNonDeterminismFailure = "NonDeterminism";

v1::Failure MakeFailure(absl::string_view type, absl::string_view message);

absl::Status StatusFromFailure(const v1::Failure& failure);

// Shorthand for StatusFromFailure(MakeFailure(type, message)).
absl::Status FailureStatus(absl::string_view type, absl::string_view message);

std::optional<v1::Failure> FailureFromStatus(const absl::Status& status);

// The failure type of a non-OK status (see FailureFromStatus); "" for OK.
std::string FailureType(const absl::Status& status);

// A failure that retry policies never retry (Failure.non_retryable), for
// errors another attempt cannot fix (a declined card, bad input).
absl::Status NonRetryableFailureStatus(absl::string_view type,
                                       absl::string_view message);

// A failure with structured details (any payload, see payload.h for
// EncodePayload) and, if `cause` is not OK, the failure that caused it.
absl::Status FailureStatus(absl::string_view type, absl::string_view message,
                           const v1::Payload& details,
                           const absl::Status& cause = absl::OkStatus());

// Classification helpers (see the top comment). All are false for OK.
bool IsTimeout(const absl::Status& status);
bool IsCanceled(const absl::Status& status);
bool IsNonRetryable(const absl::Status& status);
bool IsPanic(const absl::Status& status);
// Failure type "InstanceNotFound": the instance a workflow signaled does not
// exist or its latest execution has finished (the signal was dropped).
bool IsInstanceNotFound(const absl::Status& status);
// Non-OK and neither a timeout, a cancellation nor a panic.
bool IsApplicationError(const absl::Status& status);

}  // namespace durable

#endif  // DURABLE_FAILURE_H_
