#include "backends/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/sql/dialect.h"
#include "backends/sql/notifier_registry.h"
#include "backends/sql/relational_plan_executor.h"
#include "backends/sql/relational_store.h"
#include "backends/sql/store_calls.h"
#include "backends/sql/task_poll.h"
#include "backends/sqlite/connection.h"
#include "backends/sqlite/schema.h"
#include "backends/sqlite/status_macros.h"
#include "core/storage/completion_plan.h"

namespace durable::backends::sqlite {
namespace {

using core::ActivityTask;
using core::WorkflowTask;
using sql::TaskKind;
using sql::TaskPoll;
using Mode = Transaction::Mode;

// Pollers re-check at least this often so that work committed by another
// process (which cannot bump our notifier) is picked up promptly.
constexpr absl::Duration kTaskPollInterval = absl::Milliseconds(100);
constexpr absl::Duration kFinishPollInterval = absl::Milliseconds(50);

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// Why `path` cannot hold a database file, before SQLite says only "unable
// to open database file" (which reads as transient).
absl::Status CheckDatabasePath(const std::string& path) {
  if (path.size() >= PATH_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("sqlite database path is ", path.size(),
                     " bytes long; the limit is ", PATH_MAX - 1));
  }
  for (absl::string_view name : absl::StrSplit(path, '/')) {
    if (name.size() > NAME_MAX) {
      return absl::InvalidArgumentError(
          absl::StrCat("sqlite database path ", Quoted(path), " has a name of ",
                       name.size(), " bytes; the limit is ", NAME_MAX));
    }
  }
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode) && stat(path.c_str(), &st) != 0) {
      std::string target(PATH_MAX, '\0');
      const ssize_t n = readlink(path.c_str(), target.data(), target.size());
      target.resize(n > 0 ? static_cast<size_t>(n) : 0);
      return absl::FailedPreconditionError(absl::StrCat(
          "sqlite database path ", Quoted(path), " is a symbolic link to ",
          Quoted(target), ", which does not exist"));
    }
    return absl::OkStatus();  // Exists: Open checks what it is.
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  if (stat(dir.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create sqlite database ", Quoted(path),
                     ": directory ", Quoted(dir), " does not exist"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create sqlite database ", Quoted(path), ": ",
                     Quoted(dir), " is not a directory"));
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create sqlite database ", Quoted(path),
                     ": directory ", Quoted(dir), " is not writable"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const SqliteOptions& options) {
  constexpr int kFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const core::Clock* clock =
      options.clock != nullptr ? options.clock : &core::Clock::Real();
  if (options.in_memory) {
    DURABLE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                             Connection::Open(":memory:", kFlags));
    DURABLE_RETURN_IF_ERROR(EnsureSchema(*connection, "memory"));
    return std::unique_ptr<SqliteStore>(new SqliteStore(
        std::move(connection), std::make_shared<core::ChangeNotifier>(), clock,
        "sqlite memory", /*on_disk=*/false));
  }
  const std::string& path = options.path;
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "sqlite backend needs a database file path (or in_memory)");
  }
  DURABLE_RETURN_IF_ERROR(CheckDatabasePath(path));
  // SQLite silently opens a write-protected file read-only, and lets root
  // write to it; either way durable would fail later in a confusing place.
  // A file without any write permission bit is treated as read-only even for
  // root, honouring the intent of whoever protected it.
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sqlite database path ", Quoted(path), " is not a regular file"));
    }
    if ((st.st_mode & 0222) == 0 || access(path.c_str(), W_OK) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("sqlite database file ", Quoted(path),
                       " is read-only; durable needs write access"));
    }
  }
  DURABLE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                           Connection::Open(path, kFlags));
  if (sqlite3_db_readonly(connection->db(), "main") == 1) {
    return absl::PermissionDeniedError(
        absl::StrCat("sqlite database file ", Quoted(path),
                     " is read-only; durable needs write access"));
  }
  sqlite3_busy_timeout(connection->db(),
                       static_cast<int>(std::clamp<int64_t>(
                           absl::ToInt64Milliseconds(options.busy_timeout), 0,
                           std::numeric_limits<int>::max())));
  // Refuse foreign and newer databases before anything below writes to the
  // file (switching to WAL rewrites its header).
  DURABLE_RETURN_IF_ERROR(CheckSchemaCompatible(*connection, path));
  std::string journal_mode;
  {
    DURABLE_ASSIGN_OR_RETURN(Statement pragma,
                             connection->Prepare("PRAGMA journal_mode=WAL"));
    DURABLE_ASSIGN_OR_RETURN(bool row, pragma.Step());
    journal_mode = row ? absl::AsciiStrToUpper(pragma.ColumnText(0)) : "?";
  }
  // In WAL mode the backend syncs the WAL itself, outside its write lock
  // (see the header); SQLite runs at NORMAL, whose checkpoints still sync
  // the WAL before copying it and the database after. Any other journal
  // mode keeps SQLite's own fsync per commit (FULL).
  const bool wal = journal_mode == "WAL";
  DURABLE_RETURN_IF_ERROR(connection->Exec(wal ? "PRAGMA synchronous=NORMAL"
                                               : "PRAGMA synchronous=FULL"));
  DURABLE_RETURN_IF_ERROR(EnsureSchema(*connection, path));

  std::string canonical = path;
  if (char* resolved = realpath(path.c_str(), nullptr); resolved != nullptr) {
    canonical = resolved;
    free(resolved);
  }
  std::string description = absl::StrCat(
      "sqlite file=", canonical, " journal=", journal_mode,
      wal ? " durability=full (WAL fdatasync before any write returns)"
          : " synchronous=FULL",
      " group_commit=on lease_commits=NORMAL");
  auto backend = std::unique_ptr<SqliteStore>(
      new SqliteStore(std::move(connection), sql::SharedNotifierFor(canonical),
                      clock, std::move(description),
                      /*on_disk=*/true));
  {
    absl::MutexLock lock(&backend->mu_);
    backend->synchronous_full_ = !wal;
  }
  if (wal) backend->wal_path_ = canonical + "-wal";
  return backend;
}

