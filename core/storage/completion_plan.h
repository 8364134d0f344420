// Completion plans: the engine's rules for committing a workflow task, in
// one place, so that every store commits the same rows.
//
// A store does not interpret a WorkflowTaskCompletion. Inside the
// transaction that commits it, once it has checked that it may (the lease,
// or FusedStepMayCommit), it reads what only it knows -- the execution's
// history length and the time (its Clock, read inside the transaction, so
// eager leases run from their grant) -- and asks PlanCompletion for a
// CompletionPlan: the completion validated and turned into primitive
// mutations with every engine decision taken (event numbering, activity ids
// and queues, eager leases, finish time, execution ids of new executions,
// the parent's failure event for a refused sub-workflow start, the delivery
// order). ExecutePlan then runs the plan against the store's PlanExecutor,
// whose primitives are mechanical: each writes what it is given, and the two
// conditional ones (StartExecution, Deliver) only report what they found.
// A store that returns an error from any primitive has its whole commit
// rolled back (the plan runs inside one transaction, one Lua script, ...).
//
// The order of a plan, fixed here (ExecutePlan), and why:
//   1. AppendHistory: the executed events, numbered history_length + 1,
//      + 2, ... (PlanCompletion refuses anything else with
//      INVALID_ARGUMENT naming the instance and the event, before a store
//      writes anything).
//   2. ConsumeInbox: the inbox entries the task was handed (its cursor), so
//      that step 7 sees only events that arrived while the task was in
//      flight. Skipped by the fused step, which was handed nothing.
//   3. WithdrawKeyedEvents: pending events of this execution the task
//      withdrew (a canceled timer's TimerFired). Before anything is
//      delivered, so a withdrawal only ever removes events that were
//      pending when the task ran, never one this plan delivers.
//   4. EnqueueActivity, in the completion's order: final ids
//      (ActivityIdFor), final queues (ActivityQueueFor), the first ones
//      leased to the caller when it takes eager activities.
//   5. UpdateExecution: state, result, finish time, new history length,
//      lease released. Before the outbound steps, so that a continue-as-new
//      (whose execution is no longer active) can start the next execution
//      of its own instance, and an answer addressed to an execution that
//      this task ended is dropped.
//   6. Outbound steps: first every ExecutionStart (sub-workflows, sub-workflow
//   retries,
//      the next execution of a continue-as-new), then every other Delivery
//      (timers, signals, cancellations, results for a parent), each group
//      in the completion's order. Executions therefore exist before events
//      addressed to them are delivered, whichever command came first in the
//      task: a signal to a sub-workflow started by the same task reaches it.
//   7. SettleEndedInbox (when the execution ended): carry the events that
//      arrived in flight and CarriesOverToNextExecution accepts to the next
//      execution -- after step 6, so they queue behind its
//      WorkflowExecutionStarted and everything else this plan gave it --
//      and delete the rest, which nobody could consume.
//   8. DropPreviousExecutions (continue-as-new with
//      remove_previous_executions): last, when the next execution is the
//      instance's active one and every other execution, this one included
//      (with the activity rows of step 4), can go.
// Then the caller's WorkflowTaskCommitResult is filled from the plan: what
// committed, and the eager activities exactly as GetActivityTask would
// have handed them out.
//
// PlanCompletion is pure: no I/O, no clock (it gets `now`), ids from the
// generator in PlanInputs. A plan borrows from the task and the completion
// it was made from (it copies no history event, except a started event
// that needs its queue or id normalized), so both must outlive it.
#ifndef DURABLE_CORE_STORAGE_COMPLETION_PLAN_H_
#define DURABLE_CORE_STORAGE_COMPLETION_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"
#include "core/uuid.h"

