#include "backends/sql/relational_store.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/sql/status_macros.h"
#include "backends/sql/transaction.h"
#include "core/time_util.h"

namespace durable::backends::sql {
namespace {

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

bool ParseBlob(absl::string_view blob, google::protobuf::MessageLite* message) {
  return message->ParseFromArray(blob.data(), static_cast<int>(blob.size()));
}

constexpr char kExecutionExists[] =
    "SELECT 1 FROM instances WHERE instance_id = ?1 AND execution_id = ?2";
constexpr char kHistoryAfter[] =
    "SELECT event_id, event FROM history WHERE instance_id = ?1 "
    "AND execution_id = ?2 AND event_id > ?3 ORDER BY event_id";
constexpr char kExtendWorkflowLease[] =
    "UPDATE instances SET lease_expires_at = ?1 WHERE instance_id = ?2 "
    "AND execution_id = ?3 AND lease_token = ?4";
constexpr char kAbandonWorkflowTask[] =
    "UPDATE instances SET lease_token = NULL, lease_expires_at = NULL, "
    "last_task_failure = ?1, ready_at = ?2 WHERE instance_id = ?3 "
    "AND execution_id = ?4 AND lease_token = ?5";
constexpr char kExtendActivityLease[] =
    "UPDATE activities SET lease_expires_at = ?1 "
    "WHERE activity_id = ?2 AND lease_token = ?3";
constexpr char kRetryActivity[] =
    "UPDATE activities SET attempt = ?1, visible_at = ?2, "
    "lease_token = NULL, lease_expires_at = NULL "
    "WHERE activity_id = ?3 AND lease_token = ?4";
constexpr char kDeleteLeasedActivity[] =
    "DELETE FROM activities WHERE activity_id = ?1 AND lease_token = ?2";
constexpr char kRemoveWorker[] = "DELETE FROM workers WHERE worker_id = ?1";
constexpr char kListWorkers[] =
    "SELECT worker_id, info FROM workers ORDER BY worker_id";

}  // namespace

absl::Status WorkflowLeaseLost(const core::WorkflowTask& task) {
  return absl::AbortedError(absl::StrCat(
      "workflow task lease for instance ", Quoted(task.instance_id),
      " (execution ", Quoted(task.execution_id), ") was lost"));
}

absl::Status ActivityLeaseLost(const core::ActivityTask& task) {
  return absl::AbortedError(absl::StrCat(
      "activity task lease for activity ", Quoted(task.activity_id),
      " of workflow instance ", Quoted(task.instance_id), " was lost"));
}

absl::StatusOr<v1::WorkflowInstanceState> StateFromRow(const Statement& stmt) {
  v1::WorkflowInstanceState state;
  state.set_instance_id(std::string(stmt.ColumnTextView(0)));
  state.set_execution_id(std::string(stmt.ColumnTextView(1)));
  state.set_workflow_name(std::string(stmt.ColumnTextView(2)));
  state.set_queue(std::string(stmt.ColumnTextView(3)));
  state.set_state(static_cast<v1::WorkflowState>(stmt.ColumnInt64(4)));
  state.set_created_at_unix_us(stmt.ColumnInt64(5));
  if (!stmt.ColumnIsNull(6)) state.set_finished_at_unix_us(stmt.ColumnInt64(6));
  std::map<std::string, std::string> metadata =
      ParseMetadata(stmt.ColumnBlobView(7));
  state.mutable_metadata()->insert(metadata.begin(), metadata.end());
  if (state.state() == v1::WORKFLOW_STATE_FINISHED && !stmt.ColumnIsNull(8) &&
      !ParseBlob(stmt.ColumnBlobView(8), state.mutable_result())) {
    return absl::DataLossError(absl::StrCat("result of workflow instance ",
                                            Quoted(state.instance_id()),
                                            " cannot be decoded"));
  }
  if (!stmt.ColumnIsNull(9) &&
      !ParseBlob(stmt.ColumnBlobView(9), state.mutable_last_task_failure())) {
    return absl::DataLossError(
        absl::StrCat("last task failure of workflow instance ",
                     Quoted(state.instance_id()), " cannot be decoded"));
  }
  return state;
}

RelationalStore::RelationalStore(Connection* connection,
                                 absl::string_view instance_order)
    : connection_(connection),
      plan_executor_(connection, instance_order),
      newest_state_sql_(absl::StrCat(
          "SELECT ", kInstanceStateColumns,
          " FROM instances WHERE instance_id = ?1 ORDER BY created_at DESC, ",
          instance_order, " DESC LIMIT 1")),
      executions_sql_(absl::StrCat("SELECT ", kInstanceStateColumns,
                                   " FROM instances WHERE instance_id = ?1 "
                                   "ORDER BY created_at, ",
                                   instance_order)),
      record_worker_sql_(
          absl::StrCat("INSERT INTO workers (worker_id, last_seen, info) "
                       "VALUES (?1, ?2, ?3)",
                       connection->dialect().UpsertClause(
                           {"worker_id"}, {"last_seen", "info"}))) {}

std::vector<absl::string_view> RelationalStore::Statements() const {
  std::vector<absl::string_view> statements = plan_executor_.Statements();
  for (absl::string_view sql :
       {absl::string_view(newest_state_sql_),
        absl::string_view(executions_sql_), absl::string_view(kHistoryAfter),
        absl::string_view(record_worker_sql_), absl::string_view(kRemoveWorker),
        absl::string_view(kListWorkers)}) {
    statements.push_back(sql);
  }
  return statements;
}

absl::StatusOr<v1::WorkflowInstanceState>
RelationalStore::GetWorkflowInstanceState(absl::string_view instance_id) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(newest_state_sql_));
  stmt.BindText(1, instance_id);
  DURABLE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("workflow instance ", Quoted(instance_id), " not found"));
  }
  return StateFromRow(stmt);
}

