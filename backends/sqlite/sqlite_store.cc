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
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/sql/relational_plan_executor.h"
#include "backends/sql/relational_store.h"
#include "backends/sqlite/connection.h"
#include "backends/sqlite/notifier_registry.h"
#include "backends/sqlite/schema.h"
#include "backends/sqlite/status_macros.h"
#include "core/storage/completion_plan.h"
#include "core/time_util.h"
#include "core/uuid.h"

namespace durable::backends::sqlite {
namespace {

using core::ActivityTask;
using core::WorkflowTask;
using sql::FormatInboxCursor;
using sql::InboxCursor;
using sql::ParseInboxCursor;
using sql::ParseMetadata;
using sql::StateFromRow;
using sql::WorkflowLeaseLost;
using Mode = Transaction::Mode;

constexpr int64_t kActive = v1::WORKFLOW_STATE_ACTIVE;

// Pollers re-check at least this often so that work committed by another
// process (which cannot bump our notifier) is picked up promptly.
constexpr absl::Duration kTaskPollInterval = absl::Milliseconds(100);
constexpr absl::Duration kFinishPollInterval = absl::Milliseconds(50);

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// "?2, ?3, ..." for `count` parameters starting at ?`first`.
std::string Placeholders(int first, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ", ", "?", first + i);
  }
  return out;
}

// A poll's TaskNameFilter as SQL: a condition on the columns `name` and
// `queue` whose placeholders are numbered from ?`first`, and the texts to
// bind to them, in order.
struct NameCondition {
  std::string sql = "1";
  std::vector<std::string> values;
};

NameCondition NameFilterCondition(const core::TaskNameFilter& filter,
                                  absl::string_view name,
                                  absl::string_view queue, int first) {
  NameCondition condition;
  if (!filter.restricted) return condition;
  auto placeholders = [&](const std::vector<std::string>& values) {
    std::string out = Placeholders(
        first + static_cast<int>(condition.values.size()), values.size());
    condition.values.insert(condition.values.end(), values.begin(),
                            values.end());
    return out;
  };
  // Tasks other live workers of their queue may run.
  std::vector<std::string> claimed;
  for (const auto& [claimed_queue, claims] : filter.claimed) {
    if (!claims.all && claims.names.empty()) continue;
    std::string clause =
        absl::StrCat("(", queue, " = ", placeholders({claimed_queue}));
    if (!claims.all) {
      absl::StrAppend(&clause, " AND ", name, " IN (",
                      placeholders(claims.names), ")");
    }
    claimed.push_back(absl::StrCat(clause, ")"));
  }
  if (claimed.empty()) return condition;  // Nobody else: every task.
  const std::string own =
      filter.names.empty()
          ? "0"
          : absl::StrCat(name, " IN (", placeholders(filter.names), ")");
  condition.sql =
      absl::StrCat("(", own, " OR NOT (", absl::StrJoin(claimed, " OR "), "))");
  return condition;
}

void BindNameCondition(Statement& stmt, int first,
                       const NameCondition& condition) {
  for (size_t i = 0; i < condition.values.size(); ++i) {
    stmt.BindText(first + static_cast<int>(i), condition.values[i]);
  }
}

// Identifies a set of polled queues and their name condition
// (EmptyPoll::queues).
std::string QueuesKey(const std::vector<std::string>& queues,
                      const NameCondition& names) {
  return absl::StrCat(absl::StrJoin(queues, "\x1f"), "\x1e", names.sql, "\x1e",
                      absl::StrJoin(names.values, "\x1f"));
}

absl::Time ValueOr(Statement& stmt, int column, absl::Time fallback) {
  return stmt.ColumnIsNull(column)
             ? fallback
             : core::FromUnixMicros(stmt.ColumnInt64(column));
}

// Listing cursor: "<created_at_us>:<rowid>" of the last entry returned.
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