SqliteStore::SqliteStore(std::unique_ptr<Connection> connection,
                         std::shared_ptr<core::ChangeNotifier> notifier,
                         const core::Clock* clock, std::string description,
                         bool on_disk)
    : connection_(std::move(connection)),
      notifier_(std::move(notifier)),
      clock_(clock),
      task_poll_{clock, notifier_.get(), kTaskPollInterval},
      finish_poll_{clock, notifier_.get(), kFinishPollInterval},
      description_(std::move(description)),
      on_disk_(on_disk) {
  absl::MutexLock lock(&mu_);
  relational_ = std::make_unique<sql::RelationalStore>(connection_.get());
}

SqliteStore::~SqliteStore() {
  if (wal_fd_ >= 0) close(wal_fd_);
}

std::string SqliteStore::Describe() const { return description_; }

void SqliteStore::Interrupt() { notifier_->Notify(); }

// ---------------------------------------------------------------------------
// Group commit.

struct SqliteStore::PendingWrite {
  PendingWrite(bool durable, absl::FunctionRef<absl::Status()> body)
      : durable(durable), body(body) {}
  const bool durable;
  const absl::FunctionRef<absl::Status()> body;
  absl::Status status;
  // Set (under queue_mu_) when a leader took the write into its batch, and
  // once `status` is final.
  bool taken = false;
  bool done = false;
};

SqliteStore::CommitStats SqliteStore::commit_stats() const {
  CommitStats stats;
  {
    absl::MutexLock lock(&mu_);
    stats = commit_stats_;
  }
  if (!wal_path_.empty()) {
    absl::MutexLock lock(&sync_mu_);
    stats.synced_commits = wal_syncs_;
  }
  return stats;
}

