// StoreCalls: what a SQL store does for the Store calls whose work is more
// than one RelationalStore query -- the completions and the blocking wait
// for a finished instance -- written once for every SQL store (SQLite,
// MySQL/MariaDB).
//
// A store keeps to itself how it runs them: which connection, which
// transaction (SQLite's group-commit savepoint, a MySQL pool connection's
// short transaction), retries and durability. The *In functions run inside
// the store's open write transaction on `relational`'s connection, never
// begin or end one, and take every time from `now`, which the store reads
// inside that transaction (eager leases and the fused step's lease check
// run from the write, core/storage/store.h). `*committed` is filled for the
// caller only once the store's transaction committed; a store retrying a
// transaction calls them again and they reset it first.
#ifndef DURABLE_BACKENDS_SQL_STORE_CALLS_H_
#define DURABLE_BACKENDS_SQL_STORE_CALLS_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/sql/relational_store.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/poll_loop.h"
#include "core/storage/store.h"

namespace durable::backends::sql {

// What Store::CompleteWorkflowTask checks before any write: the task's
// inbox cursor parses and the completion is well-formed (INVALID_ARGUMENT).
absl::Status CheckWorkflowTaskCompletion(
    const core::WorkflowTask& task,
    const core::WorkflowTaskCompletion& completion);

// Store::CompleteWorkflowTask's write: reads the lease and history length,
// plans the completion and executes it. `committed` may be null (no eager
// tasks wanted).
absl::Status CompleteWorkflowTaskIn(
    RelationalStore& relational, const core::WorkflowTask& task,
    const core::WorkflowTaskCompletion& completion, absl::Time now,
    core::WorkflowTaskCommitResult* committed);

// What Store::CompleteActivityWithWorkflowTask checks before any write
// (`result` not null, core::CheckFusedStep); resets `*result`.
absl::Status CheckFusedStep(const core::ActivityTask& activity,
                            const core::WorkflowTask& task,
                            const core::WorkflowTaskCompletion& completion,
                            core::WorkflowTaskCommitResult* result);

// Its write: deletes the leased activity row, then commits the plan or,
// when the workflow task is stale, delivers the activity result.
absl::Status CompleteFusedStepIn(RelationalStore& relational,
                                 const core::ActivityTask& activity,
                                 const v1::HistoryEvent& activity_result,
                                 const core::WorkflowTask& task,
                                 const core::WorkflowTaskCompletion& completion,
                                 absl::Time now,
                                 core::WorkflowTaskCommitResult* committed);

// Store::CompleteActivityTask's write: deletes the leased row and delivers
// the result.
absl::Status CompleteActivityTaskIn(RelationalStore& relational,
                                    const core::ActivityTask& task,
                                    const v1::HistoryEvent& result,
                                    absl::Time now);

// Store::WaitForWorkflowInstanceFinished on core::PollUntil: `get_state`
// reads the newest execution's state (and its errors end the wait).
absl::StatusOr<v1::WorkflowInstanceState> WaitForFinished(
    const core::PollLoopOptions& poll, const std::string& instance_id,
    absl::Time deadline,
    absl::FunctionRef<absl::StatusOr<v1::WorkflowInstanceState>()> get_state);

// Store::RecordWorker's argument check (INVALID_ARGUMENT without an id).
absl::Status CheckWorker(const v1::WorkerInfo& worker);

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_STORE_CALLS_H_