bool ParseListCursor(const std::string& cursor, int64_t* created_us,
                     int64_t* row_id) {
  std::vector<std::string> parts = absl::StrSplit(cursor, ':');
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], created_us) &&
         absl::SimpleAtoi(parts[1], row_id);
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
      new SqliteStore(std::move(connection), SharedNotifierFor(canonical),
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
  // SQLite's instances table orders rows by insertion in its implicit rowid.
  absl::MutexLock lock(&mu_);
  relational_ = std::make_unique<sql::RelationalStore>(
      connection_.get(), /*instance_order=*/"rowid");
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
      if (absl::Status s = connection_->Exec("SAVEPOINT caller"); !s.ok()) {
        write->status = s;
        continue;
      }
    }
    const int64_t changes_before = sqlite3_total_changes64(connection_->db());
    write->status = write->body();
    if (sqlite3_get_autocommit(connection_->db()) != 0) {
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
        absl::Status undone = connection_->Exec(
            "ROLLBACK TO SAVEPOINT caller; RELEASE SAVEPOINT caller");
        if (!undone.ok()) {
          fail_rest(undone);  // Cannot isolate the failure: fail them all.
          return false;       // The transaction rolls back.
        }
      }
      continue;
    }
    if (savepoints) {
      if (absl::Status s = connection_->Exec("RELEASE SAVEPOINT caller");
          !s.ok()) {
        fail_rest(s);
        return false;
      }
    }
    if (sqlite3_total_changes64(connection_->db()) != changes_before) {
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

absl::StatusOr<std::optional<WorkflowTask>> SqliteStore::TryGetWorkflowTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& filter,
    absl::Duration lease, absl::Time* next_due) {
  const NameCondition names =
      NameFilterCondition(filter, "i.workflow_name", "i.queue",
                          2 + static_cast<int>(queues.size()));
  const std::string queues_key = QueuesKey(queues, names);
  std::optional<WorkflowTask> leased;
  // Looks for a ready task; returns whether there is one. Without `grant`
  // (the probe, see the header) it only looks; with `grant`, in the write
  // transaction, it looks again and leases what it finds.
  auto look = [&](bool grant) -> absl::StatusOr<bool> {
    mu_.AssertHeld();
    // Read with the transaction open, not before waiting for it: the lease
    // runs from its grant (core/storage/store.h).
    const absl::Time now = clock_->Now();
    const int64_t now_us = core::ToUnixMicros(now);
    if (grant && empty_workflow_poll_.batch == batch_number_ &&
        empty_workflow_poll_.durable_writes == durable_writes_ &&
        empty_workflow_poll_.queues == queues_key) {
      *next_due = empty_workflow_poll_.next_due;  // See EmptyPoll.
      return false;
    }
    WorkflowTask task;
    {
      // The statement text depends on the number of queues only, so the cache
      // holds one entry per distinct count. It walks visible inbox events in
      // (visible_at, id) order and looks each one's instance up by primary
      // key, stopping at the first ready one: O(events skipped), not
      // O(active instances). CROSS JOIN fixes that loop order for SQLite's
      // planner.
      DURABLE_ASSIGN_OR_RETURN(
          Statement pick,
          connection_->Prepare(absl::StrCat(
              "SELECT i.instance_id, i.execution_id, i.queue, "
              "i.history_length, i.metadata, i.workflow_name, i.parent "
              "FROM inbox e CROSS JOIN instances i "
              "ON i.instance_id = e.instance_id "
              "AND i.execution_id = e.execution_id "
              "WHERE e.visible_at <= ?1 AND i.state = ",
              kActive,
              " AND i.ready_at <= ?1 "
              "AND (i.lease_token IS NULL OR i.lease_expires_at <= ?1) "
              "AND i.queue IN (",
              Placeholders(2, queues.size()), ") AND ", names.sql,
              " ORDER BY e.visible_at, e.id LIMIT 1")));
      pick.BindInt64(1, now_us);
      for (size_t i = 0; i < queues.size(); ++i) {
        pick.BindText(static_cast<int>(i) + 2, queues[i]);
      }
      BindNameCondition(pick, 2 + static_cast<int>(queues.size()), names);
      DURABLE_ASSIGN_OR_RETURN(bool found, pick.Step());
      if (!found) {
        DURABLE_ASSIGN_OR_RETURN(
            Statement due,
            connection_->Prepare(
                "SELECT min(t) FROM ("
                "SELECT min(visible_at) AS t FROM inbox WHERE visible_at > ?1 "
                "UNION ALL SELECT min(ready_at) FROM instances "
                "WHERE state = ?2 AND ready_at > ?1 "
                "UNION ALL SELECT min(lease_expires_at) FROM instances "
                "WHERE state = ?2 AND lease_token IS NOT NULL "
                "AND lease_expires_at > ?1)"));
        due.BindInt64(1, now_us).BindInt64(2, kActive);
        DURABLE_ASSIGN_OR_RETURN(bool row, due.Step());
        *next_due = row ? ValueOr(due, 0, absl::InfiniteFuture())
                        : absl::InfiniteFuture();
        if (grant) {
          empty_workflow_poll_ = {batch_number_, durable_writes_, queues_key,
                                  *next_due};
        }
        return false;  // Nothing ready (and nothing written).
      }
      if (!grant) return true;
      task.instance_id = pick.ColumnText(0);
      task.execution_id = pick.ColumnText(1);
      task.queue = pick.ColumnText(2);
      task.history_length = pick.ColumnInt64(3);
      task.metadata = ParseMetadata(pick.ColumnBlobView(4));
      task.workflow_name = pick.ColumnText(5);
      if (!pick.ColumnIsNull(6) &&
          !task.parent.ParseFromString(pick.ColumnBlob(6))) {
        // One bad row fails its own instance (core/storage/store.h), not the
        // poll.
        task.parent.Clear();
        task.damaged =
            absl::StrCat("the parent of workflow instance ",
                         Quoted(task.instance_id), " cannot be decoded");
      }
    }
    task.lease_token = core::NewUuid();
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement update,
          connection_->Prepare("UPDATE instances SET lease_token = ?1, "
                               "lease_expires_at = ?2 "
                               "WHERE instance_id = ?3 AND execution_id = ?4"));
      DURABLE_RETURN_IF_ERROR(update.BindText(1, task.lease_token)
                                  .BindInt64(2, core::ToUnixMicros(now + lease))
                                  .BindText(3, task.instance_id)
                                  .BindText(4, task.execution_id)
                                  .Run());
    }
    int64_t max_id = 0;
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement events,
          connection_->Prepare("SELECT id, event FROM inbox "
                               "WHERE instance_id = ?1 AND execution_id = ?2 "
                               "AND visible_at <= ?3 ORDER BY id"));
      events.BindText(1, task.instance_id)
          .BindText(2, task.execution_id)
          .BindInt64(3, now_us);
      while (true) {
        DURABLE_ASSIGN_OR_RETURN(bool row, events.Step());
        if (!row) break;
        max_id = events.ColumnInt64(0);
        v1::HistoryEvent& event = task.new_events.emplace_back();
        if (!event.ParseFromString(events.ColumnBlob(1))) {
          // Left out, and consumed with the task, which fails the instance.
          task.new_events.pop_back();
          if (task.damaged.empty()) {
            task.damaged = absl::StrCat("inbox of workflow instance ",
                                        Quoted(task.instance_id), ": entry ",
                                        max_id, " cannot be decoded");
          }
        }
      }
    }
    // Completion deletes exactly what was handed out: inbox ids grow
    // monotonically (AUTOINCREMENT), so "id <= max_id and visible at the time
    // the task was taken" never matches an event that arrived afterwards.
    task.inbox_cursor = FormatInboxCursor({max_id, now_us});
    leased = std::move(task);
    return true;
  };
  DURABLE_ASSIGN_OR_RETURN(bool ready,
                           Probe(&empty_workflow_probe_, queues_key, next_due,
                                 [&] { return look(/*grant=*/false); }));
  if (!ready) return std::optional<WorkflowTask>();
  // A lease grant: no fsync of its own (see the header).
  DURABLE_RETURN_IF_ERROR(Write(/*durable=*/false, [&]() -> absl::Status {
    return look(/*grant=*/true).status();
  }));
  return leased;
}

