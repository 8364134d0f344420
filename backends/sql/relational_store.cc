#include "backends/sql/relational_store.h"

#include <initializer_list>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/sql/status_macros.h"
#include "backends/sql/transaction.h"
#include "core/time_util.h"
#include "core/uuid.h"

namespace durable::backends::sql {
namespace {

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

bool ParseBlob(absl::string_view blob, google::protobuf::MessageLite* message) {
  return message->ParseFromArray(blob.data(), static_cast<int>(blob.size()));
}

constexpr int64_t kActive = v1::WORKFLOW_STATE_ACTIVE;

// The newest execution first; seq breaks ties within a microsecond.
constexpr char kNewestState[] =
    "SELECT instance_id, execution_id, workflow_name, queue, state, "
    "created_at, finished_at, metadata, result, last_task_failure "
    "FROM instances WHERE instance_id = ?1 "
    "ORDER BY created_at DESC, seq DESC LIMIT 1";
constexpr char kExecutions[] =
    "SELECT instance_id, execution_id, workflow_name, queue, state, "
    "created_at, finished_at, metadata, result, last_task_failure "
    "FROM instances WHERE instance_id = ?1 ORDER BY created_at, seq";
constexpr char kNewestExecution[] =
    "SELECT execution_id, state FROM instances WHERE instance_id = ?1 "
    "ORDER BY created_at DESC, seq DESC LIMIT 1";

// When the next task may become ready, for polls that found none. Derived
// tables carry an alias, which MySQL and PostgreSQL require.
constexpr char kWorkflowDue[] =
    "SELECT min(t) FROM ("
    "SELECT min(visible_at) AS t FROM inbox WHERE visible_at > ?1 "
    "UNION ALL SELECT min(ready_at) FROM instances "
    "WHERE state = ?2 AND ready_at > ?1 "
    "UNION ALL SELECT min(lease_expires_at) FROM instances "
    "WHERE state = ?2 AND lease_token IS NOT NULL "
    "AND lease_expires_at > ?1) AS due";
constexpr char kActivityDue[] =
    "SELECT min(t) FROM ("
    "SELECT min(visible_at) AS t FROM activities WHERE visible_at > ?1 "
    "UNION ALL SELECT min(lease_expires_at) FROM activities "
    "WHERE lease_token IS NOT NULL AND lease_expires_at > ?1) AS due";
constexpr char kGrantWorkflowLease[] =
    "UPDATE instances SET lease_token = ?1, lease_expires_at = ?2 "
    "WHERE instance_id = ?3 AND execution_id = ?4";
constexpr char kVisibleInbox[] =
    "SELECT id, event FROM inbox WHERE instance_id = ?1 "
    "AND execution_id = ?2 AND visible_at <= ?3 ORDER BY id";
constexpr char kGrantActivityLease[] =
    "UPDATE activities SET lease_token = ?1, lease_expires_at = ?2 "
    "WHERE id = ?3";

constexpr char kLeaseAndLength[] =
    "SELECT lease_token, history_length FROM instances "
    "WHERE instance_id = ?1 AND execution_id = ?2";
constexpr char kExecutionLease[] =
    "SELECT state, lease_token, lease_expires_at, history_length "
    "FROM instances WHERE instance_id = ?1 AND execution_id = ?2";

constexpr char kInstanceCounts[] =
    "SELECT count(*), count(CASE WHEN state = ?2 THEN 1 END) "
    "FROM instances WHERE instance_id = ?1";
// Instances goes last, so that nothing is left pointing at a deleted
// execution if a statement fails midway (the transaction rolls back anyway).
constexpr const char* kRemoveInstance[] = {
    "DELETE FROM history WHERE instance_id = ?1",
    "DELETE FROM inbox WHERE instance_id = ?1",
    "DELETE FROM activities WHERE instance_id = ?1",
    "DELETE FROM instances WHERE instance_id = ?1",
};
// The executions finished before ?1; instances goes last so that the
// subquery still sees them while their dependent rows are deleted.
constexpr const char* kRemoveFinishedRows[] = {
    "DELETE FROM history WHERE (instance_id, execution_id) IN ("
    "SELECT instance_id, execution_id FROM instances "
    "WHERE state <> ?2 AND finished_at IS NOT NULL AND finished_at < ?1)",
    "DELETE FROM inbox WHERE (instance_id, execution_id) IN ("
    "SELECT instance_id, execution_id FROM instances "
    "WHERE state <> ?2 AND finished_at IS NOT NULL AND finished_at < ?1)",
    "DELETE FROM activities WHERE (instance_id, execution_id) IN ("
    "SELECT instance_id, execution_id FROM instances "
    "WHERE state <> ?2 AND finished_at IS NOT NULL AND finished_at < ?1)",
};
constexpr char kRemoveFinishedExecutions[] =
    "DELETE FROM instances WHERE state <> ?2 "
    "AND finished_at IS NOT NULL AND finished_at < ?1";

// The latest execution of each instance (no newer execution of the same
// instance exists), positioned strictly after the cursor (?1 = 0: from the
// start), newest first.
constexpr char kListInstances[] =
    "SELECT i.instance_id, i.execution_id, i.workflow_name, i.queue, "
    "i.state, i.created_at, i.finished_at, i.metadata, i.result, "
    "i.last_task_failure, i.seq FROM instances i WHERE NOT EXISTS ("
    "SELECT 1 FROM instances j WHERE j.instance_id = i.instance_id "
    "AND (j.created_at > i.created_at OR "
    "(j.created_at = i.created_at AND j.seq > i.seq))) "
    "AND (?1 = 0 OR i.created_at < ?2 OR "
    "(i.created_at = ?2 AND i.seq < ?3)) "
    "ORDER BY i.created_at DESC, i.seq DESC LIMIT ?4";

constexpr char kActiveInstances[] =
    "SELECT count(DISTINCT instance_id) FROM instances WHERE state = ?1";
constexpr char kPendingWorkflowTasks[] =
    "SELECT queue, count(*) FROM instances i WHERE state = ?1 "
    "AND EXISTS (SELECT 1 FROM inbox e WHERE e.instance_id = i.instance_id "
    "AND e.execution_id = i.execution_id AND e.visible_at <= ?2) "
    "GROUP BY queue";
constexpr char kPendingActivityTasks[] =
    "SELECT queue, count(*) FROM activities GROUP BY queue";

absl::Time ValueOr(const Statement& stmt, int column, absl::Time fallback) {
  return stmt.ColumnIsNull(column)
             ? fallback
             : core::FromUnixMicros(stmt.ColumnInt64(column));
}

// The row `stmt` is on as a state: its first columns are instance_id,
// execution_id, workflow_name, queue, state, created_at, finished_at,
// metadata, result, last_task_failure. DATA_LOSS when its result or last
// failure cannot be decoded.
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

bool ParseListCursor(absl::string_view cursor, int64_t* created_us,
                     int64_t* seq) {
  std::vector<absl::string_view> parts = absl::StrSplit(cursor, ':');
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], created_us) &&
         absl::SimpleAtoi(parts[1], seq);
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

RelationalStore::RelationalStore(Connection* connection)
    : connection_(connection),
      plan_executor_(connection),
      newest_execution_sql_(
          absl::StrCat(kNewestExecution, connection->dialect().for_update)),
      lease_and_length_sql_(
          absl::StrCat(kLeaseAndLength, connection->dialect().for_update)),
      execution_lease_sql_(
          absl::StrCat(kExecutionLease, connection->dialect().for_update)),
      record_worker_sql_(
          absl::StrCat("INSERT INTO workers (worker_id, last_seen, info) "
                       "VALUES (?1, ?2, ?3)",
                       connection->dialect().UpsertClause(
                           {"worker_id"}, {"last_seen", "info"}))) {}

std::vector<absl::string_view> RelationalStore::Statements() const {
  std::vector<absl::string_view> statements = plan_executor_.Statements();
  for (absl::string_view sql : std::initializer_list<absl::string_view>{
           kNewestState,
           kExecutions,
           absl::string_view(newest_execution_sql_),
           kHistoryAfter,
           kWorkflowDue,
           kActivityDue,
           kGrantWorkflowLease,
           kVisibleInbox,
           kGrantActivityLease,
           absl::string_view(lease_and_length_sql_),
           absl::string_view(execution_lease_sql_),
           kExtendWorkflowLease,
           kAbandonWorkflowTask,
           kExtendActivityLease,
           kRetryActivity,
           kDeleteLeasedActivity,
           kInstanceCounts,
           kRemoveFinishedExecutions,
           kListInstances,
           kActiveInstances,
           kPendingWorkflowTasks,
           kPendingActivityTasks,
           absl::string_view(record_worker_sql_),
           kRemoveWorker,
           kListWorkers,
       }) {
    statements.push_back(sql);
  }
  for (const char* sql : kRemoveInstance) statements.push_back(sql);
  for (const char* sql : kRemoveFinishedRows) statements.push_back(sql);
  return statements;
}

absl::StatusOr<v1::WorkflowInstanceState>
RelationalStore::GetWorkflowInstanceState(absl::string_view instance_id) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt, connection_->Prepare(kNewestState));
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
  DURABLE_ASSIGN_OR_RETURN(Statement stmt, connection_->Prepare(kExecutions));
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