namespace durable::core {

// One execution of one instance.
struct ExecutionKey {
  absl::string_view instance_id;
  absl::string_view execution_id;
};

// One event for the inbox of an instance: an outbound event of a
// completion, an activity's result, the answer to a signal, a parent's
// notice that its sub-workflow could not start.
//
// The store primitive (PlanExecutor::Deliver) is conditional: the target
// is execution `execution_id` of `instance_id` when that execution is
// active, or, with an empty execution_id, the instance's newest active
// execution. With a target, the event goes into its inbox, visible at
// `visible_at`, under `key`, and Deliver returns true; without one (the
// instance is unknown, or the execution ended) the event is dropped --
// like an activity result for an ended execution -- and Deliver returns
// false. ExecuteDelivery then delivers the matching answer of `reply`.
struct Delivery {
  absl::string_view instance_id;
  // Empty: the instance's newest active execution.
  absl::string_view execution_id;
  // Never null; stored as given (inbox events have id 0).
  const v1::HistoryEvent* event = nullptr;
  // Resolved: never InfinitePast().
  absl::Time visible_at;
  // Empty: none (see OutboundEvent::key).
  absl::string_view key;
  // The sender waits for an answer (OutboundEvent::Reply); null if not.
  const OutboundEvent::Reply* reply = nullptr;
};

// `outbound` as a Delivery; an immediate one (visible_at InfinitePast()) is
// visible at `now`. Borrows from `outbound`.
Delivery DeliveryOf(const OutboundEvent& outbound, absl::Time now);

// The answer of `reply` for its sender: `delivered` or `not_delivered`,
// visible at `now`, to the execution named by the reply (dropped in turn
// when that one is no longer active).
Delivery ReplyDelivery(const OutboundEvent::Reply& reply, bool delivered,
                       absl::Time now);

// An activity's result (ActivityCompleted or ActivityFailed) for the inbox of
// the execution that scheduled it, visible at `now`: what
// CompleteActivityTask delivers, and the fused step when it may not commit
// its workflow task. Dropped when the execution is no longer active.
// Borrows from `task` and `result`.
Delivery ActivityResultDelivery(const ActivityTask& task,
                                const v1::HistoryEvent& result, absl::Time now);

// A new execution of an instance: a sub-workflow, a sub-workflow's retry, the
// next execution of a continue-as-new (plan step 6), or the first execution of
// an instance (CreateWorkflowInstance).
//
// The store primitive (PlanExecutor::StartExecution) is conditional:
//   - if an execution of the instance is active: nothing is written, and it
//     reports kAlreadyActive when that is this very execution (its start
//     was committed before), kOtherActive otherwise;
//   - else, if an (ended) execution with this id exists: nothing is
//     written; kExecutionExists;
//   - else it creates the execution -- ACTIVE, created at `created_at`,
//     with the workflow name, queue, parent and metadata of
//     attributes() -- puts started() in its inbox, visible at `visible_at`,
//     and reports kStarted.
// A refused start of a sub-workflow (kOtherActive, kExecutionExists) delivers
// `refused_notice` to the parent instead (ExecutePlan does).
struct ExecutionStart {
  absl::string_view instance_id;
  // Never empty: PlanCompletion assigns one when the event names none.
  std::string execution_id;
  absl::Time created_at;
  absl::Time visible_at;
  // The parent's SubWorkflowFailed (type "InstanceAlreadyExists"), built by
  // core (FailureForParent), for a refused start; nullopt when the new
  // execution has no parent.
  std::optional<OutboundEvent> refused_notice;

  // The WorkflowExecutionStarted event as the inbox keeps it: id 0, queue
  // never empty (kDefaultQueue when the event named none).
  const v1::HistoryEvent& started() const {
    return normalized_.has_value() ? *normalized_ : *event_;
  }
  const v1::WorkflowExecutionStarted& attributes() const {
    return started().workflow_execution_started();
  }

  // Points at `event` (which must outlive this) unless it needs
  // normalizing, in which case a normalized copy is kept.
  void SetStarted(const v1::HistoryEvent& event);

 private:
  const v1::HistoryEvent* event_ = nullptr;
  std::optional<v1::HistoryEvent> normalized_;
};

// What PlanExecutor::StartExecution found (see ExecutionStart).
enum class StartOutcome {
  kStarted,
  kAlreadyActive,
  kOtherActive,
  kExecutionExists,
};

// An activity task to insert (plan step 4): attempt 0, scheduled and
// visible at the plan's `now`, with `spec->metadata`. A non-empty
// `lease_token` inserts it already leased to the committing caller, until
// the plan's eager_lease_expires_at, so no poller sees it meanwhile.
struct PlannedActivity {
  const ActivityTaskSpec* spec = nullptr;
  // ActivityIdFor(execution, scheduled event id).
  std::string activity_id;
  // ActivityQueueFor(spec, the workflow's queue): never empty.
  absl::string_view queue;
  // Empty: not leased (queued for pollers).
  std::string lease_token;
};

// The execution's own row after the task (plan step 5). The primitive also
// releases the workflow task's lease (an expired one too, whose holder
// then gets ABORTED), clears the last task failure and ends a pending
// retry delay (AbandonWorkflowTask).
struct ExecutionUpdate {
  v1::WorkflowState state = v1::WORKFLOW_STATE_ACTIVE;
  // Set exactly when `state` is not ACTIVE: the completion's completed_at,
  // or the plan's `now` when that is UnixEpoch().
  std::optional<absl::Time> finished_at;
  // Null: none.
  const v1::WorkflowResult* result = nullptr;
  // The history length after step 1.
  int64_t history_length = 0;
};

// The inbox of an execution that ended (plan step 7): every entry left
// (neither consumed nor withdrawn) for which `carries_over` holds moves to
// execution `next_execution_id` of the same instance, in arrival order,
// keeping its visibility time; an empty next_execution_id carries nothing.
// Then every entry left is deleted. An entry the store cannot decode cannot
// be judged, and is deleted.
struct InboxSettlement {
  absl::string_view next_execution_id;
  bool (*carries_over)(const v1::HistoryEvent&) = &CarriesOverToNextExecution;
};

using OutboundStep = std::variant<ExecutionStart, Delivery>;

// A validated workflow-task completion as primitive mutations, in the order
// ExecutePlan runs them (see the top of this file).
struct CompletionPlan {
  // The execution the task ran (the task's).
  ExecutionKey execution;
  // The store's time, read inside the committing transaction.
  absl::Time now;