absl::StatusOr<std::optional<WorkflowTask>> SqliteStore::GetWorkflowTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  const std::vector<std::string>& polled = core::PolledQueues(queues);
  std::optional<WorkflowTask> task;
  DURABLE_ASSIGN_OR_RETURN(
      core::PollOutcome outcome,
      core::PollUntil(task_poll_, deadline, stop,
                      [&](absl::Time* next_due) -> absl::StatusOr<bool> {
                        DURABLE_ASSIGN_OR_RETURN(
                            task,
                            TryGetWorkflowTask(polled, names, lease, next_due));
                        return task.has_value();
                      }));
  if (outcome != core::PollOutcome::kFound) task.reset();
  return task;
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
  InboxCursor cursor;
  if (!ParseInboxCursor(task.inbox_cursor, &cursor)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "workflow task for instance ", Quoted(task.instance_id),
        " has a malformed inbox cursor ", Quoted(task.inbox_cursor)));
  }
  DURABLE_RETURN_IF_ERROR(core::CheckCompletion(task, completion));
  // Filled by the body; handed to the caller only if the batch committed.
  core::WorkflowTaskCommitResult committed;
  absl::Status status = Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    committed = core::WorkflowTaskCommitResult();
    core::PlanInputs inputs;
    // Inside the transaction: eager leases run from their grant.
    inputs.now = clock_->Now();
    inputs.eager_wanted = result != nullptr;
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement lease,
          connection_->Prepare("SELECT lease_token, history_length "
                               "FROM instances "
                               "WHERE instance_id = ?1 AND execution_id = ?2"));
      lease.BindText(1, task.instance_id).BindText(2, task.execution_id);
      DURABLE_ASSIGN_OR_RETURN(bool row, lease.Step());
      if (!row || lease.ColumnIsNull(0) ||
          lease.ColumnText(0) != task.lease_token) {
        return WorkflowLeaseLost(task);
      }
      inputs.history_length = lease.ColumnInt64(1);
    }
    DURABLE_ASSIGN_OR_RETURN(core::CompletionPlan plan,
                             core::PlanCompletion(task, completion, inputs));
    return core::ExecutePlan(plan, relational_->plan_executor(),
                             result != nullptr ? &committed : nullptr);
  });
  if (status.ok() && result != nullptr) *result = std::move(committed);
  return status;
}