absl::StatusOr<Statement> RelationalStore::PreparePick(const TaskPoll& poll,
                                                       bool lease,
                                                       int64_t now_us) {
  DURABLE_ASSIGN_OR_RETURN(
      Statement pick,
      connection_->Prepare(lease ? poll.lease_pick_sql() : poll.pick_sql()));
  pick.BindInt64(1, now_us);
  const std::vector<std::string>& values = poll.values();
  for (size_t i = 0; i < values.size(); ++i) {
    pick.BindText(static_cast<int>(i) + 2, values[i]);
  }
  return pick;
}

absl::StatusOr<absl::Time> RelationalStore::NextDue(TaskKind kind,
                                                    int64_t now_us) {
  DURABLE_ASSIGN_OR_RETURN(
      Statement due,
      connection_->Prepare(kind == TaskKind::kWorkflow ? kWorkflowDue
                                                       : kActivityDue));
  due.BindInt64(1, now_us);
  if (kind == TaskKind::kWorkflow) due.BindInt64(2, kActive);
  DURABLE_ASSIGN_OR_RETURN(bool row, due.Step());
  return row ? ValueOr(due, 0, absl::InfiniteFuture()) : absl::InfiniteFuture();
}

absl::StatusOr<bool> RelationalStore::FindTask(const TaskPoll& poll,
                                               absl::Time now,
                                               absl::Time* next_due) {
  const int64_t now_us = core::ToUnixMicros(now);
  {
    DURABLE_ASSIGN_OR_RETURN(Statement pick,
                             PreparePick(poll, /*lease=*/false, now_us));
    DURABLE_ASSIGN_OR_RETURN(bool found, pick.Step());
    if (found) return true;
  }
  DURABLE_ASSIGN_OR_RETURN(*next_due, NextDue(poll.kind(), now_us));
  return false;
}

