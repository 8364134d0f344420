// SqliteStore: the durable store on a SQLite database file (or in memory).
//
// One connection per backend object, serialized by a mutex that is never held
// while waiting for work. Files use WAL journaling, and every call that
// changes workflow state returns only after an fdatasync of the WAL that
// covers it, so a committed workflow task survives a power loss.
//
// Group commit: every write of a caller (creating an instance, leasing,
// completing or abandoning a task, delivering an event, ...) is queued, and
// one caller at a time -- the leader -- runs everything queued so far as ONE
// `BEGIN IMMEDIATE` transaction, each caller's writes inside its own
// SAVEPOINT. A caller whose writes fail (a lost lease, a bad argument) has
// only its savepoint rolled back; the others still commit. Each caller returns
// only once its batch is durable (or failed), so the per-call contract of
// core/storage/store.h is unchanged: every call is all-or-nothing and durable
// when it returns OK.
//
// Polls only read until they find something to take: a poll first probes
// for a ready task in a read transaction, which never waits for SQLite's
// write lock (in WAL mode readers and the writer do not block each other),
// and queues a lease grant only when the probe found one. The grant looks
// again inside the write transaction (another poller, maybe in another
// process, may have taken the task meanwhile) and reads the clock there, so
// a lease runs from its grant however long the grant waited for the lock
// (core/storage/store.h); completions stamp their eager leases the same way. A
// process that holds the write lock -- a worker stopped or stalled in the
// middle of a write -- therefore stalls no idle poller of another process
// (or connection): those keep answering "nothing" and never fail with "database
// is locked"; only a call that has something to write waits, up to the busy
// timeout. A probe that would repeat an earlier empty answer (nothing committed
// to the file since, no due time reached) is answered without queries
// (EmptyProbe).
//
// The WAL is synced outside the write lock: SQLite commits at
// synchronous=NORMAL (no fsync inside COMMIT; its checkpoints still sync the
// WAL before copying it into the database and the database afterwards), the
// leader hands leadership on and then fdatasyncs the WAL itself (SyncWal),
// so the next batch's SQL runs while the disk syncs this one, and one
// fdatasync covers every commit written before it began. Waiters are
// notified only after the sync; a reader of this process may still see a
// batch up to one fdatasync before it is durable. Files whose journal mode
// cannot be WAL keep SQLite's synchronous=FULL. Batches that only grant or
// extend leases are not synced on their own: a lease is worthless after a
// power loss, which kills its holder too, and WAL recovery keeps a prefix of
// transactions, so a later synced commit makes them durable anyway.
//
// Every query and write is the shared relational store's
// (backends/sql/relational_store.h: picks and lease grants, completions'
// lease reads and plans, signals, removal, listing, stats, the worker
// registry), run on this store's connection; what is SQLite's own is the
// connection (opening, PRAGMAs, the driver), when those queries run
// (probes, group commit, savepoints) and how commits become durable.
// Completions are CompletionPlans (core/storage/completion_plan.h): the
// store reads the lease (or, for the fused step, what FusedStepMayCommit
// needs), the history length and its clock inside the write, asks core for
// the plan and executes it with the shared RelationalPlanExecutor, one
// statement or a few per primitive, all in the caller's savepoint.
// CompleteWorkflowTask and CompleteActivityWithWorkflowTask (ONE durable
// write: delete the activity row by its lease token, then commit the plan
// or deliver the activity result) therefore commit the same rows. Eagerly
// leased activity rows are inserted already leased, so no poller sees them
// until that lease expires. The WorkflowTaskCommitResult is filled only when
// the call returns OK; after an error (including a batch that failed to
// commit after the caller's savepoint succeeded) it is reset to its
// defaults, and claims no eager tasks.
//
// Several processes may open the same file:
// SQLite's locking keeps them consistent, busy_timeout makes writers queue
// instead of failing, and pollers (core::PollUntil) re-check at least every
// 100 ms (WaitForWorkflowInstanceFinished every 50 ms) for work committed by
// another process. Within one process, backends on the same file share a
// ChangeNotifier (see backends/sql/notifier_registry.h) and wake each other at once.
//
// What SQLite decides itself (the engine's rules are core/storage/store.h,
// admin_store.h and completion_plan.h; the formats of the inbox and listing
// cursors, the metadata encoding, the name filter as SQL and the worker
// table are the shared relational layer's):
//   - Every time comes from SqliteOptions::clock; lease grants, eager leases
//     and the fused step's lease check read it inside the write transaction.
//   - instances.seq, the insertion order the shared queries break ties by,
//     is the table's rowid (an INTEGER PRIMARY KEY, migrations/0004): free
//     on insert, and the order SQLite's rowid always gave.
//   - A pick runs without row locks (the dialect's skip_locked is empty):
//     the write transaction holds the whole database, and the probe before
//     it never waits for the write lock.
//   - RecordWorker and RemoveWorker are not synced on their own (like lease
//     grants) and do not wake pollers.
#ifndef DURABLE_BACKENDS_SQLITE_SQLITE_STORE_H_
#define DURABLE_BACKENDS_SQLITE_SQLITE_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/storage/admin_store.h"
#include "core/storage/change_notifier.h"
#include "core/storage/poll_loop.h"