absl::Status SqliteStore::CompleteActivityWithWorkflowTask(
    const ActivityTask& activity, const v1::HistoryEvent& activity_result,
    const WorkflowTask& task, const core::WorkflowTaskCompletion& completion,
    core::WorkflowTaskCommitResult* result) {
  if (result == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CompleteActivityWithWorkflowTask for activity ",
        Quoted(activity.activity_id), " needs a result to report into"));
  }
  *result = core::WorkflowTaskCommitResult();
  DURABLE_RETURN_IF_ERROR(core::CheckFusedStep(activity, task, completion));
  // Filled by the body; handed to the caller only if the batch committed.
  core::WorkflowTaskCommitResult committed;
  absl::Status status = Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    // Inside the transaction: whether the workflow lease expired, and the
    // eager leases, are judged and stamped at the grant.
    const absl::Time now = clock_->Now();
    committed = core::WorkflowTaskCommitResult();
    DURABLE_RETURN_IF_ERROR(relational_->DeleteLeasedActivity(activity));
    std::optional<core::ExecutionLeaseState> execution;
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement instance,
          connection_->Prepare("SELECT state, lease_token, lease_expires_at, "
                               "history_length FROM instances "
                               "WHERE instance_id = ?1 AND execution_id = ?2"));
      instance.BindText(1, task.instance_id).BindText(2, task.execution_id);
      DURABLE_ASSIGN_OR_RETURN(bool row, instance.Step());
      if (row) {
        execution.emplace();
        execution->state =
            static_cast<v1::WorkflowState>(instance.ColumnInt64(0));
        if (!instance.ColumnIsNull(1)) {
          execution->lease_expires_at =
              ValueOr(instance, 2, absl::InfiniteFuture());
        }
        execution->history_length = instance.ColumnInt64(3);
      }
    }
    if (!core::FusedStepMayCommit(execution, task, now)) {
      // The caller's copy is stale: the result goes to the inbox for whoever
      // runs the next task.
      return core::ExecuteDelivery(
          core::ActivityResultDelivery(activity, activity_result, now), now,
          relational_->plan_executor());
    }
    core::PlanInputs inputs;
    inputs.history_length = task.history_length;
    inputs.now = now;
    inputs.eager_wanted = true;
    // Events that arrived meanwhile (none of them is this activity's
    // result) wait for the next task.
    inputs.consume_inbox = false;
    DURABLE_ASSIGN_OR_RETURN(core::CompletionPlan plan,
                             core::PlanCompletion(task, completion, inputs));
    return core::ExecutePlan(plan, relational_->plan_executor(), &committed);
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