absl::StatusOr<std::vector<v1::WorkflowInstanceState>>
RelationalStore::ListWorkflowExecutions(absl::string_view instance_id) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(executions_sql_));
  stmt.BindText(1, instance_id);
  std::vector<v1::WorkflowInstanceState> executions;
  while (true) {
    DURABLE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    DURABLE_ASSIGN_OR_RETURN(v1::WorkflowInstanceState state,
                             StateFromRow(stmt));
    executions.push_back(std::move(state));
  }
  if (executions.empty()) {
    return absl::NotFoundError(
        absl::StrCat("workflow instance ", Quoted(instance_id), " not found"));
  }
  return executions;
}

absl::StatusOr<std::vector<v1::HistoryEvent>>
RelationalStore::GetWorkflowHistory(absl::string_view instance_id,
                                    absl::string_view execution_id,
                                    int64_t after_id) {
  // One snapshot for the existence check and the events.
  DURABLE_ASSIGN_OR_RETURN(
      Transaction txn,
      Transaction::Begin(connection_, Transaction::Mode::kRead));
  {
    DURABLE_ASSIGN_OR_RETURN(Statement exists,
                             connection_->Prepare(kExecutionExists));
    exists.BindText(1, instance_id).BindText(2, execution_id);
    DURABLE_ASSIGN_OR_RETURN(bool row, exists.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat(
          "execution ", Quoted(execution_id), " of workflow instance ",
          Quoted(instance_id), " not found"));
    }
  }
  std::vector<v1::HistoryEvent> history;
  {
    DURABLE_ASSIGN_OR_RETURN(Statement events,
                             connection_->Prepare(kHistoryAfter));
    events.BindText(1, instance_id)
        .BindText(2, execution_id)
        .BindInt64(3, after_id);
    while (true) {
      DURABLE_ASSIGN_OR_RETURN(bool row, events.Step());
      if (!row) break;
      if (!ParseBlob(events.ColumnBlobView(1), &history.emplace_back())) {
        return absl::DataLossError(absl::StrCat(
            "history of workflow instance ", Quoted(instance_id), ": event ",
            events.ColumnInt64(0), " cannot be decoded"));
      }
      if (history.back().id() != events.ColumnInt64(0)) {
        return absl::DataLossError(
            absl::StrCat("history of workflow instance ", Quoted(instance_id),
                         ": the row numbered ", events.ColumnInt64(0),
                         " holds event ", history.back().id()));
      }
    }
  }
  DURABLE_RETURN_IF_ERROR(txn.Commit());
  return history;
}