absl::Status SqliteStore::SyncWal(uint64_t through) {
  absl::MutexLock lock(&sync_mu_);
  // One fdatasync covers every commit written before it started, so
  // leaders that queued behind a sync often find theirs done already.
  if (commits_synced_ >= through) return absl::OkStatus();
  const uint64_t written = commits_written_.load();
  struct stat by_path;
  struct stat by_fd;
  if (wal_fd_ >= 0 &&
      (stat(wal_path_.c_str(), &by_path) != 0 || fstat(wal_fd_, &by_fd) != 0 ||
       by_path.st_ino != by_fd.st_ino || by_path.st_dev != by_fd.st_dev)) {
    close(wal_fd_);  // The WAL was replaced; sync the current one.
    wal_fd_ = -1;
  }
  if (wal_fd_ < 0) {
    wal_fd_ = open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot open the write-ahead log ", Quoted(wal_path_),
                       " to sync it: ", strerror(errno)));
    }
    // A new WAL's directory entry must be durable too.
    const std::string dir = wal_path_.substr(0, wal_path_.rfind('/') + 1);
    if (int dir_fd = open(dir.empty() ? "." : dir.c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        dir_fd >= 0) {
      fsync(dir_fd);
      close(dir_fd);
    }
  }
  if (fdatasync(wal_fd_) != 0) {
    return absl::UnavailableError(absl::StrCat(
        "fdatasync of the write-ahead log ", Quoted(wal_path_),
        " failed (the commit may not be durable): ", strerror(errno)));
  }
  ++wal_syncs_;
  commits_synced_ = written;
  return absl::OkStatus();
}

absl::Status SqliteStore::SetSynchronousFull(bool full) {
  if (!on_disk_ || synchronous_full_ == full) return absl::OkStatus();
  DURABLE_ASSIGN_OR_RETURN(
      Statement pragma,
      connection_->Prepare(full ? "PRAGMA synchronous=FULL"
                                : "PRAGMA synchronous=NORMAL"));
  DURABLE_RETURN_IF_ERROR(pragma.Run());
  synchronous_full_ = full;
  return absl::OkStatus();
}

absl::Status SqliteStore::Write(bool durable,
                                absl::FunctionRef<absl::Status()> body) {
  PendingWrite self(durable, body);
  std::vector<PendingWrite*> batch;
  {
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(&self);
    // Either a leader runs our write, or we become the leader.
    auto done_or_lead = [this,
                         &self]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
      return self.done || (!leader_active_ && !self.taken);
    };
    queue_mu_.Await(absl::Condition(&done_or_lead));
    if (self.done) return self.status;
    // Leader: take everything queued so far (our own write included) and
    // run it as one transaction. Callers arriving meanwhile queue for the
    // next one.
    leader_active_ = true;
    batch.swap(queue_);
    for (PendingWrite* write : batch) write->taken = true;
  }
  bool notify;
  {
    absl::MutexLock lock(&mu_);
    notify = RunBatch(batch);
  }
  // The next batch may run its SQL while this one waits for the disk.
  {
    absl::MutexLock lock(&queue_mu_);
    leader_active_ = false;
  }
  const bool needs_sync =
      !wal_path_.empty() &&
      std::any_of(batch.begin(), batch.end(),
                  [](PendingWrite* w) { return w->durable; });
  if (needs_sync) {
    // Everything committed so far, ours included, and anything an OK answer
    // of this batch may rest on.
    if (absl::Status synced = SyncWal(commits_written_.load()); !synced.ok()) {
      for (PendingWrite* write : batch) {
        if (write->status.ok()) write->status = synced;
      }
    }
  }
  if (notify) notifier_->Notify();
  absl::Status status = self.status;
  {
    absl::MutexLock lock(&queue_mu_);
    // `self` must not be touched after this: waiters wake up, return and
    // destroy their entries.
    for (PendingWrite* write : batch) write->done = true;
  }
  return status;
}