absl::StatusOr<std::optional<ActivityTask>> SqliteStore::TryGetActivityTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& filter,
    absl::Duration lease, absl::Time* next_due) {
  const NameCondition names = NameFilterCondition(
      filter, "activity_name", "queue", 2 + static_cast<int>(queues.size()));
  const std::string queues_key = QueuesKey(queues, names);
  std::optional<ActivityTask> leased;
  // As in TryGetWorkflowTask.
  auto look = [&](bool grant) -> absl::StatusOr<bool> {
    mu_.AssertHeld();
    const absl::Time now = clock_->Now();
    const int64_t now_us = core::ToUnixMicros(now);
    if (grant && empty_activity_poll_.batch == batch_number_ &&
        empty_activity_poll_.durable_writes == durable_writes_ &&
        empty_activity_poll_.queues == queues_key) {
      *next_due = empty_activity_poll_.next_due;  // See EmptyPoll.
      return false;
    }
    ActivityTask task;
    int64_t row_id = 0;
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement pick,
          connection_->Prepare(absl::StrCat(
              "SELECT id, activity_id, instance_id, execution_id, queue, "
              "scheduled_event, attempt, metadata, scheduled_at FROM "
              "activities "
              "WHERE visible_at <= ?1 "
              "AND (lease_token IS NULL OR lease_expires_at <= ?1) "
              "AND queue IN (",
              Placeholders(2, queues.size()), ") AND ", names.sql,
              " ORDER BY visible_at, id LIMIT 1")));
      pick.BindInt64(1, now_us);
      for (size_t i = 0; i < queues.size(); ++i) {
        pick.BindText(static_cast<int>(i) + 2, queues[i]);
      }
      BindNameCondition(pick, 2 + static_cast<int>(queues.size()), names);
      DURABLE_ASSIGN_OR_RETURN(bool found, pick.Step());
      if (!found) {
        DURABLE_ASSIGN_OR_RETURN(
            Statement due,
            connection_->Prepare(
                "SELECT min(t) FROM ("
                "SELECT min(visible_at) AS t FROM activities "
                "WHERE visible_at > ?1 "
                "UNION ALL SELECT min(lease_expires_at) FROM activities "
                "WHERE lease_token IS NOT NULL AND lease_expires_at > ?1)"));
        due.BindInt64(1, now_us);
        DURABLE_ASSIGN_OR_RETURN(bool row, due.Step());
        *next_due = row ? ValueOr(due, 0, absl::InfiniteFuture())
                        : absl::InfiniteFuture();
        if (grant) {
          empty_activity_poll_ = {batch_number_, durable_writes_, queues_key,
                                  *next_due};
        }
        return false;  // Nothing ready (and nothing written).
      }
      if (!grant) return true;
      row_id = pick.ColumnInt64(0);
      task.activity_id = pick.ColumnText(1);
      task.instance_id = pick.ColumnText(2);
      task.execution_id = pick.ColumnText(3);
      task.queue = pick.ColumnText(4);
      if (!task.scheduled_event.ParseFromString(pick.ColumnBlob(5))) {
        // Leased all the same, so the worker fails this one activity; the
        // other tasks of the queue are not held up (core/storage/store.h).
        task.scheduled_event.Clear();
        task.damaged =
            absl::StrCat("activity task ", Quoted(task.activity_id),
                         " of workflow instance ", Quoted(task.instance_id),
                         ": its scheduled event cannot be decoded");
      }
      task.attempt = static_cast<int32_t>(pick.ColumnInt64(6));
      task.metadata = ParseMetadata(pick.ColumnBlobView(7));
      task.scheduled_at = core::FromUnixMicros(pick.ColumnInt64(8));
    }
    task.lease_token = core::NewUuid();
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement update,
          connection_->Prepare("UPDATE activities SET lease_token = ?1, "
                               "lease_expires_at = ?2 WHERE id = ?3"));
      DURABLE_RETURN_IF_ERROR(update.BindText(1, task.lease_token)
                                  .BindInt64(2, core::ToUnixMicros(now + lease))
                                  .BindInt64(3, row_id)
                                  .Run());
    }
    leased = std::move(task);
    return true;
  };
  DURABLE_ASSIGN_OR_RETURN(bool ready,
                           Probe(&empty_activity_probe_, queues_key, next_due,
                                 [&] { return look(/*grant=*/false); }));
  if (!ready) return std::optional<ActivityTask>();
  // A lease grant: no fsync of its own (see the header).
  DURABLE_RETURN_IF_ERROR(Write(/*durable=*/false, [&]() -> absl::Status {
    return look(/*grant=*/true).status();
  }));
  return leased;
}

