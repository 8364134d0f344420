// Store: the storage contract every durable store implements, as the
// engine (workers and clients) sees it. The operator's calls -- listing,
// removal, counters -- are the AdminStore (admin_store.h), which every
// store implements too.
//
// A store keeps workflow instances (one row per execution), their
// append-only histories, an inbox of pending events per instance, activity
// task queues and future (delayed) events. Workers and clients talk to it
// directly; there is no server of ours in between. The same conformance suite
// (backends/conformance) runs against every implementation.
//
// Tasks are leases. GetWorkflowTask hands a ready instance to exactly one
// caller until its lease expires; the lease token travels with the task and
// every later call for it fails with ABORTED once the lease was lost (another
// worker took the task over after expiry). Completing a workflow task is one
// atomic write: history append, inbox consumption, activity tasks, future
// events, messages to other instances, instance state and lease release all
// happen or none does. How a completion becomes rows -- numbering, ids,
// queues, which events go where and in which order -- is not the store's to
// decide: core turns it into a CompletionPlan (completion_plan.h) that the
// store executes. A lease is lost only when its token changed (another
// caller took the task over after expiry, or the task was completed or
// abandoned): a caller whose lease expired but was not taken over may still
// complete or extend it.
//
// A lease's expiry is computed when it is granted, inside the transaction
// that grants it (the same for an extension, and for the eager activity
// leases of a completion): never from a clock read before the call waited
// for the store -- a lock held by another process, a queue of other
// writers. However long the call waited, its caller holds the task for the
// whole lease after the grant, and no other caller gets the task meanwhile.
//
// Polls take a TaskNameFilter, so that workers with different registrations
// can share a queue: the worker decides which names it may take, the store
// only evaluates that. Workers record themselves in a worker registry
// (RecordWorker/ListWorkers) from which they compute those filters; the store
// keeps the entries and never judges whether one is live.
//
// All methods are thread-safe. Blocking Get*Task calls return early when
// `stop` becomes true and Interrupt() is called, so workers shut down at once
// (every store blocks in the same loop, poll_loop.h). Every read of the time
// goes through the store's Clock (core/clock.h).
#ifndef DURABLE_CORE_STORAGE_STORE_H_
#define DURABLE_CORE_STORAGE_STORE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"