namespace durable::backends::sql {
class RelationalStore;  // backends/sql/relational_store.h
}  // namespace durable::backends::sql

namespace durable::backends::sqlite {

class Connection;  // connection.h, private to this package.

struct SqliteOptions {
  // Database file; created if missing. Ignored when `in_memory`.
  std::string path;
  // A private in-memory database, shared by everything holding this backend
  // object and lost when it is destroyed.
  bool in_memory = false;
  // How long a write waits for another connection's write lock before it
  // fails with UNAVAILABLE. (Polls that find nothing never wait for it.)
  absl::Duration busy_timeout = absl::Seconds(5);
  // Where the store reads the time (leases, due times, finish times,
  // deadlines). Not owned; must outlive the store.
  const core::Clock* clock = &core::Clock::Real();
};

class SqliteStore : public core::AdminStore {
 public:
  // Opens (creating if needed) the database and its schema. Errors, each
  // naming the path (none of them goes away by retrying, but UNAVAILABLE):
  //   INVALID_ARGUMENT     the path, or one of its names, is longer than the
  //                        system allows;
  //   FAILED_PRECONDITION  the file is not a durable database (left
  //                        untouched), has a newer schema version or a
  //                        schema version that is not a positive integer;
  //                        the path is a directory, a dangling symbolic
  //                        link, or its directory does not exist;
  //   DATA_LOSS            the file is a SQLite database that is damaged
  //                        (truncated or corrupt);
  //   PERMISSION_DENIED    the file is read-only, or it does not exist and
  //                        its directory is not writable;
  //   UNAVAILABLE          the file cannot be opened for another reason
  //                        (locked, I/O error).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const SqliteOptions& options);

  ~SqliteStore() override;

  std::string Describe() const override;

  absl::Status CreateWorkflowInstance(const v1::WorkflowInstance& instance,
                                      const v1::HistoryEvent& started) override;
  // The unfiltered convenience overloads of core::Store.
  using core::Store::GetActivityTask;
  using core::Store::GetWorkflowTask;
  absl::StatusOr<std::optional<core::WorkflowTask>> GetWorkflowTask(
      const std::vector<std::string>& queues, const core::TaskNameFilter& names,
      absl::Duration lease, absl::Time deadline,
      const std::atomic<bool>* stop) override;
  absl::Status ExtendWorkflowTaskLease(const core::WorkflowTask& task,
                                       absl::Duration lease) override;
  // The two-argument convenience of core::Store.
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

  // Group-commit counters since Open (for benchmarks): caller writes,
  // transactions committed, and those committed with an fsync of their own.
  struct CommitStats {
    int64_t writes = 0;
    int64_t commits = 0;
    int64_t synced_commits = 0;
  };
  CommitStats commit_stats() const;

 private:
  // One caller's writes, queued for the next batch.
  struct PendingWrite;
  SqliteStore(std::unique_ptr<Connection> connection,
              std::shared_ptr<core::ChangeNotifier> notifier,
              const core::Clock* clock, std::string description, bool on_disk);

