// RedisStore: the durable store on a Redis server, for workers in many
// processes on many hosts.
//
// Every atomic step of the contract (core/storage/store.h) is ONE Lua script
// (scripts.h), loaded once with SCRIPT LOAD, called with EVALSHA and loaded
// again when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
// A script runs alone on the server, so a crash between two commands never
// leaves a mix: creating an instance, leasing, extending and abandoning a
// workflow task, committing it, leasing, extending, retrying and completing
// an activity task, the fused step, delivering a signal and removal each
// are one script. Reads are scripts too, so each sees one consistent state.
//
// Completions are core's plans: the store asks core::PlanCompletion for the
// plan (with the history length of the task, which the script checks against
// the stored one under the lease, and its Clock's time), core::ExecutePlan
// runs it against a RedisPlanEncoder (plan_encoder.h), which writes the
// primitives into the script's arguments in plan order, and the script
// applies them. The fused step's script evaluates core::FusedStepMayCommit's
// condition itself and carries both outcomes (the plan, or the activity
// result alone). The store decides no engine semantics.
//
// Times: scripts take the store Clock's time, except that with the real
// clock they read the server's TIME, inside the script, so a lease always
// runs from its grant however long the script waited behind others. The
// conditions that use it (visibility, lease expiry, retry delays) are all
// evaluated inside scripts.
//
// Leases and readiness live in sorted sets (scripts.h): an execution with
// inbox entries sits in its queue's set scored by when it may next be taken
// (its first visible entry, a retry delay, its lease's expiry), so an
// expired lease is simply due again and taken over; delayed events (timers,
// retry backoffs) make it due at their visibility time. Activity tasks sit
// in per-queue sets scored by visibility or lease expiry the same way.
//
// Blocking calls are core::PollUntil around one poll script. The store's
// ChangeNotifiers are bumped, for every process's commits (its own
// included), by its WakeListener (wake_listener.h, pub/sub on the server), so
// a poller wakes as soon as any process commits work and at the next due
// time the poll script reports; the re-check interval is only a safety net
// for a lost subscription. Pollers of one process asking the same question
// after the same commit share one poll script (poll_gate.h).
//
// Connections: a pool, one connection per concurrent caller (pollers hold
// one only while their script runs); a broken connection is dropped and the
// next call connects again, logging it. While the server cannot be reached,
// connects are retried with a backoff doubling from 50 ms to 1 s, and calls
// in between fail at once with the last error (UNAVAILABLE). A call whose
// connection broke returns UNAVAILABLE and is not retried (a script may have
// run before the reply was lost); a task in flight then is not lost: its lease
// expires and another poll takes it.
//
// Durability is the server's setting: with `appendonly yes` and
// `appendfsync always` a script's effects are on disk before its reply;
// Describe() reports the server's appendonly/appendfsync.
#ifndef DURABLE_BACKENDS_REDIS_REDIS_STORE_H_
#define DURABLE_BACKENDS_REDIS_REDIS_STORE_H_

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "backends/redis/connection.h"
#include "backends/redis/poll_gate.h"
#include "backends/redis/redis_uri.h"
#include "backends/redis/scripts.h"
#include "backends/redis/wake_listener.h"
#include "core/storage/admin_store.h"
#include "core/storage/change_notifier.h"
#include "core/storage/poll_loop.h"

namespace durable::backends::redis {

class RedisStore : public core::AdminStore {
 public:
  // Connects (errors name host:port: UNAVAILABLE when the server cannot be
  // reached, UNAUTHENTICATED for refused credentials, INVALID_ARGUMENT for
  // a database the server refuses), loads the scripts and subscribes to the
  // wake-up channel.
  static absl::StatusOr<std::unique_ptr<RedisStore>> Open(
      const RedisOptions& options);
  ~RedisStore() override;

  std::string Describe() const override;
  absl::Status CreateWorkflowInstance(const v1::WorkflowInstance& instance,
                                      const v1::HistoryEvent& started) override;
  using core::Store::GetActivityTask;
  using core::Store::GetWorkflowTask;
  absl::StatusOr<std::optional<core::WorkflowTask>> GetWorkflowTask(
      const std::vector<std::string>& queues, const core::TaskNameFilter& names,
      absl::Duration lease, absl::Time deadline,
      const std::atomic<bool>* stop) override;
  absl::Status ExtendWorkflowTaskLease(const core::WorkflowTask& task,
                                       absl::Duration lease) override;
  using core::Store::CompleteWorkflowTask;
  absl::Status CompleteWorkflowTask(
      const core::WorkflowTask& task,
      const core::WorkflowTaskCompletion& completion,
      core::WorkflowTaskCommitResult* result) override;
  absl::Status AbandonWorkflowTask(const core::WorkflowTask& task,
                                   const v1::WorkflowTaskFailure& failure,
                                   absl::Duration retry_delay) override;
  absl::StatusOr<std::optional<core::ActivityTask>> GetActivityTask(
      const std::vector<std::string>& queues, const core::TaskNameFilter& names,
      absl::Duration lease, absl::Time deadline,
      const std::atomic<bool>* stop) override;
  absl::Status ExtendActivityTaskLease(const core::ActivityTask& task,
                                       absl::Duration lease) override;
  absl::Status RetryActivityTask(const core::ActivityTask& task,
                                 int32_t next_attempt,
                                 absl::Time visible_at) override;
  absl::Status CompleteActivityTask(const core::ActivityTask& task,
                                    const v1::HistoryEvent& result) override;
  absl::Status CompleteActivityWithWorkflowTask(
      const core::ActivityTask& activity,
      const v1::HistoryEvent& activity_result, const core::WorkflowTask& task,
      const core::WorkflowTaskCompletion& completion,
      core::WorkflowTaskCommitResult* result) override;
  absl::StatusOr<v1::WorkflowInstanceState> GetWorkflowInstanceState(
      const std::string& instance_id) override;
  absl::StatusOr<std::vector<v1::WorkflowInstanceState>> ListWorkflowExecutions(
      const std::string& instance_id) override;
  absl::StatusOr<std::vector<v1::HistoryEvent>> GetWorkflowHistory(
      const std::string& instance_id, const std::string& execution_id,
      int64_t after_id = 0) override;
  absl::StatusOr<v1::WorkflowInstanceState> WaitForWorkflowInstanceFinished(
      const std::string& instance_id, absl::Time deadline) override;
  absl::Status DeliverWorkflowEvent(const std::string& instance_id,
                                    const v1::HistoryEvent& event) override;
  absl::Status RecordWorker(const v1::WorkerInfo& worker) override;
  absl::Status RemoveWorker(const std::string& worker_id) override;
  absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers() override;
  void Interrupt() override;