namespace durable::core {

// The queue used when none is given.
inline constexpr char kDefaultQueue[] = "default";

// The queues a poll of `queues` looks at: kDefaultQueue when none is given.
inline const std::vector<std::string>& PolledQueues(
    const std::vector<std::string>& queues) {
  static const std::vector<std::string>* const kDefault =
      new std::vector<std::string>{kDefaultQueue};
  return queues.empty() ? *kDefault : queues;
}

// A leased workflow task: an instance with new inbox events.
struct WorkflowTask {
  std::string instance_id;
  std::string execution_id;
  std::string queue;
  // The workflow the execution runs.
  std::string workflow_name;
  // The execution's parent (from its WorkflowExecutionStarted event, kept
  // by the store since the execution was created, so it is known even when
  // the history cannot be read); empty instance_id when it has none.
  v1::WorkflowParent parent;
  // Identifies this lease; the backend rejects calls with a stale token.
  std::string lease_token;
  // Events already in the execution's history (the id of the last one).
  int64_t history_length = 0;
  // Metadata given when the instance was created.
  std::map<std::string, std::string> metadata;
  // Inbox events visible when the task was taken, in arrival order; their
  // ids are 0 (the worker numbers them when it appends them to history).
  std::vector<v1::HistoryEvent> new_events;
  // Set when part of the task's rows cannot be read back (an inbox entry,
  // which is then left out of new_events but still consumed with the task,
  // or the stored parent): says what. A bad row fails its own instance, and
  // never the poll: the worker fails the instance with HistoryCorrupted.
  std::string damaged;
  // Store-private: which inbox entries the task consumes on completion.
  std::string inbox_cursor;
};

// Which tasks a poll may lease, by name: the workflow name for workflow
// tasks, the activity name for activity tasks. Workers compute it from what
// their language layer registered and from the live workers of their queues
// (ListWorkers); stores only execute it, as a condition on a task's name and
// queue, and never judge liveness themselves.
struct TaskNameFilter {
  // False (the default): every task matches.
  bool restricted = false;
  // With `restricted`, a task of queue q named n matches when n is in
  // `names` (the poller runs it), or when no other live worker of q may run
  // it: q is not in `claimed`, or claimed[q] has `all` false and n is not in
  // its `names`.
  std::vector<std::string> names;
  struct Claims {
    // A live worker of the queue did not say what it runs: it may run any.
    bool all = false;
    std::vector<std::string> names;
  };
  std::map<std::string, Claims> claimed;
};

// An activity task to enqueue when a workflow task completes.
struct ActivityTaskSpec {
  // The ActivityScheduled event as appended to history (id set).
  v1::HistoryEvent scheduled_event;
  // Resolved queue (never empty).
  std::string queue;
  // Propagated workflow metadata.
  std::map<std::string, std::string> metadata;
};

// The queue of an activity task: the spec's own queue when set, else the
// one its ActivityScheduled event names, else `workflow_queue` (the queue of
// the workflow task that scheduled it). The one rule for workers (which
// resolve it early, to know which activities they may run eagerly) and for
// completion plans.
inline const std::string& ActivityQueueFor(const ActivityTaskSpec& spec,
                                           const std::string& workflow_queue) {
  if (!spec.queue.empty()) return spec.queue;
  const std::string& named = spec.scheduled_event.activity_scheduled().queue();
  return named.empty() ? workflow_queue : named;
}

// Whether an inbox event addressed to an instance (rather than to one of its
// executions) moves on to the next execution when the one it waits in
// continues as new: signals and cancellation requests. Timer firings,
// activity and sub-workflow results belong to the execution that scheduled
// them.
inline bool CarriesOverToNextExecution(const v1::HistoryEvent& event) {
  return event.has_signal_received() || event.has_workflow_execution_canceled();
}

// An event for the inbox of this or another instance, optionally delayed
// (timers, retry backoffs, signals, sub-workflow starts and results).
//
// A WorkflowExecutionStarted event starts that execution (a sub-workflow, the
// next execution of a continue-as-new) unless an execution of the instance is
// active or an ended execution has that id. A repeated start of the very
// execution that is already active (its start was committed before) is not
// refused: nothing is written and nothing is reported. Any other refused
// sub-workflow start puts SubWorkflowFailed (type "InstanceAlreadyExists") in
// its parent's inbox instead. Any other event
// goes to the inbox of its execution if that is active, and is dropped
// silently otherwise (finished, or unknown), like an activity result for an
// ended execution. (ExecutionStart and Delivery in completion_plan.h.)
struct OutboundEvent {
  std::string instance_id;
  // Empty: the instance's current (newest active) execution; for a
  // WorkflowExecutionStarted event, a new execution id is assigned.
  std::string execution_id;
  v1::HistoryEvent event;
  // Not visible to workflow tasks before this time; InfinitePast() = now.
  absl::Time visible_at = absl::InfinitePast();
  // Optional name of a pending event of the sender's own execution (e.g.
  // "timer/12" for the TimerFired of the timer scheduled at event 12), so a
  // later task can withdraw it (WorkflowTaskCompletion::canceled_event_keys).
  std::string key;