bool SqliteStore::RunBatch(const std::vector<PendingWrite*>& batch) {
  commit_stats_.writes += static_cast<int64_t>(batch.size());
  ++batch_number_;
  const bool durable = std::any_of(batch.begin(), batch.end(),
                                   [](PendingWrite* w) { return w->durable; });
  auto fail_rest = [&](const absl::Status& status) {
    for (PendingWrite* write : batch) {
      if (write->status.ok()) write->status = status;
    }
  };
  if (absl::Status s = SetSynchronousFull(durable && wal_path_.empty());
      !s.ok()) {
    fail_rest(s);
    return false;
  }
  std::optional<Transaction> txn;
  auto begin = [&]() -> absl::Status {
    txn.reset();
    absl::StatusOr<Transaction> started =
        Transaction::Begin(connection_.get(), Mode::kWrite);
    if (!started.ok()) return started.status();
    txn.emplace(*std::move(started));
    return absl::OkStatus();
  };
  if (absl::Status s = begin(); !s.ok()) {
    fail_rest(s);
    return false;
  }
  // One caller alone needs no savepoint: the transaction is its scope.
  const bool savepoints = batch.size() > 1;
  // Writes whose effects are part of the open transaction so far.
  std::vector<PendingWrite*> applied;
  bool wrote = false;   // some applied write changed rows
  bool notify = false;  // ... and it was a durable one (not a lease)
  for (PendingWrite* write : batch) {
    if (savepoints) {
      if (absl::Status s = connection_->Savepoint("caller"); !s.ok()) {
        write->status = s;
        continue;
      }
    }
    const int64_t changes_before = connection_->TotalChanges();
    write->status = write->body();
    if (!connection_->InTransaction()) {
      // SQLite rolled the whole transaction back (an I/O error, a full
      // disk): the writes applied before this one are gone with it. They
      // fail too (nothing of theirs was written); the rest of the batch runs
      // in a new transaction.
      const absl::Status lost = absl::UnavailableError(absl::StrCat(
          "the group-commit transaction was rolled back: ",
          write->status.ok() ? "unknown error" : write->status.ToString()));
      if (write->status.ok()) write->status = lost;
      for (PendingWrite* other : applied) other->status = lost;
      applied.clear();
      wrote = notify = false;
      ++batch_number_;  // State moved back: forget empty polls (EmptyPoll).
      if (absl::Status s = begin(); !s.ok()) {
        fail_rest(s);
        return false;
      }
      continue;
    }
    if (!write->status.ok()) {
      // Undo exactly this caller's writes; the others stay.
      if (savepoints) {
        absl::Status undone = connection_->RollbackToSavepoint("caller");
        if (undone.ok()) undone = connection_->ReleaseSavepoint("caller");
        if (!undone.ok()) {
          fail_rest(undone);  // Cannot isolate the failure: fail them all.
          return false;       // The transaction rolls back.
        }
      }
      continue;
    }
    if (savepoints) {
      if (absl::Status s = connection_->ReleaseSavepoint("caller"); !s.ok()) {
        fail_rest(s);
        return false;
      }
    }
    if (connection_->TotalChanges() != changes_before) {
      wrote = true;
      notify = notify || write->durable;
      if (write->durable) ++durable_writes_;
    }
    applied.push_back(write);
  }
  if (!wrote) return false;  // Nothing to commit: the transaction rolls back.
  if (absl::Status s = txn->Commit(); !s.ok()) {
    for (PendingWrite* write : applied) write->status = s;
    return false;
  }
  ++commit_stats_.commits;
  commits_written_.fetch_add(1);
  // Files in WAL mode count their own syncs (SyncWal).
  if (durable && on_disk_ && wal_path_.empty()) {
    ++commit_stats_.synced_commits;
  }
  return notify;
}

