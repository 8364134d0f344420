// RelationalStore: the part of a SQL store that is the same on every
// database -- its plan executor and the queries that read and write the
// durable relational schema -- written once in neutral SQL over Connection.
//
// A store (SqliteStore now; the MySQL/MariaDB and PostgreSQL stores next)
// owns one per connection and keeps to itself how it opens, locks and
// makes commits durable. Contract:
//   - The store serializes every use, as it does its connection (neither
//     is thread-safe).
//   - Writes (RecordWorker, RemoveWorker, and the plan executor's
//     primitives) run inside a transaction the store began; they never
//     begin or end one. Reads that need one snapshot for several statements
//     (GetWorkflowHistory) begin their own read transaction, so the store
//     calls them outside its write transactions.
//   - Statements are prepared through Connection::Prepare (compiled once per
//     connection, cached) from texts fixed at construction; no call builds
//     SQL. Statements() lists them for tests that render them per dialect.
//   - `instance_order` names the column that breaks ties between an
//     instance's executions created in the same microsecond, in insertion
//     order (see relational_plan_executor.h).
//
// Still in SqliteStore, to be moved here next: the pick queries and lease
// grants, signal lookups, removal, listing and stats.
#ifndef DURABLE_BACKENDS_SQL_RELATIONAL_STORE_H_
#define DURABLE_BACKENDS_SQL_RELATIONAL_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/sql/connection.h"
#include "backends/sql/relational_plan_executor.h"
#include "backends/sql/statement.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"

namespace durable::backends::sql {

// The columns StateFromRow reads, in order, for "SELECT <these> FROM
// instances ...".
inline constexpr char kInstanceStateColumns[] =
    "instance_id, execution_id, workflow_name, queue, state, created_at, "
    "finished_at, metadata, result, last_task_failure";

// The row `stmt` is on (selected as kInstanceStateColumns) as a state;
// DATA_LOSS when its result or last failure cannot be decoded.
absl::StatusOr<v1::WorkflowInstanceState> StateFromRow(const Statement& stmt);

// ABORTED: the caller's lease on `task` is gone (expired and taken over, or
// the task ended).
absl::Status WorkflowLeaseLost(const core::WorkflowTask& task);
absl::Status ActivityLeaseLost(const core::ActivityTask& task);

class RelationalStore {
 public:
  // `connection` must outlive the store.
  RelationalStore(Connection* connection, absl::string_view instance_order);

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

  // The worker registry: one serialized WorkerInfo per worker id, replaced
  // by each record (the dialect's upsert).
  absl::Status RecordWorker(const v1::WorkerInfo& worker);
  absl::Status RemoveWorker(absl::string_view worker_id);
  // By worker id; entries that cannot be decoded are skipped.
  absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers();

  // Every statement this store and its plan executor prepare.
  std::vector<absl::string_view> Statements() const;

 private:
  Connection* const connection_;
  RelationalPlanExecutor plan_executor_;
  // Built once from the dialect and `instance_order`.
  const std::string newest_state_sql_;
  const std::string executions_sql_;
  const std::string record_worker_sql_;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_RELATIONAL_STORE_H_