absl::Status RelationalStore::LeaseTask(
    const TaskPoll& poll, absl::Time now, absl::Duration lease,
    absl::Time* next_due, std::optional<core::WorkflowTask>* out) {
  out->reset();
  if (poll.kind() != TaskKind::kWorkflow) {
    return absl::InternalError(
        "LeaseTask: an activity poll for a workflow task");
  }
  const int64_t now_us = core::ToUnixMicros(now);
  core::WorkflowTask task;
  {
    DURABLE_ASSIGN_OR_RETURN(Statement pick,
                             PreparePick(poll, /*lease=*/true, now_us));
    DURABLE_ASSIGN_OR_RETURN(bool found, pick.Step());
    if (!found) {
      DURABLE_ASSIGN_OR_RETURN(*next_due, NextDue(poll.kind(), now_us));
      return absl::OkStatus();
    }
    task.instance_id = pick.ColumnText(0);
    task.execution_id = pick.ColumnText(1);
    task.queue = pick.ColumnText(2);
    task.history_length = pick.ColumnInt64(3);
    task.metadata = ParseMetadata(pick.ColumnBlobView(4));
    task.workflow_name = pick.ColumnText(5);
    if (!pick.ColumnIsNull(6) &&
        !ParseBlob(pick.ColumnBlobView(6), &task.parent)) {
      // One bad row fails its own instance (core/storage/store.h), not the
      // poll.
      task.parent.Clear();
      task.damaged =
          absl::StrCat("the parent of workflow instance ",
                       Quoted(task.instance_id), " cannot be decoded");
    }
  }
  task.lease_token = core::NewUuid();
  {
    DURABLE_ASSIGN_OR_RETURN(Statement grant,
                             connection_->Prepare(kGrantWorkflowLease));
    DURABLE_RETURN_IF_ERROR(grant.BindText(1, task.lease_token)
                                .BindInt64(2, core::ToUnixMicros(now + lease))
                                .BindText(3, task.instance_id)
                                .BindText(4, task.execution_id)
                                .Run());
  }
  int64_t max_id = 0;
  {
    DURABLE_ASSIGN_OR_RETURN(Statement events,
                             connection_->Prepare(kVisibleInbox));
    events.BindText(1, task.instance_id)
        .BindText(2, task.execution_id)
        .BindInt64(3, now_us);
    while (true) {
      DURABLE_ASSIGN_OR_RETURN(bool row, events.Step());
      if (!row) break;
      max_id = events.ColumnInt64(0);
      v1::HistoryEvent& event = task.new_events.emplace_back();
      if (!ParseBlob(events.ColumnBlobView(1), &event)) {
        // Left out, and consumed with the task, which fails the instance.
        task.new_events.pop_back();
        if (task.damaged.empty()) {
          task.damaged = absl::StrCat("inbox of workflow instance ",
                                      Quoted(task.instance_id), ": entry ",
                                      max_id, " cannot be decoded");
        }
      }
    }
  }
  // Completion deletes exactly what was handed out (InboxCursor).
  task.inbox_cursor = FormatInboxCursor({max_id, now_us});
  *out = std::move(task);
  return absl::OkStatus();
}