absl::Status SqliteStore::CreateWorkflowInstance(
    const v1::WorkflowInstance& instance, const v1::HistoryEvent& started) {
  DURABLE_ASSIGN_OR_RETURN(
      core::ExecutionStart start,
      core::PlanInstanceCreation(instance, started, clock_->Now()));
  return Write(/*durable=*/true, [&]() -> absl::Status {
    return core::ExecuteInstanceCreation(start, relational_->plan_executor());
  });
}

absl::StatusOr<bool> SqliteStore::Probe(
    EmptyProbe* empty, const std::string& queues_key, absl::Time* next_due,
    absl::FunctionRef<absl::StatusOr<bool>()> look) {
  absl::MutexLock lock(&mu_);
  // Changes when another connection (here or in another process) commits;
  // this connection's own commits are counted in commit_stats_.
  int64_t data_version = 0;
  {
    DURABLE_ASSIGN_OR_RETURN(Statement version,
                             connection_->Prepare("PRAGMA data_version"));
    DURABLE_ASSIGN_OR_RETURN(bool row, version.Step());
    if (row) data_version = version.ColumnInt64(0);
  }
  if (empty->commits == commit_stats_.commits &&
      empty->data_version == data_version && empty->queues == queues_key &&
      clock_->Now() < empty->next_due) {
    *next_due = empty->next_due;  // See EmptyProbe.
    return false;
  }
  DURABLE_ASSIGN_OR_RETURN(Transaction read,
                           Transaction::Begin(connection_.get(), Mode::kRead));
  DURABLE_ASSIGN_OR_RETURN(bool found, look());
  DURABLE_RETURN_IF_ERROR(read.Commit());
  if (found) {
    *empty = EmptyProbe();
  } else {
    *empty = {commit_stats_.commits, data_version, queues_key, *next_due};
  }
  return found;
}

// The kind of poll each task type is, and this store's state for it.
template <>
struct SqliteStore::PollKind<WorkflowTask> {
  static constexpr TaskKind kKind = TaskKind::kWorkflow;
  static constexpr PollState SqliteStore::*kState =
      &SqliteStore::workflow_polls_;
};
template <>
struct SqliteStore::PollKind<ActivityTask> {
  static constexpr TaskKind kKind = TaskKind::kActivity;
  static constexpr PollState SqliteStore::*kState =
      &SqliteStore::activity_polls_;
};

template <typename Task>
absl::StatusOr<std::optional<Task>> SqliteStore::TryGetTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time* next_due) {
  const TaskPoll poll(PollKind<Task>::kKind, queues, names,
                      sql::SqliteDialect());
  std::optional<Task> leased;
  // The probe (see the header): a read transaction that only looks.
  DURABLE_ASSIGN_OR_RETURN(
      bool ready, Probe(&(this->*PollKind<Task>::kState).empty_probe,
                        poll.key(), next_due, [&]() -> absl::StatusOr<bool> {
                          mu_.AssertHeld();
                          return relational_->FindTask(poll, clock_->Now(),
                                                       next_due);
                        }));
  if (!ready) return leased;
  // A lease grant: no fsync of its own (see the header). It looks again in
  // the write transaction, where the clock is read: the lease runs from its
  // grant (core/storage/store.h).
  DURABLE_RETURN_IF_ERROR(Write(/*durable=*/false, [&]() -> absl::Status {
    mu_.AssertHeld();
    EmptyPoll& empty = (this->*PollKind<Task>::kState).empty_poll;
    if (empty.batch == batch_number_ &&
        empty.durable_writes == durable_writes_ && empty.queues == poll.key()) {
      *next_due = empty.next_due;  // See EmptyPoll.
      return absl::OkStatus();
    }
    DURABLE_RETURN_IF_ERROR(
        relational_->LeaseTask(poll, clock_->Now(), lease, next_due, &leased));
    if (!leased.has_value()) {
      empty = {batch_number_, durable_writes_, poll.key(), *next_due};
    }
    return absl::OkStatus();
  }));
  return leased;
}

