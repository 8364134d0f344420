#include "backends/sql/relational_plan_executor.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/sql/statement.h"
#include "backends/sql/status_macros.h"
#include "core/time_util.h"

namespace durable::backends::sql {
namespace {

constexpr int64_t kActive = v1::WORKFLOW_STATE_ACTIVE;

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// The statements, in the neutral form (dialect.h).
constexpr char kInsertHistory[] =
    "INSERT INTO history (instance_id, execution_id, event_id, event) "
    "VALUES (?1, ?2, ?3, ?4)";
constexpr char kConsumeInbox[] =
    "DELETE FROM inbox WHERE instance_id = ?1 AND execution_id = ?2 "
    "AND id <= ?3 AND visible_at <= ?4";
constexpr char kWithdrawKeyed[] =
    "DELETE FROM inbox WHERE instance_id = ?1 AND execution_id = ?2 "
    "AND event_key = ?3";
constexpr char kInsertActivity[] =
    "INSERT INTO activities (activity_id, instance_id, execution_id, queue, "
    "scheduled_event, attempt, metadata, scheduled_at, visible_at, "
    "lease_token, lease_expires_at, activity_name) "
    "VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?7, ?8, ?9, ?10)";
constexpr char kUpdateExecution[] =
    "UPDATE instances SET state = ?1, finished_at = ?2, result = ?3, "
    "history_length = ?4, lease_token = NULL, lease_expires_at = NULL, "
    "last_task_failure = NULL, ready_at = 0 "
    "WHERE instance_id = ?5 AND execution_id = ?6";
constexpr char kExecutionExists[] =
    "SELECT 1 FROM instances WHERE instance_id = ?1 AND execution_id = ?2";
constexpr char kInsertExecution[] =
    "INSERT INTO instances (instance_id, execution_id, workflow_name, queue, "
    "state, created_at, metadata, ready_at, history_length, parent) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, ?8)";
// The newest active execution; seq breaks ties within a microsecond.
constexpr char kActiveExecution[] =
    "SELECT execution_id FROM instances WHERE instance_id = ?1 "
    "AND state = ?2 ORDER BY created_at DESC, seq DESC LIMIT 1";
constexpr char kExecutionState[] =
    "SELECT state FROM instances WHERE instance_id = ?1 AND execution_id = ?2";
// NULLIF: an empty key is stored as NULL, which the partial index on
// event_key skips.
constexpr char kInsertInbox[] =
    "INSERT INTO inbox (instance_id, execution_id, event, visible_at, "
    "event_key) VALUES (?1, ?2, ?3, ?4, NULLIF(?5, ''))";
constexpr char kInboxLeft[] =
    "SELECT event, visible_at FROM inbox WHERE instance_id = ?1 "
    "AND execution_id = ?2 ORDER BY id";
constexpr char kDeleteInbox[] =
    "DELETE FROM inbox WHERE instance_id = ?1 AND execution_id = ?2";
// DropPreviousExecutions, in this order: instances goes last, so the
// subqueries still see what the other tables keep. The instances row itself
// is matched by its own state: a subquery on the table a DELETE targets is
// refused by MySQL (error 1093), and (instance_id, execution_id) being the
// key, "not an active execution" is "not active".
constexpr const char* kDropPrevious[] = {
    "DELETE FROM history WHERE instance_id = ?1 AND execution_id NOT IN "
    "(SELECT execution_id FROM instances WHERE instance_id = ?1 "
    "AND state = ?2)",
    "DELETE FROM inbox WHERE instance_id = ?1 AND execution_id NOT IN "
    "(SELECT execution_id FROM instances WHERE instance_id = ?1 "
    "AND state = ?2)",
    "DELETE FROM activities WHERE instance_id = ?1 AND execution_id NOT IN "
    "(SELECT execution_id FROM instances WHERE instance_id = ?1 "
    "AND state = ?2)",
    "DELETE FROM instances WHERE instance_id = ?1 AND state <> ?2",
};

}  // namespace

bool ParseInboxCursor(absl::string_view text, InboxCursor* cursor) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits(':', 1));
  return absl::SimpleAtoi(parts.first, &cursor->max_id) &&
         absl::SimpleAtoi(parts.second, &cursor->taken_at_us);
}

std::string FormatInboxCursor(const InboxCursor& cursor) {
  return absl::StrCat(cursor.max_id, ":", cursor.taken_at_us);
}

std::string SerializeMetadata(const std::map<std::string, std::string>& m) {
  v1::WorkflowExecutionStarted holder;
  holder.mutable_metadata()->insert(m.begin(), m.end());
  return holder.SerializeAsString();
}

std::map<std::string, std::string> ParseMetadata(absl::string_view blob) {
  v1::WorkflowExecutionStarted holder;
  holder.ParseFromArray(blob.data(), static_cast<int>(blob.size()));
  return {holder.metadata().begin(), holder.metadata().end()};
}

RelationalPlanExecutor::RelationalPlanExecutor(Connection* connection)
    : connection_(connection),
      active_execution_sql_(
          absl::StrCat(kActiveExecution, connection->dialect().for_update)) {}