  absl::Status RemoveWorkflowInstance(const std::string& instance_id) override;
  absl::StatusOr<int64_t> RemoveWorkflowInstances(
      absl::Time finished_before) override;
  absl::StatusOr<core::WorkflowInstancePage> ListWorkflowInstances(
      const std::string& cursor, int page_size) override;
  absl::StatusOr<core::StoreStats> GetStats() override;

  // Scripts run and connections opened since Open (for benchmarks and
  // tests: each script is one round trip).
  int64_t scripts_run() const { return scripts_run_.load(); }
  int64_t connections_opened() const { return connections_opened_.load(); }
  // Wake-up messages heard from the server (wake_listener.h).
  int64_t wake_messages() const { return listener_->messages(); }
  // Polls answered without a script (poll_gate.h).
  int64_t polls_skipped() const {
    return workflow_gate_.skipped() + activity_gate_.skipped();
  }

 private:
  explicit RedisStore(const RedisOptions& options);

  // A connection from the pool (connecting when none is idle; `*pooled`
  // says which), and back (a broken one is dropped, with every idle one).
  absl::StatusOr<std::unique_ptr<Connection>> Acquire(bool* pooled);
  void Release(std::unique_ptr<Connection> connection);
  // Runs `script` with the calling convention of scripts.h; `args` follow
  // the time. Errors: UNAVAILABLE for a broken connection, INTERNAL for a
  // script error.
  absl::StatusOr<Reply> Run(Script script, std::vector<std::string> args);
  absl::StatusOr<Reply> Command(const std::vector<std::string>& args);
  // Sends `argv` (for a script: EVALSHA with its SHA filled in here,
  // loading the scripts again on NOSCRIPT), once more on a new connection
  // when a pooled one turns out broken.
  absl::StatusOr<Reply> Send(std::vector<std::string> argv,
                             std::optional<Script> script);
  absl::Status LoadScripts(Connection& connection);
  // Bumps the notifiers `kinds` names ("w", "a", "f", as in the wake-up
  // messages of scripts.h).
  void Wake(absl::string_view kinds);

  absl::StatusOr<std::optional<core::WorkflowTask>> TryGetWorkflowTask(
      const std::vector<std::string>& queues, const core::TaskNameFilter& names,
      absl::Duration lease, absl::Time* next_due);
  absl::StatusOr<std::optional<core::ActivityTask>> TryGetActivityTask(
      const std::vector<std::string>& queues, const core::TaskNameFilter& names,
      absl::Duration lease, absl::Time* next_due);
  absl::StatusOr<std::vector<v1::WorkflowInstanceState>> ReadStates(
      const std::string& instance_id, bool all);

  const RedisOptions options_;
  const std::string key_prefix_;    // "{prefix}:"
  const std::string wake_channel_;  // "{prefix}:wake:<db>"
  const bool real_clock_;
  // Bumped by the WakeListener, by what the server's wake-up message says
  // may have become ready -- workflow tasks, activity tasks, an ended
  // execution (WaitForWorkflowInstanceFinished) -- for this store's own
  // commits as for everyone else's: one mechanism, and exactly what other
  // processes see. Interrupt() bumps them all.
  core::ChangeNotifier workflow_notifier_;
  core::ChangeNotifier activity_notifier_;
  core::ChangeNotifier finish_notifier_;
  const core::PollLoopOptions workflow_poll_;
  const core::PollLoopOptions activity_poll_;
  const core::PollLoopOptions finish_poll_;
  // One poll script at a time per question and commit (poll_gate.h).
  PollGate workflow_gate_;
  PollGate activity_gate_;
  std::array<std::string, static_cast<size_t>(Script::kCount)> shas_;
  std::string durability_;
  std::unique_ptr<WakeListener> listener_;

  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(pool_mu_);
  // Set when a connection broke, so the next successful connect is logged.
  bool reconnecting_ ABSL_GUARDED_BY(pool_mu_) = false;
  // Reconnection backoff (real time: it paces sockets, not the engine's
  // clock): the last failed connect, when, and how long to wait after it.
  absl::Status last_connect_error_ ABSL_GUARDED_BY(pool_mu_);
  absl::Time last_connect_failure_ ABSL_GUARDED_BY(pool_mu_);
  absl::Duration connect_backoff_ ABSL_GUARDED_BY(pool_mu_);
  std::atomic<int64_t> scripts_run_{0};
  std::atomic<int64_t> connections_opened_{0};
};

}  // namespace durable::backends::redis

#endif  // DURABLE_BACKENDS_REDIS_REDIS_STORE_H_
