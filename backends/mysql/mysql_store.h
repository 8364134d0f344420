// MysqlStore: the durable store on a MySQL 8 or MariaDB (>= 10.6) server.
//
// Every query is the shared relational store's (backends/sql), run on a pool
// of connections (MysqlOptions::pool_size, opened on demand): each call
// takes one connection for itself, so the worker's pollers and committers
// run side by side, each in its own short InnoDB transaction at READ
// COMMITTED (no gap locks: a completion's range delete must not lock other
// instances' rows, which pollers' SKIP LOCKED would skip). Writes commit with
// the server's durability (innodb_flush_log_at_trx_commit): a call that returns
// OK is committed.
//
// What the server decides, and the store does about it:
//   - A poll first probes without a transaction or row locks (so idle
//     pollers lock nothing); only when the probe saw a ready task does it
//     pick again with the dialect's `FOR UPDATE SKIP LOCKED` inside the
//     lease transaction, so concurrent pollers (in any process, on any
//     host) take different tasks without waiting on each other.
//   - A transaction the server gives up for a concurrent one (deadlock 1213,
//     lock wait timeout 1205, record changed 1020) is rolled back and run
//     again, up to MysqlOptions::max_attempts times in all; only then is
//     the ABORTED returned. A lost lease (also ABORTED) is never retried.
//   - A connection that fails with UNAVAILABLE (lost, server restarted) is
//     closed and the call fails with it; the next call opens a new one. Its
//     open transaction was rolled back by the server, so nothing of that
//     call was committed -- or, when the connection died during COMMIT, the
//     outcome is unknown, as with any server database; every write is
//     matched by its lease token, so a retry cannot apply it twice.
//   - Every time comes from MysqlOptions::clock (never the server's clock);
//     lease grants read it inside the write transaction.
//
// Wake-ups: within a process, stores on the same server and database share
// a ChangeNotifier (bumped after each commit that may create work). Work
// committed by other processes is seen by an adaptive re-check: a poll
// re-checks every kMinRecheck (5 ms) after it found a task, doubling
// while it finds none, up to kMaxRecheck (100 ms) -- the worst-case
// cross-process latency of an idle worker.
#ifndef DURABLE_BACKENDS_MYSQL_MYSQL_STORE_H_
#define DURABLE_BACKENDS_MYSQL_MYSQL_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "backends/mysql/connection.h"
#include "core/clock.h"
#include "core/storage/admin_store.h"
#include "core/storage/change_notifier.h"
#include "core/storage/poll_loop.h"

namespace durable::backends::sql {
class RelationalStore;  // backends/sql/relational_store.h
}  // namespace durable::backends::sql

namespace durable::backends::mysql {

struct MysqlOptions {
  ConnectOptions connect;
  // At most this many connections at once; calls beyond it wait for one.
  // The default covers a worker's workflow and activity pollers plus its
  // committers and a client.
  int pool_size = 16;
  // Runs of a transaction the server gave up (see the header), in all.
  int max_attempts = 10;
  // Where the store reads the time. Not owned; must outlive the store.
  const core::Clock* clock = &core::Clock::Real();
};

class MysqlStore : public core::AdminStore {
 public:
  // Connects and brings the database's schema to the current version.
  // Errors name host:port and never the password: UNAVAILABLE (server
  // unreachable), PERMISSION_DENIED (login refused), FAILED_PRECONDITION
  // (a foreign database or a newer schema), INVALID_ARGUMENT (options).
  static absl::StatusOr<std::unique_ptr<MysqlStore>> Open(
      const MysqlOptions& options);

  ~MysqlStore() override;

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
  absl::StatusOr<std::vector<v1::WorkflowInstanceState>> ListWorkflowExecutions(
      const std::string& instance_id) override;
  absl::StatusOr<v1::WorkflowInstanceState> GetWorkflowInstanceState(
      const std::string& instance_id) override;
  absl::StatusOr<std::vector<v1::HistoryEvent>> GetWorkflowHistory(
      const std::string& instance_id, const std::string& execution_id,
      int64_t after_id = 0) override;
  absl::StatusOr<v1::WorkflowInstanceState> WaitForWorkflowInstanceFinished(
      const std::string& instance_id, absl::Time deadline) override;
  absl::Status DeliverWorkflowEvent(const std::string& instance_id,
                                    const v1::HistoryEvent& event) override;
  absl::Status RemoveWorkflowInstance(const std::string& instance_id) override;
  absl::StatusOr<int64_t> RemoveWorkflowInstances(
      absl::Time finished_before) override;
  absl::StatusOr<core::WorkflowInstancePage> ListWorkflowInstances(
      const std::string& cursor, int page_size) override;
  absl::StatusOr<core::StoreStats> GetStats() override;
  absl::Status RecordWorker(const v1::WorkerInfo& worker) override;
  absl::Status RemoveWorker(const std::string& worker_id) override;
  absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers() override;
  void Interrupt() override;

  // Transactions run again after the server gave them up, since Open.
  int64_t retried_transactions() const { return retried_.load(); }

 private:
  // One pooled connection with the relational store on it.
  struct Session;
  MysqlStore(const MysqlOptions& options,
             std::shared_ptr<core::ChangeNotifier> notifier,
             std::string description);

  // Runs `fn` on a pooled session, opening one if none is idle and the pool
  // has room (waiting otherwise). A session whose call failed with
  // UNAVAILABLE is closed instead of returned to the pool.
  absl::Status WithSession(absl::FunctionRef<absl::Status(Session&)> fn);
  // Runs `body` in one write transaction on a session, retrying a
  // transaction the server gave up (see the header). `notify`: wake this
  // process's pollers after a commit that changed rows. `stamps_leases`:
  // the body grants leases from the clock it reads (eager tasks), so a run
  // that waited for row locks after reading it is rolled back and run again
  // (up to max_attempts runs), and the leases run from their grant.
  absl::Status Write(
      bool notify, absl::FunctionRef<absl::Status(sql::RelationalStore&)> body,
      bool stamps_leases = false);
  // Runs `read` on a session, outside transactions.
  absl::Status Read(
      absl::FunctionRef<absl::Status(sql::RelationalStore&)> read);

  template <typename Task>
  absl::StatusOr<std::optional<Task>> GetTask(
      const std::vector<std::string>& queues, const core::TaskNameFilter& names,
      absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop);

  const MysqlOptions options_;
  const core::Clock* const clock_;
  const std::shared_ptr<core::ChangeNotifier> notifier_;
  const core::PollLoopOptions finish_poll_;
  const std::string description_;
  // The current re-check interval of polls (see the header), microseconds.
  std::atomic<int64_t> recheck_us_;
  std::atomic<int64_t> retried_{0};

  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<Session>> idle_ ABSL_GUARDED_BY(pool_mu_);
  int open_ ABSL_GUARDED_BY(pool_mu_) = 0;
};

}  // namespace durable::backends::mysql

#endif  // DURABLE_BACKENDS_MYSQL_MYSQL_STORE_H_