absl::Status RelationalStore::LeaseTask(
    const TaskPoll& poll, absl::Time now, absl::Duration lease,
    absl::Time* next_due, std::optional<core::ActivityTask>* out) {
  out->reset();
  if (poll.kind() != TaskKind::kActivity) {
    return absl::InternalError(
        "LeaseTask: a workflow poll for an activity task");
  }
  const int64_t now_us = core::ToUnixMicros(now);
  core::ActivityTask task;
  int64_t row_id = 0;
  {
    DURABLE_ASSIGN_OR_RETURN(Statement pick,
                             PreparePick(poll, /*lease=*/true, now_us));
    DURABLE_ASSIGN_OR_RETURN(bool found, pick.Step());
    if (!found) {
      DURABLE_ASSIGN_OR_RETURN(*next_due, NextDue(poll.kind(), now_us));
      return absl::OkStatus();
    }
    row_id = pick.ColumnInt64(0);
    task.activity_id = pick.ColumnText(1);
    task.instance_id = pick.ColumnText(2);
    task.execution_id = pick.ColumnText(3);
    task.queue = pick.ColumnText(4);
    if (!ParseBlob(pick.ColumnBlobView(5), &task.scheduled_event)) {
      // Leased all the same, so the worker fails this one activity; the
      // other tasks of the queue are not held up (core/storage/store.h).
      task.scheduled_event.Clear();
      task.damaged = absl::StrCat(
          "activity task ", Quoted(task.activity_id), " of workflow instance ",
          Quoted(task.instance_id), ": its scheduled event cannot be decoded");
    }
    task.attempt = static_cast<int32_t>(pick.ColumnInt64(6));
    task.metadata = ParseMetadata(pick.ColumnBlobView(7));
    task.scheduled_at = core::FromUnixMicros(pick.ColumnInt64(8));
  }
  task.lease_token = core::NewUuid();
  {
    DURABLE_ASSIGN_OR_RETURN(Statement grant,
                             connection_->Prepare(kGrantActivityLease));
    DURABLE_RETURN_IF_ERROR(grant.BindText(1, task.lease_token)
                                .BindInt64(2, core::ToUnixMicros(now + lease))
                                .BindInt64(3, row_id)
                                .Run());
  }
  *out = std::move(task);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RelationalStore::LeasedHistoryLength(
    const core::WorkflowTask& task) {
  DURABLE_ASSIGN_OR_RETURN(Statement lease,
                           connection_->Prepare(lease_and_length_sql_));
  lease.BindText(1, task.instance_id).BindText(2, task.execution_id);
  DURABLE_ASSIGN_OR_RETURN(bool row, lease.Step());
  if (!row || lease.ColumnIsNull(0) ||
      lease.ColumnTextView(0) != task.lease_token) {
    return WorkflowLeaseLost(task);
  }
  return lease.ColumnInt64(1);
}

absl::StatusOr<std::optional<core::ExecutionLeaseState>>
RelationalStore::ExecutionLease(absl::string_view instance_id,
                                absl::string_view execution_id) {
  DURABLE_ASSIGN_OR_RETURN(Statement instance,
                           connection_->Prepare(execution_lease_sql_));
  instance.BindText(1, instance_id).BindText(2, execution_id);
  DURABLE_ASSIGN_OR_RETURN(bool row, instance.Step());
  std::optional<core::ExecutionLeaseState> execution;
  if (!row) return execution;
  execution.emplace();
  execution->state = static_cast<v1::WorkflowState>(instance.ColumnInt64(0));
  if (!instance.ColumnIsNull(1)) {
    execution->lease_expires_at = ValueOr(instance, 2, absl::InfiniteFuture());
  }
  execution->history_length = instance.ColumnInt64(3);
  return execution;
}

absl::Status RelationalStore::DeliverToNewestExecution(
    absl::string_view instance_id, const v1::HistoryEvent& event,
    absl::Time now) {
  std::string execution_id;
  {
    DURABLE_ASSIGN_OR_RETURN(Statement latest,
                             connection_->Prepare(newest_execution_sql_));
    latest.BindText(1, instance_id);
    DURABLE_ASSIGN_OR_RETURN(bool row, latest.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat(
          "workflow instance ", Quoted(instance_id), " not found"));
    }
    execution_id = latest.ColumnText(0);
    if (latest.ColumnInt64(1) != kActive) {
      return absl::NotFoundError(
          absl::StrCat("workflow instance ", Quoted(instance_id),
                       " is not active: its latest execution ",
                       Quoted(execution_id), " has finished"));
    }
  }
  return plan_executor_.InsertInbox(instance_id, execution_id, event, now);
}