  // 1. Numbered history_length + 1, + 2, ...
  absl::Span<const v1::HistoryEvent> history;
  // 2. The task's inbox cursor (store-private format); nullopt: the inbox
  //    is left alone (the fused step).
  std::optional<absl::string_view> consume_inbox;
  // 3. Keys of pending events of this execution to delete; unknown keys are
  //    fine.
  absl::Span<const std::string> withdrawn_keys;
  // 4. In the completion's order; the eager ones (lease_token set) first.
  std::vector<PlannedActivity> activities;
  absl::Time eager_lease_expires_at;
  // 5.
  ExecutionUpdate update;
  // 6. Starts first, then the other deliveries, each in completion order.
  std::vector<OutboundStep> outbound;
  // 7. Set when the execution ended.
  std::optional<InboxSettlement> settle_inbox;
  // 8. Delete every execution of the instance that is not active once the
  //    steps above ran (this one included, with its activity rows).
  bool drop_previous_executions = false;
};

// What only the store knows when it commits (read inside the transaction).
struct PlanInputs {
  // The execution's history length as stored.
  int64_t history_length = 0;
  // The store's Clock.
  absl::Time now;
  // Whether the caller takes eagerly leased activities (it passed a
  // WorkflowTaskCommitResult); without, nothing is leased eagerly.
  bool eager_wanted = false;
  // Whether the task consumes the inbox entries of its cursor (false for
  // the fused step, which was handed none).
  bool consume_inbox = true;
  // Mints execution ids and lease tokens; tests pass their own.
  std::string (*new_id)() = &NewUuid;
};

// The checks of a completion that need nothing from the store: a state is
// set. INVALID_ARGUMENT naming the instance. Stores call it before they
// queue a write, so a malformed completion costs no transaction;
// PlanCompletion repeats it.
absl::Status CheckCompletion(const WorkflowTask& task,
                             const WorkflowTaskCompletion& completion);

// The plan of `completion` of `task` (see the top of this file), or
// INVALID_ARGUMENT naming the instance and what is wrong (CheckCompletion;
// an executed event not numbered inputs.history_length + 1, + 2, ...).
// Eager activities: the first completion.eager_activities (clamped to the
// number of activities) when inputs.eager_wanted, none when the plan drops
// previous executions (their rows go with this execution in step 8).
absl::StatusOr<CompletionPlan> PlanCompletion(
    const WorkflowTask& task, const WorkflowTaskCompletion& completion,
    const PlanInputs& inputs);
// A plan borrows from its task and completion: temporaries would leave it
// dangling as soon as the call's statement ends, so they do not compile.
absl::StatusOr<CompletionPlan> PlanCompletion(
    WorkflowTask&& task, const WorkflowTaskCompletion& completion,
    const PlanInputs& inputs) = delete;
absl::StatusOr<CompletionPlan> PlanCompletion(
    const WorkflowTask& task, WorkflowTaskCompletion&& completion,
    const PlanInputs& inputs) = delete;
absl::StatusOr<CompletionPlan> PlanCompletion(
    WorkflowTask&& task, WorkflowTaskCompletion&& completion,
    const PlanInputs& inputs) = delete;

// The primitives a store implements to execute plans. Every call happens
// inside the store's one atomic write for the plan; an error aborts it.
// None of them decides anything the plan says: they write what they are
// given (the conditional ones as described at ExecutionStart and Delivery).
class PlanExecutor {
 public:
  virtual ~PlanExecutor() = default;

