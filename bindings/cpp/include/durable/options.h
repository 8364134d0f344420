// Options of the orchestration primitives: activity retries, heartbeats and
// timeouts, queues, sub-workflows and continue-as-new (see
// docs/orchestration.md).
//
//   durable::ActivityOptions options{
//       .queue = "gpu",
//       .retry_policy = {.maximum_attempts = 4,
//                        .initial_interval = absl::Milliseconds(100)},
//       .start_to_close_timeout = absl::Minutes(5),
//       .heartbeat_timeout = absl::Seconds(10)};
//   absl::StatusOr<int> r = co_await ctx.ExecuteActivity(options, Train, 7);
//
// Every field has a "not set" value (empty, zero) that means the engine's
// default, so `{}` behaves like the option-less overloads. Durations are
// rounded up to whole microseconds; negative ones count as zero.
#ifndef DURABLE_OPTIONS_H_
#define DURABLE_OPTIONS_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/proto/common.pb.h"

namespace durable {

// How a failed activity attempt is retried (mirrors durable.v1.RetryPolicy).
// Retries are carried out by the worker and the backend: the next attempt is
// re-queued with a visibility delay, costs no workflow task, and only the
// final outcome (a result, or the last attempt's failure) enters history.
// A failure is final when it is non-retryable (Failure.non_retryable, see
// NonRetryableFailureStatus in failure.h), its type is listed in
// non_retryable_error_types, the attempts are used up, or the next attempt
// would start after `timeout`.
struct RetryPolicy {
  // Total attempts including the first; 0 means the default, 1 (no retry).
  int maximum_attempts = 0;
  // Delay before the first retry; zero means the default (1 s).
  absl::Duration initial_interval = absl::ZeroDuration();
  // Factor applied to the delay after each retry; below 1 means the
  // default (2.0).
  double backoff_coefficient = 0;
  // Upper bound for the delay between attempts; zero means 100 initial
  // intervals. (A NaN or infinite coefficient, or negative values, fail the
  // activity or sub-workflow at once with an InvalidArgument failure.)
  absl::Duration maximum_interval = absl::ZeroDuration();
  // Stop retrying once this much time passed since the activity was first
  // scheduled; zero means no overall limit.
  absl::Duration timeout = absl::ZeroDuration();
  // Failure types that are never retried (e.g. "PaymentDeclined").
  std::vector<std::string> non_retryable_error_types;

  v1::RetryPolicy ToProto() const;
};

// Options of WorkflowContext::ExecuteActivity.
struct ActivityOptions {
  // Queue of the activity task; empty means the workflow's own queue. Only
  // workers polling that queue run the activity.
  std::string queue;
  RetryPolicy retry_policy;
  // Each attempt fails with type "StartToCloseTimeout" (retryable) when it
  // runs longer than this; zero means no limit.
  absl::Duration start_to_close_timeout = absl::ZeroDuration();
  // The activity fails with type "ScheduleToCloseTimeout" (non-retryable)
  // when this much time passed since it was scheduled, over all attempts;
  // zero means no limit.
  absl::Duration schedule_to_close_timeout = absl::ZeroDuration();
  // Each attempt fails with type "HeartbeatTimeout" (retryable) when it
  // goes this long without ActivityContext::Heartbeat(); zero means the
  // attempt need not heartbeat.
  absl::Duration heartbeat_timeout = absl::ZeroDuration();
};

// Options of WorkflowContext::CreateSubWorkflowInstance.
struct SubWorkflowOptions {
  // Instance id of the sub-workflow; empty means a deterministic id derived
  // from the parent's run ("<parent run id>/child-<n>"). Starting a
  // sub-workflow whose id belongs to an active instance fails its future with
  // type "InstanceAlreadyExists"; the id of a finished instance may be reused.
  std::string instance_id;
  // Queue of the sub-workflow's workflow tasks; empty means the parent's queue.
  std::string queue;
  // A failed sub-workflow is started again (same instance id) after the
  // policy's backoff; only the final failure reaches the parent.
  RetryPolicy retry_policy;
  // Added to the metadata the sub-workflow inherits from its parent (entries
  // given here win).
  std::map<std::string, std::string> metadata;
};

// Options of WorkflowContext::ContinueAsNew.
struct ContinueAsNewOptions {
  // Workflow the next execution runs; empty means the same workflow.
  std::string workflow_name;
  // Delete the instance's earlier (ended) executions when the next one
  // starts, so a long-lived instance keeps a single history.
  bool remove_previous_executions = false;
};

namespace internal {
// Whole microseconds, rounded up; 0 for zero or negative durations.
int64_t DurationMicros(absl::Duration duration);
}  // namespace internal

}  // namespace durable

#endif  // DURABLE_OPTIONS_H_