template <typename Task>
absl::StatusOr<std::optional<Task>> SqliteStore::GetTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  const std::vector<std::string>& polled = core::PolledQueues(queues);
  std::optional<Task> task;
  DURABLE_ASSIGN_OR_RETURN(
      core::PollOutcome outcome,
      core::PollUntil(task_poll_, deadline, stop,
                      [&](absl::Time* next_due) -> absl::StatusOr<bool> {
                        DURABLE_ASSIGN_OR_RETURN(
                            task,
                            TryGetTask<Task>(polled, names, lease, next_due));
                        return task.has_value();
                      }));
  if (outcome != core::PollOutcome::kFound) task.reset();
  return task;
}

absl::StatusOr<std::optional<WorkflowTask>> SqliteStore::GetWorkflowTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  return GetTask<WorkflowTask>(queues, names, lease, deadline, stop);
}

absl::StatusOr<std::optional<ActivityTask>> SqliteStore::GetActivityTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  return GetTask<ActivityTask>(queues, names, lease, deadline, stop);
}

absl::Status SqliteStore::ExtendWorkflowTaskLease(const WorkflowTask& task,
                                                  absl::Duration lease) {
  return Write(/*durable=*/false, [&]() -> absl::Status {
    mu_.AssertHeld();
    return relational_->ExtendWorkflowLease(task, clock_->Now() + lease);
  });
}

absl::Status SqliteStore::CompleteWorkflowTask(
    const WorkflowTask& task, const core::WorkflowTaskCompletion& completion,
    core::WorkflowTaskCommitResult* result) {
  if (result != nullptr) *result = core::WorkflowTaskCommitResult();
  DURABLE_RETURN_IF_ERROR(sql::CheckWorkflowTaskCompletion(task, completion));
  // Filled by the body; handed to the caller only if the batch committed.
  core::WorkflowTaskCommitResult committed;
  absl::Status status = Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    // Inside the transaction: eager leases run from their grant.
    return sql::CompleteWorkflowTaskIn(
        *relational_, task, completion, clock_->Now(),
        result != nullptr ? &committed : nullptr);
  });
  if (status.ok() && result != nullptr) *result = std::move(committed);
  return status;
}

absl::Status SqliteStore::CompleteActivityWithWorkflowTask(
    const ActivityTask& activity, const v1::HistoryEvent& activity_result,
    const WorkflowTask& task, const core::WorkflowTaskCompletion& completion,
    core::WorkflowTaskCommitResult* result) {
  DURABLE_RETURN_IF_ERROR(
      sql::CheckFusedStep(activity, task, completion, result));
  // Filled by the body; handed to the caller only if the batch committed.
  core::WorkflowTaskCommitResult committed;
  absl::Status status = Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    // Inside the transaction: whether the workflow lease expired, and the
    // eager leases, are judged and stamped at the grant.
    return sql::CompleteFusedStepIn(*relational_, activity, activity_result,
                                    task, completion, clock_->Now(),
                                    &committed);
  });
  if (status.ok()) *result = std::move(committed);
  return status;
}

absl::Status SqliteStore::AbandonWorkflowTask(
    const WorkflowTask& task, const v1::WorkflowTaskFailure& failure,
    absl::Duration retry_delay) {
  // Durable (it records the failure); waiters are notified because ready_at
  // moved and pollers recompute when to wake up.
  return Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    return relational_->AbandonWorkflowTask(task, failure,
                                            clock_->Now() + retry_delay);
  });
}

absl::Status SqliteStore::ExtendActivityTaskLease(const ActivityTask& task,
                                                  absl::Duration lease) {
  return Write(/*durable=*/false, [&]() -> absl::Status {
    mu_.AssertHeld();
    return relational_->ExtendActivityLease(task, clock_->Now() + lease);
  });
}