absl::StatusOr<std::optional<ActivityTask>> SqliteStore::GetActivityTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  const std::vector<std::string>& polled = core::PolledQueues(queues);
  std::optional<ActivityTask> task;
  DURABLE_ASSIGN_OR_RETURN(
      core::PollOutcome outcome,
      core::PollUntil(task_poll_, deadline, stop,
                      [&](absl::Time* next_due) -> absl::StatusOr<bool> {
                        DURABLE_ASSIGN_OR_RETURN(
                            task,
                            TryGetActivityTask(polled, names, lease, next_due));
                        return task.has_value();
                      }));
  if (outcome != core::PollOutcome::kFound) task.reset();
  return task;
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
    DURABLE_RETURN_IF_ERROR(relational_->DeleteLeasedActivity(task));
    return core::ExecuteDelivery(
        core::ActivityResultDelivery(task, result, now), now,
        relational_->plan_executor());
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
  const absl::Time start = clock_->Now();
  v1::WorkflowInstanceState state;
  DURABLE_ASSIGN_OR_RETURN(
      core::PollOutcome outcome,
      core::PollUntil(finish_poll_, deadline, /*stop=*/nullptr,
                      [&](absl::Time*) -> absl::StatusOr<bool> {
                        DURABLE_ASSIGN_OR_RETURN(
                            state, GetWorkflowInstanceState(instance_id));
                        return state.state() != v1::WORKFLOW_STATE_ACTIVE;
                      }));
  if (outcome != core::PollOutcome::kFound) {
    return absl::DeadlineExceededError(absl::StrCat(
        "workflow instance ", Quoted(instance_id), " did not finish within ",
        absl::FormatDuration(deadline - start)));
  }
  return state;
}