std::vector<absl::string_view> RelationalPlanExecutor::Statements() const {
  std::vector<absl::string_view> statements = {
      kInsertHistory,   kConsumeInbox,
      kWithdrawKeyed,   kInsertActivity,
      kUpdateExecution, kExecutionExists,
      kInsertExecution, kExecutionState,
      kInsertInbox,     kInboxLeft,
      kDeleteInbox,     absl::string_view(active_execution_sql_)};
  for (const char* drop : kDropPrevious) statements.push_back(drop);
  return statements;
}

absl::Status RelationalPlanExecutor::AppendHistory(
    const core::ExecutionKey& execution,
    absl::Span<const v1::HistoryEvent> events) {
  for (const v1::HistoryEvent& event : events) {
    DURABLE_ASSIGN_OR_RETURN(Statement insert,
                             connection_->Prepare(kInsertHistory));
    DURABLE_RETURN_IF_ERROR(insert.BindText(1, execution.instance_id)
                                .BindText(2, execution.execution_id)
                                .BindInt64(3, event.id())
                                .BindBlob(4, event.SerializeAsString())
                                .Run());
  }
  return absl::OkStatus();
}

absl::Status RelationalPlanExecutor::ConsumeInbox(
    const core::ExecutionKey& execution, absl::string_view cursor) {
  InboxCursor consume;
  if (!ParseInboxCursor(cursor, &consume)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "workflow task for instance ", Quoted(execution.instance_id),
        " has a malformed inbox cursor ", Quoted(cursor)));
  }
  DURABLE_ASSIGN_OR_RETURN(Statement remove,
                           connection_->Prepare(kConsumeInbox));
  return remove.BindText(1, execution.instance_id)
      .BindText(2, execution.execution_id)
      .BindInt64(3, consume.max_id)
      .BindInt64(4, consume.taken_at_us)
      .Run();
}

absl::Status RelationalPlanExecutor::WithdrawKeyedEvents(
    const core::ExecutionKey& execution, absl::Span<const std::string> keys) {
  for (const std::string& key : keys) {
    DURABLE_ASSIGN_OR_RETURN(Statement withdraw,
                             connection_->Prepare(kWithdrawKeyed));
    DURABLE_RETURN_IF_ERROR(withdraw.BindText(1, execution.instance_id)
                                .BindText(2, execution.execution_id)
                                .BindText(3, key)
                                .Run());
  }
  return absl::OkStatus();
}

absl::Status RelationalPlanExecutor::EnqueueActivity(
    const core::ExecutionKey& execution, const core::PlannedActivity& activity,
    absl::Time now, absl::Time eager_lease_expires_at) {
  const core::ActivityTaskSpec& spec = *activity.spec;
  DURABLE_ASSIGN_OR_RETURN(Statement insert,
                           connection_->Prepare(kInsertActivity));
  insert.BindText(1, activity.activity_id)
      .BindText(2, execution.instance_id)
      .BindText(3, execution.execution_id)
      .BindText(4, activity.queue)
      .BindBlob(5, spec.scheduled_event.SerializeAsString())
      .BindBlob(6, SerializeMetadata(spec.metadata))
      .BindInt64(7, core::ToUnixMicros(now))
      .BindText(10, spec.scheduled_event.activity_scheduled().activity_name());
  if (activity.lease_token.empty()) {
    insert.BindNull(8).BindNull(9);
  } else {
    insert.BindText(8, activity.lease_token)
        .BindInt64(9, core::ToUnixMicros(eager_lease_expires_at));
  }
  return insert.Run();
}

absl::Status RelationalPlanExecutor::UpdateExecution(
    const core::ExecutionKey& execution, const core::ExecutionUpdate& update) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(kUpdateExecution));
  stmt.BindInt64(1, update.state);
  if (update.finished_at.has_value()) {
    stmt.BindInt64(2, core::ToUnixMicros(*update.finished_at));
  } else {
    stmt.BindNull(2);
  }
  if (update.result != nullptr) {
    stmt.BindBlob(3, update.result->SerializeAsString());
  } else {
    stmt.BindNull(3);
  }
  return stmt.BindInt64(4, update.history_length)
      .BindText(5, execution.instance_id)
      .BindText(6, execution.execution_id)
      .Run();
}

