// FailurePolicy: what a failure does -- whether it fails a task (retried
// later), an activity attempt (retried per its policy) or the whole
// workflow, and after which delay.
//
// Why in one place: the same error reaches the worker along many paths (a
// replay that diverges, a completion the machine rejects, a commit that
// fails, unreadable rows, names nobody runs), and every path must answer
// alike. The rules:
//   - A failed workflow task leaves history untouched and is retried after
//     WorkerConfig::workflow_task_retry_delay. Two failures end the workflow
//     instead: DATA_LOSS (history cannot be read back; "HistoryCorrupted")
//     and, with fail_workflow_on_nondeterminism, NON_DETERMINISM
//     ("NonDeterminism"). A history over max_history_length ends it too
//     ("HistoryLimitExceeded").
//   - A fused task (local_dispatch.h) holds no lease: when it fails, its
//     activity result is committed on its own instead, and the regular
//     workflow task that result wakes meets the same failure.
//   - A lost lease (ABORTED at commit) belongs to another worker: nothing to
//     do. Any other commit failure still holds the lease: release it now.
//   - A failed activity attempt is retried per its retry policy (re-queued
//     with a backoff, no workflow task); only the final failure reaches the
//     workflow. A stored attempt that cannot be read fails for good
//     ("ActivityTaskCorrupted").
//   - A task whose name this worker does not run (taken because no other
//     live worker of its queue seemed to run it) goes back at once if a
//     fresh read of the registry finds a live worker that runs it, after
//     the retry delay if the registry cannot be read, and otherwise fails
//     for good: the workflow with "WorkflowNotRegistered", the activity
//     attempt with a non-retryable "ActivityNotRegistered".
//
// Time stamps and retry times come from the worker's Clock. Thread-safe
// (stateless besides its references); every method does store I/O, so call
// them without the worker's mutex.
#ifndef DURABLE_CORE_WORKER_FAILURE_POLICY_H_
#define DURABLE_CORE_WORKER_FAILURE_POLICY_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/clock.h"
#include "core/proto/history.pb.h"
#include "core/storage/store.h"
#include "core/worker/activity_result.h"
#include "core/worker/worker_registry.h"

namespace durable::core {

struct WorkerConfig;

class FailurePolicy {
 public:
  // All three must outlive the policy.
  FailurePolicy(Store& store, const WorkerConfig& config,
                WorkerRegistry& registry);

  // A workflow task failed without changing history (`why`): releases it
  // for a retry after the delay, or ends the workflow (see the top comment).
  // With `fused_result`, commits that result on its own instead.
  void AbandonWorkflowTask(
      const WorkflowTask& task, const absl::Status& why,
      const std::optional<ActivityResult>& fused_result = std::nullopt);
  // Commits the task's inbound events followed by a WorkflowExecutionFinished
  // carrying a failure of `failure_type` with `why`'s message, and tells the
  // parent, if any, in the same commit (parent_notification.h).
  void FailWorkflow(const WorkflowTask& task, const absl::Status& why,
                    absl::string_view failure_type);
  // The task's history would pass max_history_length (`why` says by how
  // much): fails the workflow, or for a fused task commits its result alone
  // (the regular task it wakes fails the workflow).
  void HistoryLimitExceeded(const WorkflowTask& task, const absl::Status& why,
                            const std::optional<ActivityResult>& fused_result);
  // Committing the task failed with `committed` (not OK).
  void CommitFailed(const WorkflowTask& task, const absl::Status& committed,
                    const std::optional<ActivityResult>& fused_result);

  // An attempt failed with `failure`: re-queues it for its next attempt
  // (returns nullopt, or the store's error), or returns the ActivityFailed
  // event that ends the activity, for the caller to deliver.
  absl::StatusOr<std::optional<v1::HistoryEvent>> RetryOrFinal(
      const ActivityTask& task, const v1::Failure& failure);
  // Fails an activity whose stored row cannot be read (ActivityTask::
  // damaged) without running it: the workflow sees ActivityTaskCorrupted.
  void FailDamagedActivity(const ActivityTask& task);

  // A workflow task this worker cannot run: hands it back or fails the
  // workflow (WorkflowNotRegistered).
  void UnregisteredWorkflowTask(const WorkflowTask& task);
  // An activity attempt this worker cannot run: hands it back (nullopt), or
  // returns the final failure (ActivityNotRegistered) for the caller to end
  // the attempt with.
  std::optional<v1::Failure> UnregisteredActivityTask(const ActivityTask& task);

 private:
  Store& store_;
  const WorkerConfig& config_;
  const Clock& clock_;
  WorkerRegistry& registry_;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_FAILURE_POLICY_H_