absl::Status SqliteStore::DeliverWorkflowEvent(const std::string& instance_id,
                                               const v1::HistoryEvent& event) {
  const v1::HistoryEvent inbound = core::AsInboxEvent(event);
  return Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    std::string execution_id;
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement latest,
          connection_->Prepare("SELECT execution_id, state FROM instances "
                               "WHERE instance_id = ?1 "
                               "ORDER BY created_at DESC, rowid DESC LIMIT 1"));
      latest.BindText(1, instance_id);
      DURABLE_ASSIGN_OR_RETURN(bool row, latest.Step());
      if (!row) {
        return absl::NotFoundError(absl::StrCat(
            "workflow instance ", Quoted(instance_id), " not found"));
      }
      execution_id = latest.ColumnText(0);
      if (latest.ColumnInt64(1) != kActive) {
        return absl::NotFoundError(
            absl::StrCat("workflow instance ", Quoted(instance_id),
                         " is not active: its latest execution ",
                         Quoted(execution_id), " has finished"));
      }
    }
    return relational_->plan_executor().InsertInbox(instance_id, execution_id,
                                                    inbound, clock_->Now());
  });
}

absl::Status SqliteStore::RemoveWorkflowInstance(
    const std::string& instance_id) {
  return Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement check,
          connection_->Prepare("SELECT count(*), "
                               "count(CASE WHEN state = ?2 THEN 1 END) "
                               "FROM instances WHERE instance_id = ?1"));
      check.BindText(1, instance_id).BindInt64(2, kActive);
      DURABLE_ASSIGN_OR_RETURN(bool row, check.Step());
      if (!row || check.ColumnInt64(0) == 0) {
        return absl::NotFoundError(absl::StrCat(
            "workflow instance ", Quoted(instance_id), " not found"));
      }
      if (check.ColumnInt64(1) > 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("workflow instance ", Quoted(instance_id),
                         " is not finished; only finished instances can be "
                         "removed"));
      }
    }
    for (const char* table : {"history", "inbox", "activities", "instances"}) {
      DURABLE_ASSIGN_OR_RETURN(
          Statement remove,
          connection_->Prepare(
              absl::StrCat("DELETE FROM ", table, " WHERE instance_id = ?1")));
      DURABLE_RETURN_IF_ERROR(remove.BindText(1, instance_id).Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> SqliteStore::RemoveWorkflowInstances(
    absl::Time finished_before) {
  int64_t removed = 0;
  absl::Status status = Write(/*durable=*/true, [&]() -> absl::Status {
    mu_.AssertHeld();
    // The executions to remove; instances goes last so that the subquery still
    // sees them while their dependent rows are deleted.
    constexpr char kFinished[] =
        "SELECT instance_id, execution_id FROM instances "
        "WHERE state != ?2 AND finished_at IS NOT NULL AND finished_at < ?1";
    for (const char* table : {"history", "inbox", "activities"}) {
      DURABLE_ASSIGN_OR_RETURN(Statement remove,
                               connection_->Prepare(absl::StrCat(
                                   "DELETE FROM ", table,
                                   " WHERE (instance_id, execution_id) "
                                   "IN (",
                                   kFinished, ")")));
      DURABLE_RETURN_IF_ERROR(
          remove.BindInt64(1, core::ToUnixMicros(finished_before))
              .BindInt64(2, kActive)
              .Run());
    }
    {
      DURABLE_ASSIGN_OR_RETURN(
          Statement remove,
          connection_->Prepare(
              "DELETE FROM instances WHERE state != ?2 "
              "AND finished_at IS NOT NULL AND finished_at < ?1"));
      DURABLE_RETURN_IF_ERROR(
          remove.BindInt64(1, core::ToUnixMicros(finished_before))
              .BindInt64(2, kActive)
              .Run());
      removed = connection_->Changes();
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return removed;
}

absl::StatusOr<core::WorkflowInstancePage> SqliteStore::ListWorkflowInstances(
    const std::string& cursor, int page_size) {
  if (page_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ListWorkflowInstances needs a page size of at least 1, got ",
        page_size));
  }
  int64_t after_created_us = 0;
  int64_t after_row_id = 0;
  if (!cursor.empty() &&
      !ParseListCursor(cursor, &after_created_us, &after_row_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ListWorkflowInstances: malformed cursor ", Quoted(cursor)));
  }
  absl::MutexLock lock(&mu_);
  // The latest execution of each instance (no newer execution of the same
  // instance exists), positioned strictly after the cursor.
  DURABLE_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_->Prepare(absl::StrCat(
          "SELECT ", sql::kInstanceStateColumns,
          ", rowid FROM instances i WHERE NOT EXISTS ("
          "SELECT 1 FROM instances j WHERE j.instance_id = i.instance_id "
          "AND (j.created_at > i.created_at OR "
          "(j.created_at = i.created_at AND j.rowid > i.rowid))) "
          "AND (?1 = 0 OR i.created_at < ?2 OR "
          "(i.created_at = ?2 AND i.rowid < ?3)) "
          "ORDER BY i.created_at DESC, i.rowid DESC LIMIT ?4")));
  stmt.BindInt64(1, cursor.empty() ? 0 : 1)
      .BindInt64(2, after_created_us)
      .BindInt64(3, after_row_id)
      .BindInt64(4, page_size);
  core::WorkflowInstancePage page;
  int64_t last_created_us = 0;
  int64_t last_row_id = 0;
  while (true) {
    DURABLE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    DURABLE_ASSIGN_OR_RETURN(v1::WorkflowInstanceState state,
                             StateFromRow(stmt));
    last_created_us = state.created_at_unix_us();
    last_row_id = stmt.ColumnInt64(10);
    page.instances.push_back(std::move(state));
  }
  if (static_cast<int>(page.instances.size()) == page_size) {
    page.next_cursor = absl::StrCat(last_created_us, ":", last_row_id);
  }
  return page;
}

absl::StatusOr<core::StoreStats> SqliteStore::GetStats() {
  const int64_t now_us = core::ToUnixMicros(clock_->Now());
  absl::MutexLock lock(&mu_);
  // One snapshot for all three counters.
  DURABLE_ASSIGN_OR_RETURN(Transaction txn,
                           Transaction::Begin(connection_.get(), Mode::kRead));
  core::StoreStats stats;
  {
    DURABLE_ASSIGN_OR_RETURN(
        Statement active,
        connection_->Prepare("SELECT count(DISTINCT instance_id) "
                             "FROM instances WHERE state = ?1"));
    active.BindInt64(1, kActive);
    DURABLE_ASSIGN_OR_RETURN(bool row, active.Step());
    if (row) stats.active_instances = active.ColumnInt64(0);
  }
  {
    DURABLE_ASSIGN_OR_RETURN(
        Statement workflow,
        connection_->Prepare(
            "SELECT queue, count(*) FROM instances i WHERE state = ?1 "
            "AND EXISTS (SELECT 1 FROM inbox e "
            "WHERE e.instance_id = i.instance_id "
            "AND e.execution_id = i.execution_id AND e.visible_at <= ?2) "
            "GROUP BY queue"));
    workflow.BindInt64(1, kActive).BindInt64(2, now_us);
    while (true) {
      DURABLE_ASSIGN_OR_RETURN(bool row, workflow.Step());
      if (!row) break;
      stats.pending_workflow_tasks[workflow.ColumnText(0)] =
          workflow.ColumnInt64(1);
    }
  }
  {
    DURABLE_ASSIGN_OR_RETURN(
        Statement activity,
        connection_->Prepare(
            "SELECT queue, count(*) FROM activities GROUP BY queue"));
    while (true) {
      DURABLE_ASSIGN_OR_RETURN(bool row, activity.Step());
      if (!row) break;
      stats.pending_activity_tasks[activity.ColumnText(0)] =
          activity.ColumnInt64(1);
    }
  }
  DURABLE_RETURN_IF_ERROR(txn.Commit());
  return stats;
}

// ---------------------------------------------------------------------------
// The worker registry.

absl::Status SqliteStore::RecordWorker(const v1::WorkerInfo& worker) {
  if (worker.worker_id().empty()) {
    return absl::InvalidArgumentError("RecordWorker needs a worker_id");
  }
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
