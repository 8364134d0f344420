// RelationalStore: the part of a SQL store that is the same on every
// database -- its plan executor and every query that reads and writes the
// durable relational schema -- written once in neutral SQL over Connection.
//
// A store (SqliteStore now; the MySQL/MariaDB and PostgreSQL stores next)
// owns one per connection and keeps to itself how it opens, locks and
// makes commits durable, when it reads its clock, and how it waits
// (core::PollUntil). Contract:
//   - The store serializes every use, as it does its connection (neither
//     is thread-safe).
//   - Writes (lease grants and writes, client events, removal, the worker
//     registry, and the plan executor's primitives) run inside a write
//     transaction the store began; they never begin or end one. Reads that
//     need one snapshot for several statements (GetWorkflowHistory,
//     GetStats) begin their own read transaction, so the store calls them
//     outside its transactions; FindTask reads in whatever transaction the
//     store has open (a probe's read transaction).
//   - Every time is passed in by the store (`now`), which reads it inside
//     the transaction where it matters (a lease runs from its grant).
//   - Statements are prepared through Connection::Prepare (compiled once per
//     connection, cached). Their texts are fixed at construction, except
//     the pick queries, whose text depends on the number of queues and the
//     shape of the name filter (task_poll.h). Statements() lists the fixed
//     ones for tests that render them per dialect.
//   - The schema's instances.seq orders executions created in the same
//     microsecond by insertion (relational_plan_executor.h); the listing
//     orders by (created_at, seq) and its cursor is
//     "<created_at_us>:<seq>" of the last entry of a full page.
#ifndef DURABLE_BACKENDS_SQL_RELATIONAL_STORE_H_
#define DURABLE_BACKENDS_SQL_RELATIONAL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/sql/connection.h"
#include "backends/sql/relational_plan_executor.h"
#include "backends/sql/statement.h"
#include "backends/sql/task_poll.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/admin_store.h"
#include "core/storage/completion_plan.h"
#include "core/storage/store.h"

namespace durable::backends::sql {

// ABORTED: the caller's lease on `task` is gone (expired and taken over, or
// the task ended).
absl::Status WorkflowLeaseLost(const core::WorkflowTask& task);
absl::Status ActivityLeaseLost(const core::ActivityTask& task);

class RelationalStore {
 public:
  // `connection` must outlive the store.
  explicit RelationalStore(Connection* connection);

  RelationalStore(const RelationalStore&) = delete;
  RelationalStore& operator=(const RelationalStore&) = delete;

  RelationalPlanExecutor& plan_executor() { return plan_executor_; }

  // The newest execution's state; NOT_FOUND without any.
  absl::StatusOr<v1::WorkflowInstanceState> GetWorkflowInstanceState(
      absl::string_view instance_id);
  // Every execution's state, oldest first; NOT_FOUND without any.
  absl::StatusOr<std::vector<v1::WorkflowInstanceState>> ListWorkflowExecutions(
      absl::string_view instance_id);
  // The execution's events after `after_id`, in one read snapshot;
  // NOT_FOUND for an unknown execution, DATA_LOSS for an event that cannot
  // be decoded or is stored under another number.
  absl::StatusOr<std::vector<v1::HistoryEvent>> GetWorkflowHistory(
      absl::string_view instance_id, absl::string_view execution_id,
      int64_t after_id);

  // Lease writes, each matched by the caller's lease token (ABORTED, see
  // WorkflowLeaseLost, when no row matched). Drivers count matched rows
  // (connection.h), so rewriting an unchanged value still counts.
  // The workflow task's lease now runs until `expires_at`.
  absl::Status ExtendWorkflowLease(const core::WorkflowTask& task,
                                   absl::Time expires_at);
  // Releases the lease, recording `failure`; the execution is ready again
  // at `ready_at`.
  absl::Status AbandonWorkflowTask(const core::WorkflowTask& task,
                                   const v1::WorkflowTaskFailure& failure,
                                   absl::Time ready_at);
  absl::Status ExtendActivityLease(const core::ActivityTask& task,
                                   absl::Time expires_at);
  // Releases the lease; attempt `next_attempt` becomes visible at
  // `visible_at`.
  absl::Status RetryActivityTask(const core::ActivityTask& task,
                                 int32_t next_attempt, absl::Time visible_at);
  // Deletes the leased activity row (its result is being committed).
  absl::Status DeleteLeasedActivity(const core::ActivityTask& task);