absl::Status SqliteStore::RetryActivityTask(const ActivityTask& task,
                                            int32_t next_attempt,
                                            absl::Time visible_at) {
  // Durable; waiters are notified, so pollers recompute when the next task
  // becomes due.
  return Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    return relational_->RetryActivityTask(task, next_attempt, visible_at);
  });
}

absl::Status SqliteStore::CompleteActivityTask(const ActivityTask& task,
                                               const v1::HistoryEvent& result) {
  const absl::Time now = clock_->Now();
  return Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    return sql::CompleteActivityTaskIn(*relational_, task, result, now);
  });
}

absl::StatusOr<v1::WorkflowInstanceState> SqliteStore::GetWorkflowInstanceState(
    const std::string& instance_id) {
  absl::MutexLock lock(&mu_);
  return relational_->GetWorkflowInstanceState(instance_id);
}

absl::StatusOr<std::vector<v1::WorkflowInstanceState>>
SqliteStore::ListWorkflowExecutions(const std::string& instance_id) {
  absl::MutexLock lock(&mu_);
  return relational_->ListWorkflowExecutions(instance_id);
}

absl::StatusOr<std::vector<v1::HistoryEvent>> SqliteStore::GetWorkflowHistory(
    const std::string& instance_id, const std::string& execution_id,
    int64_t after_id) {
  absl::MutexLock lock(&mu_);
  return relational_->GetWorkflowHistory(instance_id, execution_id, after_id);
}

absl::StatusOr<v1::WorkflowInstanceState>
SqliteStore::WaitForWorkflowInstanceFinished(const std::string& instance_id,
                                             absl::Time deadline) {
  return sql::WaitForFinished(finish_poll_, instance_id, deadline, [&] {
    return GetWorkflowInstanceState(instance_id);
  });
}

absl::Status SqliteStore::DeliverWorkflowEvent(const std::string& instance_id,
                                               const v1::HistoryEvent& event) {
  const v1::HistoryEvent inbound = core::AsInboxEvent(event);
  return Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    return relational_->DeliverToNewestExecution(instance_id, inbound,
                                                 clock_->Now());
  });
}

absl::Status SqliteStore::RemoveWorkflowInstance(
    const std::string& instance_id) {
  return Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    return relational_->RemoveInstance(instance_id);
  });
}

absl::StatusOr<int64_t> SqliteStore::RemoveWorkflowInstances(
    absl::Time finished_before) {
  int64_t removed = 0;
  absl::Status status = Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    DURABLE_ASSIGN_OR_RETURN(
        removed, relational_->RemoveExecutionsFinishedBefore(finished_before));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return removed;
}

absl::StatusOr<core::WorkflowInstancePage> SqliteStore::ListWorkflowInstances(
    const std::string& cursor, int page_size) {
  absl::MutexLock lock(&mu_);
  return relational_->ListInstances(cursor, page_size);
}

absl::StatusOr<core::StoreStats> SqliteStore::GetStats() {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  return relational_->GetStats(now);
}

// ---------------------------------------------------------------------------
// The worker registry.

absl::Status SqliteStore::RecordWorker(const v1::WorkerInfo& worker) {
  DURABLE_RETURN_IF_ERROR(sql::CheckWorker(worker));
  // Not synced on its own, like a lease: an entry is worthless after a power
  // loss, which ends its worker too.
  return Write(/*durable=*/false, [&]() -> absl::Status {
    mu_.AssertHeld();
    return relational_->RecordWorker(worker);
  });
}

absl::Status SqliteStore::RemoveWorker(const std::string& worker_id) {
  return Write(/*durable=*/false, [&]() -> absl::Status {
    mu_.AssertHeld();
    return relational_->RemoveWorker(worker_id);
  });
}

absl::StatusOr<std::vector<v1::WorkerInfo>> SqliteStore::ListWorkers() {
  absl::MutexLock lock(&mu_);
  return relational_->ListWorkers();
}

}  // namespace durable::backends::sqlite