  // An answer the sender waits for: whether `event` was put in the inbox of
  // an active execution. The core prebuilds both possible answers; the store
  // only picks one, in the same transaction as the delivery, and puts it in
  // the inbox of execution `execution_id` of `instance_id` (visible now),
  // unless that execution is no longer active (then it is dropped, like an
  // activity result for an ended execution). Used for signals between
  // workflows (SignalExternalDelivered / SignalExternalFailed); never set on
  // events that start an execution.
  struct Reply {
    std::string instance_id;
    std::string execution_id;
    // When `event` went into the inbox of an active execution.
    v1::HistoryEvent delivered;
    // When it was dropped: no execution of `instance_id` (or not the one
    // named by `execution_id`) is active.
    v1::HistoryEvent not_delivered;
  };
  std::optional<Reply> reply;
};

// Everything one workflow task wrote, committed atomically, as its
// CompletionPlan (completion_plan.h) says.
struct WorkflowTaskCompletion {
  // Appended to history; ids continue from the stored history length
  // (WorkflowTask::history_length): history_length + 1, + 2, ... Anything
  // else is INVALID_ARGUMENT, and nothing is written.
  std::vector<v1::HistoryEvent> executed_events;
  // Enqueued with activity ids ActivityIdFor(execution, scheduled event id)
  // and queues ActivityQueueFor(spec, the workflow's queue).
  std::vector<ActivityTaskSpec> activities;
  // Delivered after the execution's new state is set (so a continue-as-new
  // can start the next execution, and a reply for this execution is dropped
  // when it finished), in an order that makes the order of the commands
  // within a task irrelevant: first every event that starts an execution
  // (WorkflowExecutionStarted: sub-workflows, their retries, the next execution
  // of a continue-as-new), then all others (timers, signals, cancellations,
  // results for a parent), each group in this list's order. A signal to a
  // sub-workflow started in the same task therefore finds its execution,
  // whichever command came first. (The plan orders them; the engine lists
  // them so already.)
  std::vector<OutboundEvent> outbound_events;
  // Keys of pending (not yet consumed) inbox events of this execution to
  // delete, e.g. the TimerFired of a canceled timer. Unknown keys are fine.
  std::vector<std::string> canceled_event_keys;
  // With state CONTINUED_AS_NEW: delete the instance's ended executions
  // other than the one starting now (history, rows), in the same commit.
  // This execution's activity tasks go too, so no activity is leased
  // eagerly.
  bool remove_previous_executions = false;
  // With state CONTINUED_AS_NEW: the execution this one continues as (also
  // started by an outbound WorkflowExecutionStarted of this completion).
  // Events accepted for the instance must not be stranded on the execution
  // that ends: in the same commit, after the outbound events, the store
  // moves every inbox event of this execution that the task did not consume
  // (it arrived while the task was in flight) and for which
  // CarriesOverToNextExecution() holds to the next execution, in arrival
  // order, behind everything delivered to it by this commit.
  std::string next_execution_id;
  // New state of the execution (ACTIVE, FINISHED, CONTINUED_AS_NEW). Once
  // it is not ACTIVE, the store deletes the execution's inbox events that
  // were neither consumed nor carried over (nobody can consume them).
  v1::WorkflowState state = v1::WORKFLOW_STATE_ACTIVE;
  // Set when state is FINISHED.
  std::optional<v1::WorkflowResult> result;
  // When the task completed; the finished time when state is not ACTIVE.
  // UnixEpoch() means "now" (the store's clock, read in the commit).
  absl::Time completed_at = absl::UnixEpoch();
  // Eager activity dispatch: the first `eager_activities` entries of
  // `activities` (clamped to their number) are leased to the committing
  // caller in the same transaction (attempt 0, lease `eager_activity_lease`
  // from the commit) and returned in WorkflowTaskCommitResult::
  // eager_activities, so a worker with an idle activity slot runs them at
  // once instead of a poller leasing them in a transaction of its own. The
  // rest are queued for pollers as usual. Nothing is leased eagerly for a
  // caller that passes no WorkflowTaskCommitResult.
  int eager_activities = 0;
  absl::Duration eager_activity_lease = absl::ZeroDuration();
};

// A leased activity attempt.
struct ActivityTask {
  // Stable across attempts: "<execution_id>:<scheduled_event_id>".
  std::string activity_id;
  std::string instance_id;
  std::string execution_id;
  std::string queue;
  // The ActivityScheduled event (name, arguments, options).
  v1::HistoryEvent scheduled_event;
  int32_t attempt = 0;
  std::map<std::string, std::string> metadata;
  absl::Time scheduled_at = absl::UnixEpoch();
  std::string lease_token;
  // Set when the stored scheduled event cannot be read back (it is then
  // empty): says what. The task is leased all the same, and the worker fails
  // this activity (type "ActivityTaskCorrupted", not retried) instead of the
  // poll failing for every task of the queue.
  std::string damaged;
};

// The activity id of the activity scheduled at `scheduled_event_id` of
// `execution_id` (ActivityTask::activity_id), and back: nullopt for an id
// not of that form.
inline std::string ActivityIdFor(const std::string& execution_id,
                                 int64_t scheduled_event_id) {
  return execution_id + ":" + std::to_string(scheduled_event_id);
}
inline std::optional<int64_t> ScheduledEventIdOf(
    const std::string& activity_id) {
  const size_t colon = activity_id.rfind(':');
  if (colon == std::string::npos || colon + 1 == activity_id.size()) {
    return std::nullopt;
  }
  int64_t id = 0;
  for (size_t i = colon + 1; i < activity_id.size(); ++i) {
    const char c = activity_id[i];
    if (c < '0' || c > '9' || id > (INT64_MAX - (c - '0')) / 10) {
      return std::nullopt;
    }
    id = id * 10 + (c - '0');
  }
  return id;
}

// What committing a workflow task hands back to the caller.
struct WorkflowTaskCommitResult {
  // Whether the workflow task was committed. Always true after an OK
  // CompleteWorkflowTask; CompleteActivityWithWorkflowTask may commit only
  // the activity's result (see there).
  bool workflow_task_committed = false;
  // Activity attempts leased to the caller by eager dispatch, in the order
  // of WorkflowTaskCompletion::activities.
  std::vector<ActivityTask> eager_activities;
};

class Store {
 public:
  virtual ~Store() = default;