  // Polls (the question is a TaskPoll). Whether a task is ready at `now`;
  // when none is, `*next_due` is the earliest later time at which one may
  // become ready (a delayed event or activity, a retry delay, an expiring
  // lease), InfiniteFuture() if none. Reads only.
  absl::StatusOr<bool> FindTask(const TaskPoll& poll, absl::Time now,
                                absl::Time* next_due);
  // Looks again (with the dialect's row lock) and leases the first ready
  // task until `now + lease` under a new token; nullopt, with `*next_due`
  // as in FindTask, when none is ready. A workflow task carries the inbox
  // events visible at `now` and the cursor that consumes exactly them. A
  // row that cannot be decoded is leased all the same, with `damaged` set,
  // so that it fails its own instance and not the queue (store.h). The
  // poll's kind must match the task type.
  absl::Status LeaseTask(const TaskPoll& poll, absl::Time now,
                         absl::Duration lease, absl::Time* next_due,
                         std::optional<core::WorkflowTask>* task);
  absl::Status LeaseTask(const TaskPoll& poll, absl::Time now,
                         absl::Duration lease, absl::Time* next_due,
                         std::optional<core::ActivityTask>* task);

  // Completions. The history length of `task`'s execution while `task`
  // still holds its lease; ABORTED (WorkflowLeaseLost) otherwise.
  absl::StatusOr<int64_t> LeasedHistoryLength(const core::WorkflowTask& task);
  // What the fused step needs to know of the execution; nullopt when it
  // does not exist.
  absl::StatusOr<std::optional<core::ExecutionLeaseState>> ExecutionLease(
      absl::string_view instance_id, absl::string_view execution_id);

  // Queues `event` (an inbox event, core::AsInboxEvent) for the instance's
  // newest execution, visible from `now`. NOT_FOUND when the instance has
  // no execution, or its newest one has finished.
  absl::Status DeliverToNewestExecution(absl::string_view instance_id,
                                        const v1::HistoryEvent& event,
                                        absl::Time now);

  // Administration (core/storage/admin_store.h). Deletes every row of a
  // finished instance; NOT_FOUND for an unknown one, FAILED_PRECONDITION
  // while an execution is active.
  absl::Status RemoveInstance(absl::string_view instance_id);
  // Deletes every execution that finished before `finished_before` with its
  // rows; returns how many.
  absl::StatusOr<int64_t> RemoveExecutionsFinishedBefore(
      absl::Time finished_before);
  // Latest executions, newest first (see the top comment for the cursor).
  // INVALID_ARGUMENT for a page size below 1 or a malformed cursor.
  absl::StatusOr<core::WorkflowInstancePage> ListInstances(
      absl::string_view cursor, int page_size);
  // Counters as of `now`, in one read snapshot.
  absl::StatusOr<core::StoreStats> GetStats(absl::Time now);

  // The worker registry: one serialized WorkerInfo per worker id, replaced
  // by each record (the dialect's upsert).
  absl::Status RecordWorker(const v1::WorkerInfo& worker);
  absl::Status RemoveWorker(absl::string_view worker_id);
  // By worker id; entries that cannot be decoded are skipped.
  absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers();

  // Every statement of fixed text this store and its plan executor
  // prepare (the pick queries are TaskPoll's).
  std::vector<absl::string_view> Statements() const;

 private:
  // The pick query of `poll` (`lease`: with the row lock), bound.
  absl::StatusOr<Statement> PreparePick(const TaskPoll& poll, bool lease,
                                        int64_t now_us);
  // See FindTask's `*next_due`.
  absl::StatusOr<absl::Time> NextDue(TaskKind kind, int64_t now_us);

  Connection* const connection_;
  RelationalPlanExecutor plan_executor_;
  // Built once from the dialect. The lease reads of completions and the
  // newest-execution read of client events lock the execution's row
  // (Dialect::for_update), so a signal and a continue-as-new of the same
  // execution serialize on it.
  const std::string newest_execution_sql_;
  const std::string lease_and_length_sql_;
  const std::string execution_lease_sql_;
  const std::string record_worker_sql_;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_RELATIONAL_STORE_H_