  // Appends `events` (ids set, validated) to the execution's history.
  virtual absl::Status AppendHistory(
      const ExecutionKey& execution,
      absl::Span<const v1::HistoryEvent> events) = 0;
  // Deletes the inbox entries the task was handed, as `cursor` (the task's
  // inbox_cursor, in the store's own format) identifies them.
  virtual absl::Status ConsumeInbox(const ExecutionKey& execution,
                                    absl::string_view cursor) = 0;
  // Deletes the execution's pending inbox entries stored under `keys`.
  virtual absl::Status WithdrawKeyedEvents(
      const ExecutionKey& execution, absl::Span<const std::string> keys) = 0;
  // Inserts `activity` (see PlannedActivity), scheduled at `now`.
  virtual absl::Status EnqueueActivity(const ExecutionKey& execution,
                                       const PlannedActivity& activity,
                                       absl::Time now,
                                       absl::Time eager_lease_expires_at) = 0;
  // Writes the execution's row (see ExecutionUpdate).
  virtual absl::Status UpdateExecution(const ExecutionKey& execution,
                                       const ExecutionUpdate& update) = 0;
  // See ExecutionStart.
  virtual absl::StatusOr<StartOutcome> StartExecution(
      const ExecutionStart& start) = 0;
  // See Delivery: true when delivered, false when dropped.
  virtual absl::StatusOr<bool> Deliver(const Delivery& delivery) = 0;
  // See InboxSettlement.
  virtual absl::Status SettleEndedInbox(const ExecutionKey& execution,
                                        const InboxSettlement& settlement) = 0;
  // Deletes every execution of `instance_id` that is not active (rows,
  // history, inbox, activity tasks).
  virtual absl::Status DropPreviousExecutions(
      absl::string_view instance_id) = 0;
};

// Runs `plan` against `store` in plan order, and on success fills `result`
// (may be null): workflow_task_committed, and the eager activities as
// ActivityTasks. On error the caller rolls its write back; `result` is
// then unspecified.
absl::Status ExecutePlan(const CompletionPlan& plan, PlanExecutor& store,
                         WorkflowTaskCommitResult* result);

// Delivers `delivery`, then the answer of its reply (if any), visible at
// `now`.
absl::Status ExecuteDelivery(const Delivery& delivery, absl::Time now,
                             PlanExecutor& store);

// `event` as an inbox keeps it: id 0 (the worker numbers inbox events when
// it appends them to history). For Store::DeliverWorkflowEvent, whose caller
// may pass a numbered event.
v1::HistoryEvent AsInboxEvent(v1::HistoryEvent event);

// The first execution of an instance (CreateWorkflowInstance), created and
// visible at `now`; INVALID_ARGUMENT for empty ids or an event that is not
// a WorkflowExecutionStarted. Borrows from `instance` and `started`.
absl::StatusOr<ExecutionStart> PlanInstanceCreation(
    const v1::WorkflowInstance& instance, const v1::HistoryEvent& started,
    absl::Time now);

// Starts `start` as CreateWorkflowInstance does: ALREADY_EXISTS when an
// execution of the instance is active, or this execution exists already.
absl::Status ExecuteInstanceCreation(const ExecutionStart& start,
                                     PlanExecutor& store);

// What a store knows of an execution when a fused step
// (Store::CompleteActivityWithWorkflowTask) wants to commit, read in its
// transaction; nullopt when the execution does not exist.
struct ExecutionLeaseState {
  v1::WorkflowState state = v1::WORKFLOW_STATE_UNSPECIFIED;
  // nullopt: no lease. InfiniteFuture() for a lease whose expiry is unknown.
  std::optional<absl::Time> lease_expires_at;
  int64_t history_length = 0;
};

// Whether the fused step may commit `task` (which the caller ran unleased,
// on its cached copy of the run): the execution is active, nobody holds
// its lease (none, or expired at `now`), and its history has exactly
// task.history_length events (nothing was appended since that copy).
bool FusedStepMayCommit(const std::optional<ExecutionLeaseState>& execution,
                        const WorkflowTask& task, absl::Time now);

// CompleteActivityWithWorkflowTask's checks that need no store state: the
// activity belongs to the task's execution, and CheckCompletion.
// INVALID_ARGUMENT naming both.
absl::Status CheckFusedStep(const ActivityTask& activity,
                            const WorkflowTask& task,
                            const WorkflowTaskCompletion& completion);

}  // namespace durable::core

#endif  // DURABLE_CORE_STORAGE_COMPLETION_PLAN_H_