absl::StatusOr<core::StartOutcome> RelationalPlanExecutor::StartExecution(
    const core::ExecutionStart& start) {
  DURABLE_ASSIGN_OR_RETURN(std::optional<std::string> active,
                           ActiveExecution(start.instance_id));
  if (active.has_value()) {
    return *active == start.execution_id ? core::StartOutcome::kAlreadyActive
                                         : core::StartOutcome::kOtherActive;
  }
  {
    DURABLE_ASSIGN_OR_RETURN(Statement exists,
                             connection_->Prepare(kExecutionExists));
    exists.BindText(1, start.instance_id).BindText(2, start.execution_id);
    DURABLE_ASSIGN_OR_RETURN(bool row, exists.Step());
    if (row) return core::StartOutcome::kExecutionExists;
  }
  const v1::WorkflowExecutionStarted& attributes = start.attributes();
  std::map<std::string, std::string> metadata(attributes.metadata().begin(),
                                              attributes.metadata().end());
  DURABLE_ASSIGN_OR_RETURN(Statement insert,
                           connection_->Prepare(kInsertExecution));
  insert.BindText(1, start.instance_id)
      .BindText(2, start.execution_id)
      .BindText(3, attributes.workflow_name())
      .BindText(4, attributes.queue())
      .BindInt64(5, kActive)
      .BindInt64(6, core::ToUnixMicros(start.created_at))
      .BindBlob(7, SerializeMetadata(metadata));
  // Kept apart from the history, which may become unreadable: a child the
  // engine fails must still reach its parent.
  if (attributes.parent().instance_id().empty()) {
    insert.BindNull(8);
  } else {
    insert.BindBlob(8, attributes.parent().SerializeAsString());
  }
  DURABLE_RETURN_IF_ERROR(insert.Run());
  DURABLE_RETURN_IF_ERROR(InsertInbox(start.instance_id, start.execution_id,
                                      start.started(), start.visible_at));
  return core::StartOutcome::kStarted;
}

absl::StatusOr<bool> RelationalPlanExecutor::Deliver(
    const core::Delivery& delivery) {
  std::string current;
  absl::string_view execution_id = delivery.execution_id;
  bool active = false;
  if (execution_id.empty()) {
    DURABLE_ASSIGN_OR_RETURN(std::optional<std::string> newest,
                             ActiveExecution(delivery.instance_id));
    if (newest.has_value()) {
      current = *std::move(newest);
      execution_id = current;
      active = true;
    }
  } else {
    DURABLE_ASSIGN_OR_RETURN(Statement state,
                             connection_->Prepare(kExecutionState));
    state.BindText(1, delivery.instance_id).BindText(2, execution_id);
    DURABLE_ASSIGN_OR_RETURN(bool row, state.Step());
    active = row && state.ColumnInt64(0) == kActive;
  }
  if (!active) return false;
  DURABLE_RETURN_IF_ERROR(InsertInbox(delivery.instance_id, execution_id,
                                      *delivery.event, delivery.visible_at,
                                      delivery.key));
  return true;
}

absl::Status RelationalPlanExecutor::SettleEndedInbox(
    const core::ExecutionKey& execution,
    const core::InboxSettlement& settlement) {
  if (!settlement.next_execution_id.empty()) {
    // Read everything first: the inserts below must not be seen by this
    // scan.
    std::vector<std::pair<v1::HistoryEvent, int64_t>> carried;
    {
      DURABLE_ASSIGN_OR_RETURN(Statement left,
                               connection_->Prepare(kInboxLeft));
      left.BindText(1, execution.instance_id)
          .BindText(2, execution.execution_id);
      while (true) {
        DURABLE_ASSIGN_OR_RETURN(bool row, left.Step());
        if (!row) break;
        v1::HistoryEvent event;
        // An entry that cannot be decoded cannot be judged either; it is
        // deleted with the rest.
        const absl::string_view blob = left.ColumnBlobView(0);
        if (event.ParseFromArray(blob.data(), static_cast<int>(blob.size())) &&
            settlement.carries_over(event)) {
          carried.emplace_back(std::move(event), left.ColumnInt64(1));
        }
      }
    }
    for (const auto& [event, visible_at_us] : carried) {
      DURABLE_RETURN_IF_ERROR(InsertInbox(execution.instance_id,
                                          settlement.next_execution_id, event,
                                          core::FromUnixMicros(visible_at_us)));
    }
  }
  DURABLE_ASSIGN_OR_RETURN(Statement remove,
                           connection_->Prepare(kDeleteInbox));
  return remove.BindText(1, execution.instance_id)
      .BindText(2, execution.execution_id)
      .Run();
}

absl::Status RelationalPlanExecutor::DropPreviousExecutions(
    absl::string_view instance_id) {
  for (const char* sql : kDropPrevious) {
    DURABLE_ASSIGN_OR_RETURN(Statement remove, connection_->Prepare(sql));
    DURABLE_RETURN_IF_ERROR(
        remove.BindText(1, instance_id).BindInt64(2, kActive).Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>>
RelationalPlanExecutor::ActiveExecution(absl::string_view instance_id) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt,
                           connection_->Prepare(active_execution_sql_));
  stmt.BindText(1, instance_id).BindInt64(2, kActive);
  DURABLE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

absl::Status RelationalPlanExecutor::InsertInbox(absl::string_view instance_id,
                                                 absl::string_view execution_id,
                                                 const v1::HistoryEvent& event,
                                                 absl::Time visible_at,
                                                 absl::string_view key) {
  DURABLE_ASSIGN_OR_RETURN(Statement stmt, connection_->Prepare(kInsertInbox));
  return stmt.BindText(1, instance_id)
      .BindText(2, execution_id)
      .BindBlob(3, event.SerializeAsString())
      .BindInt64(4, core::ToUnixMicros(visible_at))
      .BindText(5, key)
      .Run();
}

}  // namespace durable::backends::sql