  // Describes the backend for logs and benchmarks, e.g.
  // "sqlite file=/tmp/x.db synchronous=FULL".
  virtual std::string Describe() const = 0;

  // Creates execution `instance.execution_id` of `instance.instance_id` and
  // puts `started` (a WorkflowExecutionStarted event) in its inbox.
  // ALREADY_EXISTS if an active execution of the instance exists.
  virtual absl::Status CreateWorkflowInstance(
      const v1::WorkflowInstance& instance,
      const v1::HistoryEvent& started) = 0;

  // Leases a ready workflow task from one of `queues` (PolledQueues: the
  // default queue when empty) whose workflow name matches `names`, for
  // `lease` from the grant (see the top of this file):
  // an active instance, not leased (or its lease expired), with visible
  // inbox events. Blocks up to `deadline`; returns nullopt at the deadline
  // or when `*stop` is true after Interrupt().
  virtual absl::StatusOr<std::optional<WorkflowTask>> GetWorkflowTask(
      const std::vector<std::string>& queues, const TaskNameFilter& names,
      absl::Duration lease, absl::Time deadline,
      const std::atomic<bool>* stop) = 0;
  // Any workflow name.
  absl::StatusOr<std::optional<WorkflowTask>> GetWorkflowTask(
      const std::vector<std::string>& queues, absl::Duration lease,
      absl::Time deadline, const std::atomic<bool>* stop) {
    return GetWorkflowTask(queues, TaskNameFilter(), lease, deadline, stop);
  }

  // Pushes the lease's expiry to now + `lease`, now being when the extension
  // is written. ABORTED if it was lost.
  virtual absl::Status ExtendWorkflowTaskLease(const WorkflowTask& task,
                                               absl::Duration lease) = 0;

  // Commits `completion` atomically and releases the lease. ABORTED if the
  // lease was lost (nothing is written then). `result` may be null; when
  // given it receives the eagerly leased activities.
  virtual absl::Status CompleteWorkflowTask(
      const WorkflowTask& task, const WorkflowTaskCompletion& completion,
      WorkflowTaskCommitResult* result) = 0;
  absl::Status CompleteWorkflowTask(const WorkflowTask& task,
                                    const WorkflowTaskCompletion& completion) {
    return CompleteWorkflowTask(task, completion, nullptr);
  }

  // Releases the lease without touching history or the inbox, records
  // `failure` as the instance's last task failure, and makes the instance
  // ready again only after `retry_delay`.
  virtual absl::Status AbandonWorkflowTask(
      const WorkflowTask& task, const v1::WorkflowTaskFailure& failure,
      absl::Duration retry_delay) = 0;

  // Leases an activity attempt from one of `queues` whose activity name
  // matches `names`. Same blocking contract as GetWorkflowTask.
  virtual absl::StatusOr<std::optional<ActivityTask>> GetActivityTask(
      const std::vector<std::string>& queues, const TaskNameFilter& names,
      absl::Duration lease, absl::Time deadline,
      const std::atomic<bool>* stop) = 0;
  // Any activity name.
  absl::StatusOr<std::optional<ActivityTask>> GetActivityTask(
      const std::vector<std::string>& queues, absl::Duration lease,
      absl::Time deadline, const std::atomic<bool>* stop) {
    return GetActivityTask(queues, TaskNameFilter(), lease, deadline, stop);
  }

  virtual absl::Status ExtendActivityTaskLease(const ActivityTask& task,
                                               absl::Duration lease) = 0;

  // Ends a failed attempt without a result: the task goes back to its queue
  // as attempt `next_attempt`, invisible to pollers until `visible_at` (the
  // retry backoff). No workflow task runs and history is untouched.
  // ABORTED if the lease was lost.
  virtual absl::Status RetryActivityTask(const ActivityTask& task,
                                         int32_t next_attempt,
                                         absl::Time visible_at) = 0;