absl::Status RelationalStore::RemoveInstance(absl::string_view instance_id) {
  {
    DURABLE_ASSIGN_OR_RETURN(Statement check,
                             connection_->Prepare(kInstanceCounts));
    check.BindText(1, instance_id).BindInt64(2, kActive);
    DURABLE_ASSIGN_OR_RETURN(bool row, check.Step());
    if (!row || check.ColumnInt64(0) == 0) {
      return absl::NotFoundError(absl::StrCat(
          "workflow instance ", Quoted(instance_id), " not found"));
    }
    if (check.ColumnInt64(1) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("workflow instance ", Quoted(instance_id),
                       " is not finished; only finished instances can be "
                       "removed"));
    }
  }
  for (const char* sql : kRemoveInstance) {
    DURABLE_ASSIGN_OR_RETURN(Statement remove, connection_->Prepare(sql));
    DURABLE_RETURN_IF_ERROR(remove.BindText(1, instance_id).Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RelationalStore::RemoveExecutionsFinishedBefore(
    absl::Time finished_before) {
  const int64_t before_us = core::ToUnixMicros(finished_before);
  for (const char* sql : kRemoveFinishedRows) {
    DURABLE_ASSIGN_OR_RETURN(Statement remove, connection_->Prepare(sql));
    DURABLE_RETURN_IF_ERROR(
        remove.BindInt64(1, before_us).BindInt64(2, kActive).Run());
  }
  DURABLE_ASSIGN_OR_RETURN(Statement remove,
                           connection_->Prepare(kRemoveFinishedExecutions));
  DURABLE_RETURN_IF_ERROR(
      remove.BindInt64(1, before_us).BindInt64(2, kActive).Run());
  return connection_->Changes();
}

absl::StatusOr<core::WorkflowInstancePage> RelationalStore::ListInstances(
    absl::string_view cursor, int page_size) {
  if (page_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ListWorkflowInstances needs a page size of at least 1, got ",
        page_size));
  }
  int64_t after_created_us = 0;
  int64_t after_seq = 0;
  if (!cursor.empty() &&
      !ParseListCursor(cursor, &after_created_us, &after_seq)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ListWorkflowInstances: malformed cursor ", Quoted(cursor)));
  }
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(kListInstances));
  stmt.BindInt64(1, cursor.empty() ? 0 : 1)
      .BindInt64(2, after_created_us)
      .BindInt64(3, after_seq)
      .BindInt64(4, page_size);
  core::WorkflowInstancePage page;
  int64_t last_created_us = 0;
  int64_t last_seq = 0;
  while (true) {
    DURABLE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    DURABLE_ASSIGN_OR_RETURN(v1::WorkflowInstanceState state,
                             StateFromRow(stmt));
    last_created_us = state.created_at_unix_us();
    last_seq = stmt.ColumnInt64(10);
    page.instances.push_back(std::move(state));
  }
  if (static_cast<int>(page.instances.size()) == page_size) {
    page.next_cursor = absl::StrCat(last_created_us, ":", last_seq);
  }
  return page;
}