  // Runs `body` (which uses connection_ with mu_ held, and must not begin or
  // end transactions) inside the next group-commit batch, in a savepoint of
  // its own, and returns its status once the batch committed. `durable`:
  // the batch must be fsynced (false only for lease grants and renewals,
  // which also do not notify waiters).
  absl::Status Write(bool durable, absl::FunctionRef<absl::Status()> body)
      ABSL_LOCKS_EXCLUDED(mu_, queue_mu_);
  // Runs one batch as one transaction and sets every entry's status. True
  // when a durable write changed something (waiters should be notified).
  bool RunBatch(const std::vector<PendingWrite*>& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Switches the connection between synchronous=FULL and NORMAL (files
  // only); outside transactions.
  absl::Status SetSynchronousFull(bool full) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // WAL files: returns once every commit counted in commits_written_ up to
  // `through` is on disk, by one fdatasync of the WAL that covers every
  // commit written before it began (see the header).
  absl::Status SyncWal(uint64_t through) ABSL_LOCKS_EXCLUDED(mu_, sync_mu_);

  // One non-blocking attempt to lease a task (a WorkflowTask or an
  // ActivityTask): a probe, then, only if it found a candidate, a lease
  // grant (see the header). Sets `*next_due` to the earliest future time at
  // which something may become ready (a delayed event, an expiring lease),
  // InfiniteFuture() if none. Only tasks matching `names` (see
  // core::TaskNameFilter), evaluated in the pick query itself.
  template <typename Task>
  absl::StatusOr<std::optional<Task>> TryGetTask(
      const std::vector<std::string>& queues, const core::TaskNameFilter& names,
      absl::Duration lease, absl::Time* next_due);
  // The blocking poll (core::PollUntil) around TryGetTask.
  template <typename Task>
  absl::StatusOr<std::optional<Task>> GetTask(
      const std::vector<std::string>& queues, const core::TaskNameFilter& names,
      absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop);
  // The poll kind of a task type and where its PollState is (the .cc).
  template <typename Task>
  struct PollKind;
  // The probe of a poll whose TaskPoll::key() is `queues_key`: returns
  // what `look`, run in a read transaction, returns -- whether a task is
  // ready; `look` only reads, and sets `*next_due` when none is -- or,
  // without running it, the answer kept in `*empty` while that still holds
  // (see EmptyProbe).
  struct EmptyProbe;
  absl::StatusOr<bool> Probe(EmptyProbe* empty, const std::string& queues_key,
                             absl::Time* next_due,
                             absl::FunctionRef<absl::StatusOr<bool>()> look)
      ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  std::unique_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
  // The shared relational part (backends/sql/relational_store.h) on
  // connection_: the PlanExecutor of completions (and of
  // CreateWorkflowInstance's start, activity results and signals), used
  // inside Write bodies, and the reads and writes that are the same on every
  // SQL database.
  std::unique_ptr<sql::RelationalStore> relational_ ABSL_GUARDED_BY(mu_);
  // Shared with other backends on the same file (see backends/sql/notifier_registry.h).
  const std::shared_ptr<core::ChangeNotifier> notifier_;
  const core::Clock* const clock_;
  // The blocking loops of the Get*Task polls and of
  // WaitForWorkflowInstanceFinished.
  const core::PollLoopOptions task_poll_;
  const core::PollLoopOptions finish_poll_;
  const std::string description_;
  const bool on_disk_;
  bool synchronous_full_ ABSL_GUARDED_BY(mu_) = true;
  // Empty probes: after a probe of some queues found nothing, later probes
  // of the same queues find nothing too until `next_due`, unless something
  // was committed to the file since -- by this connection (its commit count)
  // or by any other, in this process or another (SQLite's data_version) --
  // so they are answered without the queries. Pollers woken together by a
  // commit, and pollers re-checking for other processes' work, would
  // otherwise each repeat the same fruitless queries.
  struct EmptyProbe {
    int64_t commits = -1;
    int64_t data_version = 0;
    std::string queues;
    absl::Time next_due;
  };
  // Empty polls within one batch: pollers whose probes found the same
  // candidate all queue a lease grant; after one of them found nothing (the
  // others took the candidates), later grants for the same queues in the
  // same batch find nothing too unless a durable write (the only kind that
  // can make a task ready) came in between, so they are answered without
  // SQL.
  struct EmptyPoll {
    uint64_t batch = 0;
    uint64_t durable_writes = 0;
    std::string queues;
    absl::Time next_due;
  };
  uint64_t batch_number_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t durable_writes_ ABSL_GUARDED_BY(mu_) = 0;
  // Per kind of task.
  struct PollState {
    EmptyProbe empty_probe;
    EmptyPoll empty_poll;
  };
  PollState workflow_polls_ ABSL_GUARDED_BY(mu_);
  PollState activity_polls_ ABSL_GUARDED_BY(mu_);
  CommitStats commit_stats_ ABSL_GUARDED_BY(mu_);
  // The WAL's path when the backend syncs it itself (a file in WAL mode);
  // empty when SQLite syncs every commit (synchronous=FULL). Set once in Open.
  std::string wal_path_;
  // Transactions committed (written to the WAL, maybe not yet synced).
  std::atomic<uint64_t> commits_written_{0};
  // Lock order: sync_mu_ is never held while acquiring mu_ or queue_mu_.
  mutable absl::Mutex sync_mu_;
  uint64_t commits_synced_ ABSL_GUARDED_BY(sync_mu_) = 0;
  int64_t wal_syncs_ ABSL_GUARDED_BY(sync_mu_) = 0;
  int wal_fd_ ABSL_GUARDED_BY(sync_mu_) = -1;

  // The group-commit queue. Lock order: queue_mu_ is never held while
  // acquiring mu_ or running SQL.
  absl::Mutex queue_mu_;
  std::vector<PendingWrite*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool leader_active_ ABSL_GUARDED_BY(queue_mu_) = false;
};

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_SQLITE_STORE_H_