  // Atomically deletes the activity task and puts `result` (ActivityCompleted
  // or ActivityFailed) in the owning execution's inbox. If the execution is
  // no longer active the result is dropped. ABORTED if the lease was lost.
  virtual absl::Status CompleteActivityTask(const ActivityTask& task,
                                            const v1::HistoryEvent& result) = 0;

  // The fused step of a worker that still holds the run in its executor
  // cache: completes an activity attempt AND commits the workflow task its
  // result wakes, in one transaction (one fsync where two commits and a
  // lease grant were needed before). The caller ran that workflow task
  // without leasing it, on its cached copy of the run: `task` has an empty
  // lease_token and inbox_cursor, its history_length is the length of the
  // cached copy, and `completion.executed_events` continue history from
  // there (WorkflowTaskStarted, `activity_result`, then what the workflow
  // did).
  //
  // Atomically: the activity task is deleted -- ABORTED, and nothing is
  // written, if its lease was lost -- and then
  //   - if the execution is active, not leased by anyone (or its lease
  //     expired) and its history has exactly task.history_length events,
  //     `completion` is committed as by CompleteWorkflowTask, except that
  //     the inbox is left alone (events that arrived meanwhile wait for the
  //     next task), and result->workflow_task_committed is true;
  //   - otherwise `activity_result` goes to the inbox exactly as
  //     CompleteActivityTask would put it there, workflow_task_committed is
  //     false, and the caller must drop its (stale) copy of the run.
  // (FusedStepMayCommit in completion_plan.h.) `result` must not be null,
  // and the activity must belong to the task's execution (else
  // INVALID_ARGUMENT, nothing written). The completion is validated (event
  // numbering) only when it is committed; when the workflow task is refused
  // it is discarded unread. Committing it clears an expired lease, so that
  // lease's holder gets ABORTED later, and ends a pending retry delay of an
  // abandoned task, as any completion does.
  virtual absl::Status CompleteActivityWithWorkflowTask(
      const ActivityTask& activity, const v1::HistoryEvent& activity_result,
      const WorkflowTask& task, const WorkflowTaskCompletion& completion,
      WorkflowTaskCommitResult* result) = 0;

  // The latest execution of the instance. NOT_FOUND for unknown instances.
  virtual absl::StatusOr<v1::WorkflowInstanceState> GetWorkflowInstanceState(
      const std::string& instance_id) = 0;

  // Every stored execution of the instance, oldest first (earlier ones end
  // in CONTINUED_AS_NEW). NOT_FOUND for unknown instances.
  virtual absl::StatusOr<std::vector<v1::WorkflowInstanceState>>
  ListWorkflowExecutions(const std::string& instance_id) = 0;

  // The history of one execution, oldest first; events with id > after_id.
  // NOT_FOUND for unknown executions; DATA_LOSS (naming the instance and the
  // event) for a row that cannot be decoded.
  virtual absl::StatusOr<std::vector<v1::HistoryEvent>> GetWorkflowHistory(
      const std::string& instance_id, const std::string& execution_id,
      int64_t after_id = 0) = 0;

  // Blocks until the latest execution of the instance is no longer ACTIVE
  // and returns its state; DEADLINE_EXCEEDED at `deadline`.
  virtual absl::StatusOr<v1::WorkflowInstanceState>
  WaitForWorkflowInstanceFinished(const std::string& instance_id,
                                  absl::Time deadline) = 0;

  // Puts `event` (SignalReceived, WorkflowExecutionCanceled, ...) in the
  // inbox of the instance's active execution, visible now. NOT_FOUND when
  // the instance is unknown or its latest execution is not active.
  virtual absl::Status DeliverWorkflowEvent(const std::string& instance_id,
                                            const v1::HistoryEvent& event) = 0;

  // The worker registry: each worker's identity, queues and registered
  // names (see v1::WorkerInfo), written and renewed by the worker itself.
  // The store keeps entries as given; whether one is live is the reader's
  // decision (core/worker_liveness.h), never the store's.
  //
  // Inserts or replaces the entry of `worker.worker_id` (INVALID_ARGUMENT
  // if empty).
  virtual absl::Status RecordWorker(const v1::WorkerInfo& worker) = 0;
  // Deletes the entry; unknown ids are fine.
  virtual absl::Status RemoveWorker(const std::string& worker_id) = 0;
  // Every entry, live or not, ordered by worker_id.
  virtual absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers() = 0;

  // Wakes every call blocked in Get*Task so it re-checks its `stop` flag.
  virtual void Interrupt() = 0;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_STORAGE_STORE_H_
