// SqliteBackend: the durable Backend on a SQLite database file (or in memory).
//
// One connection per backend object, serialized by a mutex that is never held
// while waiting for work. Files use WAL journaling with synchronous=FULL, so a
// committed workflow task survives a power loss; every write is one short
// `BEGIN IMMEDIATE` transaction. Several processes may open the same file:
// SQLite's locking keeps them consistent, busy_timeout makes writers queue
// instead of failing, and pollers re-check at least every 100 ms for work
// committed by another process. Within one process, backends on the same file
// share a ChangeNotifier (see notifier_registry.h) and wake each other at once.
//
// Interpretations of the Backend contract (see core/backend.h):
//   - A lease is lost only when its token changed (another caller took the
//     task after expiry, or the task was completed/abandoned). A caller whose
//     lease expired but was not taken over may still complete or extend it.
//   - Outbound events carrying WorkflowExecutionStarted create that execution
//     (child workflows, continue-as-new); if an active execution of the target
//     instance already exists, the start is dropped and, for a child, the
//     parent receives SubWorkflowFailed (type "InstanceAlreadyExists").
//   - Other outbound events with an empty execution_id go to the instance's
//     current active execution; events for an instance/execution that is not
//     active (finished, or unknown) are dropped silently, like activity
//     results of finished executions.
//   - Executed events must be numbered history_length + 1, + 2, ...;
//     anything else is INVALID_ARGUMENT and nothing is written.
//   - ListWorkflowInstances orders by the latest execution's created_at, then
//     its rowid; the cursor is "<created_at_us>:<rowid>" of the last entry
//     of a full page. A full page always carries a cursor, so the page after
//     the last full one is empty (with an empty cursor).
//   - RemoveWorkflowInstance(s) also delete the removed executions' inbox
//     events and activity tasks (a leased activity then loses its lease).
#ifndef DURABLE_BACKENDS_SQLITE_SQLITE_BACKEND_H_
#define DURABLE_BACKENDS_SQLITE_SQLITE_BACKEND_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/backend.h"
#include "core/notifier.h"

namespace durable::backends::sqlite {

class Connection;  // connection.h, private to this package.

struct SqliteOptions {
  // Database file; created if missing. Ignored when `in_memory`.
  std::string path;
  // A private in-memory database, shared by everything holding this backend
  // object and lost when it is destroyed.
  bool in_memory = false;
};

class SqliteBackend : public core::Backend {
 public:
  // Opens (creating if needed) the database and its schema. Errors:
  //   FAILED_PRECONDITION  the file is not a durable database (left
  //                        untouched) or has a newer schema version;
  //   PERMISSION_DENIED    the file is read-only;
  //   UNAVAILABLE          the file cannot be opened or created.
  static absl::StatusOr<std::unique_ptr<SqliteBackend>> Open(
      const SqliteOptions& options);

  ~SqliteBackend() override;

  std::string Describe() const override;

  absl::Status CreateWorkflowInstance(const v1::WorkflowInstance& instance,
                                      const v1::HistoryEvent& started) override;
  absl::StatusOr<std::optional<core::WorkflowTask>> GetWorkflowTask(
      const std::vector<std::string>& queues, absl::Duration lease,
      absl::Time deadline, const std::atomic<bool>* stop) override;
  absl::Status ExtendWorkflowTaskLease(const core::WorkflowTask& task,
                                       absl::Duration lease) override;
  absl::Status CompleteWorkflowTask(
      const core::WorkflowTask& task,
      const core::WorkflowTaskCompletion& completion) override;
  absl::Status AbandonWorkflowTask(const core::WorkflowTask& task,
                                   const v1::WorkflowTaskFailure& failure,
                                   absl::Duration retry_delay) override;
  absl::StatusOr<std::optional<core::ActivityTask>> GetActivityTask(
      const std::vector<std::string>& queues, absl::Duration lease,
      absl::Time deadline, const std::atomic<bool>* stop) override;
  absl::Status ExtendActivityTaskLease(const core::ActivityTask& task,
                                       absl::Duration lease) override;
  absl::Status CompleteActivityTask(const core::ActivityTask& task,
                                    const v1::HistoryEvent& result) override;
  absl::StatusOr<v1::WorkflowInstanceState> GetWorkflowInstanceState(
      const std::string& instance_id) override;
  absl::StatusOr<std::vector<v1::HistoryEvent>> GetWorkflowHistory(
      const std::string& instance_id, const std::string& execution_id,
      int64_t after_id = 0) override;
  absl::StatusOr<v1::WorkflowInstanceState> WaitForWorkflowInstanceFinished(
      const std::string& instance_id, absl::Time deadline) override;
  absl::Status DeliverWorkflowEvent(const std::string& instance_id,
                                    const v1::HistoryEvent& event) override;
  absl::Status RemoveWorkflowInstance(const std::string& instance_id) override;
  absl::StatusOr<int64_t> RemoveWorkflowInstances(
      absl::Time finished_before) override;
  absl::StatusOr<core::WorkflowInstancePage> ListWorkflowInstances(
      const std::string& cursor, int page_size) override;
  absl::StatusOr<core::BackendStats> GetStats() override;
  void Interrupt() override;

 private:
  SqliteBackend(std::unique_ptr<Connection> connection,
                std::shared_ptr<core::ChangeNotifier> notifier,
                std::string description);

  // One non-blocking attempt to lease a task. Sets `*next_due` to the
  // earliest future time at which something may become ready (a delayed
  // event, an expiring lease), InfiniteFuture() if none.
  absl::StatusOr<std::optional<core::WorkflowTask>> TryGetWorkflowTask(
      const std::vector<std::string>& queues, absl::Duration lease,
      absl::Time* next_due);
  absl::StatusOr<std::optional<core::ActivityTask>> TryGetActivityTask(
      const std::vector<std::string>& queues, absl::Duration lease,
      absl::Time* next_due);

  // Inserts the execution row (created `now`) and its started event (inbox,
  // visible at `visible_at`). Requires an open write transaction; does not
  // check for active executions. ALREADY_EXISTS if the execution exists.
  absl::Status InsertExecution(const std::string& instance_id,
                               const std::string& execution_id,
                               v1::HistoryEvent started, absl::Time now,
                               absl::Time visible_at)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers one outbound event inside CompleteWorkflowTask's transaction.
  absl::Status DeliverOutbound(const core::OutboundEvent& outbound,
                               absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The execution id of the instance's newest active execution, if any.
  absl::StatusOr<std::optional<std::string>> ActiveExecution(
      const std::string& instance_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertInbox(const std::string& instance_id,
                           const std::string& execution_id,
                           const v1::HistoryEvent& event, absl::Time visible_at,
                           const std::string& key = "");

  mutable absl::Mutex mu_;
  std::unique_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
  // Shared with other backends on the same file (see notifier_registry.h).
  const std::shared_ptr<core::ChangeNotifier> notifier_;
  const std::string description_;
};

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_SQLITE_BACKEND_H_
