// RelationalPlanExecutor: the primitives of core::PlanExecutor as SQL, written
// once for every SQL store (SQLite now; MySQL/MariaDB and PostgreSQL next).
//
// A store makes one per connection and uses it inside its write
// transaction for a plan (core::ExecutePlan, ExecuteDelivery,
// ExecuteInstanceCreation); every error it returns is the store's cue to
// roll that transaction back. Each primitive writes what the plan says and
// decides nothing (core/storage/completion_plan.h says what each must do).
//
// Contract with the store:
//   - The schema is the durable relational schema (see backends/sqlite's
//     migrations): tables instances, history, inbox (with an autoincrement
//     `id`, whose order is delivery order, and `event_key`) and activities.
//   - Statements are neutral SQL (dialect.h) and contain nothing a dialect
//     reads differently, so they run unchanged on every dialect; each one is
//     prepared through Connection::Prepare, hence compiled once per
//     connection and cached. The texts are fixed when the executor is made:
//     executing a plan builds no SQL.
//   - instances.seq increases in insertion order (a server schema declares
//     it auto-increment; in SQLite it is the rowid): it orders an
//     instance's executions created in the same microsecond, a tie that
//     only matters if two executions were ever active at once.
//   - The connection is not thread-safe; the store serializes use of the
//     executor as it does its connection.
//
// The inbox cursor (WorkflowTask::inbox_cursor) and the metadata encoding
// are defined here because the executor reads and writes them and the
// store's polls produce and parse them.
#ifndef DURABLE_BACKENDS_SQL_RELATIONAL_PLAN_EXECUTOR_H_
#define DURABLE_BACKENDS_SQL_RELATIONAL_PLAN_EXECUTOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/sql/connection.h"
#include "core/proto/history.pb.h"
#include "core/storage/completion_plan.h"

namespace durable::backends::sql {

// Which inbox entries a leased workflow task consumes on completion: ids up
// to `max_id` that were visible when it was taken. Its text form, the
// task's inbox_cursor, is "<max_id>:<taken_at_us>"; inbox ids increase
// monotonically (autoincrement), so "id <= max_id and visible at taken_at"
// is exactly the set the task was handed.
struct InboxCursor {
  int64_t max_id = 0;
  int64_t taken_at_us = 0;
};
bool ParseInboxCursor(absl::string_view text, InboxCursor* cursor);
std::string FormatInboxCursor(const InboxCursor& cursor);

// Metadata is stored as a WorkflowExecutionStarted holding only `metadata`,
// which reuses the proto's map encoding instead of inventing one.
std::string SerializeMetadata(const std::map<std::string, std::string>& m);
std::map<std::string, std::string> ParseMetadata(absl::string_view blob);

class RelationalPlanExecutor final : public core::PlanExecutor {
 public:
  // `connection` must outlive the executor.
  explicit RelationalPlanExecutor(Connection* connection);

  RelationalPlanExecutor(const RelationalPlanExecutor&) = delete;
  RelationalPlanExecutor& operator=(const RelationalPlanExecutor&) = delete;

  absl::Status AppendHistory(
      const core::ExecutionKey& execution,
      absl::Span<const v1::HistoryEvent> events) override;
  absl::Status ConsumeInbox(const core::ExecutionKey& execution,
                            absl::string_view cursor) override;
  absl::Status WithdrawKeyedEvents(const core::ExecutionKey& execution,
                                   absl::Span<const std::string> keys) override;
  absl::Status EnqueueActivity(const core::ExecutionKey& execution,
                               const core::PlannedActivity& activity,
                               absl::Time now,
                               absl::Time eager_lease_expires_at) override;
  absl::Status UpdateExecution(const core::ExecutionKey& execution,
                               const core::ExecutionUpdate& update) override;
  absl::StatusOr<core::StartOutcome> StartExecution(
      const core::ExecutionStart& start) override;
  absl::StatusOr<bool> Deliver(const core::Delivery& delivery) override;
  absl::Status SettleEndedInbox(
      const core::ExecutionKey& execution,
      const core::InboxSettlement& settlement) override;
  absl::Status DropPreviousExecutions(absl::string_view instance_id) override;

  // Also used by the store outside plans (signals from clients).
  // The execution id of the instance's newest active execution, if any.
  absl::StatusOr<std::optional<std::string>> ActiveExecution(
      absl::string_view instance_id);
  // Queues `event` for the execution, visible from `visible_at`, under
  // `key` (empty: no key).
  absl::Status InsertInbox(absl::string_view instance_id,
                           absl::string_view execution_id,
                           const v1::HistoryEvent& event, absl::Time visible_at,
                           absl::string_view key = "");

  // Every statement text the executor prepares, for tests that render them
  // in each dialect.
  std::vector<absl::string_view> Statements() const;

 private:
  Connection* const connection_;
  // The newest active execution, with the dialect's row lock
  // (Dialect::for_update): an event delivered to it serializes with a
  // completion ending it.
  const std::string active_execution_sql_;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_RELATIONAL_PLAN_EXECUTOR_H_