absl::StatusOr<core::StoreStats> RelationalStore::GetStats(absl::Time now) {
  const int64_t now_us = core::ToUnixMicros(now);
  // One snapshot for all three counters.
  DURABLE_ASSIGN_OR_RETURN(
      Transaction txn,
      Transaction::Begin(connection_, Transaction::Mode::kRead));
  core::StoreStats stats;
  {
    DURABLE_ASSIGN_OR_RETURN(Statement active,
                             connection_->Prepare(kActiveInstances));
    active.BindInt64(1, kActive);
    DURABLE_ASSIGN_OR_RETURN(bool row, active.Step());
    if (row) stats.active_instances = active.ColumnInt64(0);
  }
  {
    DURABLE_ASSIGN_OR_RETURN(Statement workflow,
                             connection_->Prepare(kPendingWorkflowTasks));
    workflow.BindInt64(1, kActive).BindInt64(2, now_us);
    while (true) {
      DURABLE_ASSIGN_OR_RETURN(bool row, workflow.Step());
      if (!row) break;
      stats.pending_workflow_tasks[workflow.ColumnText(0)] =
          workflow.ColumnInt64(1);
    }
  }
  {
    DURABLE_ASSIGN_OR_RETURN(Statement activity,
                             connection_->Prepare(kPendingActivityTasks));
    while (true) {
      DURABLE_ASSIGN_OR_RETURN(bool row, activity.Step());
      if (!row) break;
      stats.pending_activity_tasks[activity.ColumnText(0)] =
          activity.ColumnInt64(1);
    }
  }
  DURABLE_RETURN_IF_ERROR(txn.Commit());
  return stats;
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