absl::Status RelationalStore::ExtendWorkflowLease(
    const core::WorkflowTask& task, absl::Time expires_at) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(kExtendWorkflowLease));
  DURABLE_RETURN_IF_ERROR(stmt.BindInt64(1, core::ToUnixMicros(expires_at))
                              .BindText(2, task.instance_id)
                              .BindText(3, task.execution_id)
                              .BindText(4, task.lease_token)
                              .Run());
  if (connection_->Changes() == 0) return WorkflowLeaseLost(task);
  return absl::OkStatus();
}

absl::Status RelationalStore::AbandonWorkflowTask(
    const core::WorkflowTask& task, const v1::WorkflowTaskFailure& failure,
    absl::Time ready_at) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(kAbandonWorkflowTask));
  DURABLE_RETURN_IF_ERROR(stmt.BindBlob(1, failure.SerializeAsString())
                              .BindInt64(2, core::ToUnixMicros(ready_at))
                              .BindText(3, task.instance_id)
                              .BindText(4, task.execution_id)
                              .BindText(5, task.lease_token)
                              .Run());
  if (connection_->Changes() == 0) return WorkflowLeaseLost(task);
  return absl::OkStatus();
}

absl::Status RelationalStore::ExtendActivityLease(
    const core::ActivityTask& task, absl::Time expires_at) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(kExtendActivityLease));
  DURABLE_RETURN_IF_ERROR(stmt.BindInt64(1, core::ToUnixMicros(expires_at))
                              .BindText(2, task.activity_id)
                              .BindText(3, task.lease_token)
                              .Run());
  if (connection_->Changes() == 0) return ActivityLeaseLost(task);
  return absl::OkStatus();
}

absl::Status RelationalStore::RetryActivityTask(const core::ActivityTask& task,
                                                int32_t next_attempt,
                                                absl::Time visible_at) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(kRetryActivity));
  DURABLE_RETURN_IF_ERROR(stmt.BindInt64(1, next_attempt)
                              .BindInt64(2, core::ToUnixMicros(visible_at))
                              .BindText(3, task.activity_id)
                              .BindText(4, task.lease_token)
                              .Run());
  if (connection_->Changes() == 0) return ActivityLeaseLost(task);
  return absl::OkStatus();
}

absl::Status RelationalStore::DeleteLeasedActivity(
    const core::ActivityTask& task) {
  DURABLE_ASSIGN_OR_RETURN(Statement remove,
                           connection_->Prepare(kDeleteLeasedActivity));
  DURABLE_RETURN_IF_ERROR(
      remove.BindText(1, task.activity_id).BindText(2, task.lease_token).Run());
  if (connection_->Changes() == 0) return ActivityLeaseLost(task);
  return absl::OkStatus();
}

absl::Status RelationalStore::RecordWorker(const v1::WorkerInfo& worker) {
  DURABLE_ASSIGN_OR_RETURN(Statement upsert,
                           connection_->Prepare(record_worker_sql_));
  return upsert.BindText(1, worker.worker_id())
      .BindInt64(2, worker.last_seen_unix_us())
      .BindBlob(3, worker.SerializeAsString())
      .Run();
}

absl::Status RelationalStore::RemoveWorker(absl::string_view worker_id) {
  DURABLE_ASSIGN_OR_RETURN(Statement remove,
                           connection_->Prepare(kRemoveWorker));
  return remove.BindText(1, worker_id).Run();
}

absl::StatusOr<std::vector<v1::WorkerInfo>> RelationalStore::ListWorkers() {
  DURABLE_ASSIGN_OR_RETURN(Statement rows, connection_->Prepare(kListWorkers));
  std::vector<v1::WorkerInfo> workers;
  while (true) {
    DURABLE_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    // A bad entry is skipped, not fatal: it is one worker's, and rewritten
    // by that worker's next heartbeat.
    if (!ParseBlob(rows.ColumnBlobView(1), &workers.emplace_back())) {
      workers.pop_back();
    }
  }
  return workers;
}

}  // namespace durable::backends::sql
