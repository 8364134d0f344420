// TaskPoll: the question one poll asks a SQL store -- the first ready task
// of one kind (workflow or activity) in some queues that a worker's
// core::TaskNameFilter lets it run -- as neutral SQL (dialect.h) and the
// values it binds.
//
// The pick query binds the current time (Unix microseconds) as ?1 and
// values()[k] as ?(k+2): the polled queues, then the texts of the name
// condition. Its text depends only on the number of queues and the shape of
// the filter, so Connection::Prepare's cache holds one entry per distinct
// shape, not one per poll. An unrestricted filter adds nothing to it.
//
// Columns, in order:
//   workflow: instance_id, execution_id, queue, history_length, metadata,
//             workflow_name, parent
//   activity: id, activity_id, instance_id, execution_id, queue,
//             scheduled_event, attempt, metadata, scheduled_at
#ifndef DURABLE_BACKENDS_SQL_TASK_POLL_H_
#define DURABLE_BACKENDS_SQL_TASK_POLL_H_

#include <string>
#include <vector>

#include "backends/sql/dialect.h"
#include "core/storage/store.h"

namespace durable::backends::sql {

enum class TaskKind { kWorkflow, kActivity };

class TaskPoll {
 public:
  // `queues`: the queues polled (core::PolledQueues), at least one.
  TaskPoll(TaskKind kind, const std::vector<std::string>& queues,
           const core::TaskNameFilter& names, const Dialect& dialect);

  TaskKind kind() const { return kind_; }
  // Looks without locking: a store's probe, or a database without row
  // locks.
  const std::string& pick_sql() const { return pick_sql_; }
  // pick_sql() with the dialect's row lock (Dialect::skip_locked), for the
  // pick that leases in a write transaction: concurrent pollers skip each
  // other's candidates. Equal to pick_sql() on SQLite.
  const std::string& lease_pick_sql() const { return lease_pick_sql_; }
  // Bound from ?2 on, in order.
  const std::vector<std::string>& values() const { return values_; }
  // Equal for two polls exactly when they ask the same question (kind,
  // queues, filter): a store may reuse an empty answer under it.
  const std::string& key() const { return key_; }

 private:
  TaskKind kind_;
  std::string pick_sql_;
  std::string lease_pick_sql_;
  std::vector<std::string> values_;
  std::string key_;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_TASK_POLL_H_
