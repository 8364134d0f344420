#include "backends/mysql/mysql_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/mysql/schema.h"
#include "backends/sql/dialect.h"
#include "backends/sql/notifier_registry.h"
#include "backends/sql/relational_store.h"
#include "backends/sql/status_macros.h"
#include "backends/sql/store_calls.h"
#include "backends/sql/task_poll.h"
#include "core/storage/completion_plan.h"

namespace durable::backends::mysql {
namespace {

using core::ActivityTask;
using core::WorkflowTask;
using sql::RelationalStore;
using sql::TaskKind;
using sql::TaskPoll;

// The adaptive re-check of polls for other processes' work (see the header).
constexpr absl::Duration kMinRecheck = absl::Milliseconds(5);
constexpr absl::Duration kMaxRecheck = absl::Milliseconds(100);
constexpr absl::Duration kFinishPollInterval = absl::Milliseconds(50);
// A write that stamps leases and spent longer than this between reading the
// clock and finishing its statements (waiting for row locks) runs again.
constexpr absl::Duration kRestampAfter = absl::Milliseconds(50);

// Whether the server gave the transaction up for a concurrent one, so that
// running it again may succeed. (A lost lease is ABORTED too, but carries no
// server error.)
bool ServerGaveUp(const absl::Status& status, const Connection& connection) {
  if (!absl::IsAborted(status)) return false;
  switch (connection.last_error_number()) {
    case 1213:  // ER_LOCK_DEADLOCK
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1020:  // ER_CHECKREAD
      return true;
    default:
      return false;
  }
}

// Every session runs at READ COMMITTED: InnoDB then takes no gap or
// next-key locks for range scans and releases the rows a statement read but
// did not match, so a completion deleting one instance's inbox range does
// not lock the next instance's rows, which pollers' SKIP LOCKED would then
// skip for the whole commit. Every write is matched by its lease token
// under a row lock, so no decision rests on a repeatable snapshot.
ConnectOptions SessionOptions(ConnectOptions options) {
  options.init_statements.insert(
      options.init_statements.begin(),
      "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  return options;
}

template <typename Task>
constexpr TaskKind KindOf();
template <>
constexpr TaskKind KindOf<WorkflowTask>() {
  return TaskKind::kWorkflow;
}
template <>
constexpr TaskKind KindOf<ActivityTask>() {
  return TaskKind::kActivity;
}

}  // namespace

struct MysqlStore::Session {
  std::unique_ptr<Connection> connection;
  std::unique_ptr<RelationalStore> relational;
};

absl::StatusOr<std::unique_ptr<MysqlStore>> MysqlStore::Open(
    const MysqlOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mysql store: pool_size must be at least 1, not ", options.pool_size));
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mysql store: max_attempts must be at least 1, not ",
                     options.max_attempts));
  }
  const ConnectOptions& connect = options.connect;
  // Names the server in messages and keys the shared notifier.
  const std::string address =
      connect.unix_socket.empty()
          ? absl::StrCat(connect.host, ":", connect.port)
          : absl::StrCat("unix:", connect.unix_socket);
  DURABLE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                           Connection::Open(SessionOptions(connect)));
  DURABLE_RETURN_IF_ERROR(EnsureSchema(
      *connection,
      absl::StrCat("mysql database `", connect.database, "` at ", address)));
  std::string description =
      absl::StrCat("mysql ", connect.user, "@", address, "/", connect.database,
                   " pool=", options.pool_size, " isolation=read-committed");
  auto store = std::unique_ptr<MysqlStore>(
      new MysqlStore(options,
                     sql::SharedNotifierFor(absl::StrCat("mysql:", address, "/",
                                                         connect.database)),
                     std::move(description)));
  auto session = std::make_unique<Session>();
  session->relational = std::make_unique<RelationalStore>(connection.get());
  session->connection = std::move(connection);
  absl::MutexLock lock(&store->pool_mu_);
  store->idle_.push_back(std::move(session));
  store->open_ = 1;
  return store;
}

MysqlStore::MysqlStore(const MysqlOptions& options,
                       std::shared_ptr<core::ChangeNotifier> notifier,
                       std::string description)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : &core::Clock::Real()),
      notifier_(std::move(notifier)),
      finish_poll_{clock_, notifier_.get(), kFinishPollInterval},
      description_(std::move(description)),
      recheck_us_(absl::ToInt64Microseconds(kMinRecheck)) {}

MysqlStore::~MysqlStore() = default;

std::string MysqlStore::Describe() const { return description_; }

void MysqlStore::Interrupt() { notifier_->Notify(); }

absl::Status MysqlStore::WithSession(
    absl::FunctionRef<absl::Status(Session&)> fn) {
  std::unique_ptr<Session> session;
  bool open_new = false;
  {
    absl::MutexLock lock(&pool_mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_) {
      return !idle_.empty() || open_ < options_.pool_size;
    };
    pool_mu_.Await(absl::Condition(&available));
    if (!idle_.empty()) {
      session = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;
      open_new = true;
    }
  }
  if (open_new) {
    // Outside the pool's lock: connecting may take up to connect_timeout.
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Open(SessionOptions(options_.connect));
    if (!connection.ok()) {
      absl::MutexLock lock(&pool_mu_);
      --open_;
      return connection.status();
    }
    session = std::make_unique<Session>();
    session->relational = std::make_unique<RelationalStore>(connection->get());
    session->connection = *std::move(connection);
  }
  absl::Status status = fn(*session);
  // A lost connection (or a server restart) is closed; the next call opens
  // a new one. So is one whose open transaction cannot be ended.
  bool broken = absl::IsUnavailable(status);
  if (!broken && session->connection->InTransaction()) {
    broken = !session->connection->Rollback().ok();
  }
  absl::MutexLock lock(&pool_mu_);
  if (broken) {
    --open_;
  } else {
    idle_.push_back(std::move(session));
  }
  return status;
}

absl::Status MysqlStore::Write(
    bool notify, absl::FunctionRef<absl::Status(RelationalStore&)> body,
    bool stamps_leases) {
  bool changed = false;
  absl::Status status;
  for (int attempt = 1;; ++attempt) {
    bool retry = false;
    status = WithSession([&](Session& session) -> absl::Status {
      Connection& connection = *session.connection;
      DURABLE_RETURN_IF_ERROR(connection.Begin(sql::TransactionMode::kWrite));
      const int64_t changes_before = connection.TotalChanges();
      const absl::Time started = clock_->Now();
      absl::Status result = body(*session.relational);
      if (result.ok() && stamps_leases && attempt < options_.max_attempts &&
          clock_->Now() - started > kRestampAfter) {
        // The body waited (for another transaction's row locks) after it
        // read the clock, so the leases it stamped would start in the past:
        // run it again, after the transaction it waited for.
        retry = true;
        return connection.Rollback();
      }
      if (result.ok()) {
        changed = connection.TotalChanges() != changes_before;
        result = connection.Commit();
      } else if (connection.InTransaction()) {
        if (absl::Status undone = connection.Rollback(); !undone.ok()) {
          return undone;
        }
      }
      retry = ServerGaveUp(result, connection);
      return result;
    });
    if (!status.ok() && !retry) break;
    if (!retry || attempt >= options_.max_attempts) break;
    retried_.fetch_add(1);
  }
  if (status.ok() && notify && changed) notifier_->Notify();
  return status;
}

absl::Status MysqlStore::Read(
    absl::FunctionRef<absl::Status(RelationalStore&)> read) {
  return WithSession(
      [&](Session& session) { return read(*session.relational); });
}

absl::Status MysqlStore::CreateWorkflowInstance(
    const v1::WorkflowInstance& instance, const v1::HistoryEvent& started) {
  DURABLE_ASSIGN_OR_RETURN(
      core::ExecutionStart start,
      core::PlanInstanceCreation(instance, started, clock_->Now()));
  return Write(/*notify=*/true, [&](RelationalStore& relational) {
    return core::ExecuteInstanceCreation(start, relational.plan_executor());
  });
}

template <typename Task>
absl::StatusOr<std::optional<Task>> MysqlStore::GetTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  const TaskPoll poll(KindOf<Task>(), core::PolledQueues(queues), names,
                      sql::MysqlDialect());
  std::optional<Task> task;
  auto attempt = [&](absl::Time* next_due) -> absl::StatusOr<bool> {
    // A probe first, without a transaction or row locks: an idle poller
    // locks nothing (a locking pick that finds nothing still holds the rows
    // it looked at until its transaction ends, and completions deleting
    // their rows would wait for it).
    bool ready = false;
    DURABLE_RETURN_IF_ERROR(Read([&](RelationalStore& relational) {
      DURABLE_ASSIGN_OR_RETURN(
          ready, relational.FindTask(poll, clock_->Now(), next_due));
      return absl::OkStatus();
    }));
    if (!ready) return false;
    // One short transaction: the pick locks the row it leases and skips
    // rows other pollers locked. The lease runs from its grant.
    DURABLE_RETURN_IF_ERROR(
        Write(/*notify=*/false, [&](RelationalStore& relational) {
          return relational.LeaseTask(poll, clock_->Now(), lease, next_due,
                                      &task);
        }));
    return task.has_value();
  };
  // The adaptive re-check (see the header): one PollUntil per interval, so
  // an idle poll backs off from one to the next while it finds nothing.
  while (true) {
    const absl::Duration interval = absl::Microseconds(recheck_us_.load());
    const absl::Time until = std::min(deadline, clock_->Now() + interval);
    const core::PollLoopOptions options{clock_, notifier_.get(), interval};
    DURABLE_ASSIGN_OR_RETURN(core::PollOutcome outcome,
                             core::PollUntil(options, until, stop, attempt));
    if (outcome == core::PollOutcome::kFound) {
      recheck_us_.store(absl::ToInt64Microseconds(kMinRecheck));
      return task;
    }
    task.reset();
    if (outcome == core::PollOutcome::kStopped || until >= deadline) {
      return task;
    }
    recheck_us_.store(std::min(absl::ToInt64Microseconds(kMaxRecheck),
                               2 * absl::ToInt64Microseconds(interval)));
  }
}

absl::StatusOr<std::optional<WorkflowTask>> MysqlStore::GetWorkflowTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  return GetTask<WorkflowTask>(queues, names, lease, deadline, stop);
}

absl::StatusOr<std::optional<ActivityTask>> MysqlStore::GetActivityTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  return GetTask<ActivityTask>(queues, names, lease, deadline, stop);
}

absl::Status MysqlStore::ExtendWorkflowTaskLease(const WorkflowTask& task,
                                                 absl::Duration lease) {
  return Write(/*notify=*/false, [&](RelationalStore& relational) {
    return relational.ExtendWorkflowLease(task, clock_->Now() + lease);
  });
}

absl::Status MysqlStore::CompleteWorkflowTask(
    const WorkflowTask& task, const core::WorkflowTaskCompletion& completion,
    core::WorkflowTaskCommitResult* result) {
  if (result != nullptr) *result = core::WorkflowTaskCommitResult();
  DURABLE_RETURN_IF_ERROR(sql::CheckWorkflowTaskCompletion(task, completion));
  core::WorkflowTaskCommitResult committed;
  absl::Status status = Write(/*notify=*/true,
                              [&](RelationalStore& relational) {
                                return sql::CompleteWorkflowTaskIn(
                                    relational, task, completion, clock_->Now(),
                                    result != nullptr ? &committed : nullptr);
                              },
                              /*stamps_leases=*/result != nullptr);
  if (status.ok() && result != nullptr) *result = std::move(committed);
  return status;
}

absl::Status MysqlStore::CompleteActivityWithWorkflowTask(
    const ActivityTask& activity, const v1::HistoryEvent& activity_result,
    const WorkflowTask& task, const core::WorkflowTaskCompletion& completion,
    core::WorkflowTaskCommitResult* result) {
  DURABLE_RETURN_IF_ERROR(
      sql::CheckFusedStep(activity, task, completion, result));
  core::WorkflowTaskCommitResult committed;
  absl::Status status = Write(/*notify=*/true,
                              [&](RelationalStore& relational) {
                                return sql::CompleteFusedStepIn(
                                    relational, activity, activity_result, task,
                                    completion, clock_->Now(), &committed);
                              },
                              /*stamps_leases=*/true);
  if (status.ok()) *result = std::move(committed);
  return status;
}

absl::Status MysqlStore::AbandonWorkflowTask(
    const WorkflowTask& task, const v1::WorkflowTaskFailure& failure,
    absl::Duration retry_delay) {
  return Write(/*notify=*/true, [&](RelationalStore& relational) {
    return relational.AbandonWorkflowTask(task, failure,
                                          clock_->Now() + retry_delay);
  });
}

absl::Status MysqlStore::ExtendActivityTaskLease(const ActivityTask& task,
                                                 absl::Duration lease) {
  return Write(/*notify=*/false, [&](RelationalStore& relational) {
    return relational.ExtendActivityLease(task, clock_->Now() + lease);
  });
}

absl::Status MysqlStore::RetryActivityTask(const ActivityTask& task,
                                           int32_t next_attempt,
                                           absl::Time visible_at) {
  return Write(/*notify=*/true, [&](RelationalStore& relational) {
    return relational.RetryActivityTask(task, next_attempt, visible_at);
  });
}

absl::Status MysqlStore::CompleteActivityTask(const ActivityTask& task,
                                              const v1::HistoryEvent& result) {
  const absl::Time now = clock_->Now();
  return Write(/*notify=*/true, [&](RelationalStore& relational) {
    return sql::CompleteActivityTaskIn(relational, task, result, now);
  });
}

absl::StatusOr<v1::WorkflowInstanceState> MysqlStore::GetWorkflowInstanceState(
    const std::string& instance_id) {
  v1::WorkflowInstanceState state;
  DURABLE_RETURN_IF_ERROR(Read([&](RelationalStore& relational) {
    DURABLE_ASSIGN_OR_RETURN(state,
                             relational.GetWorkflowInstanceState(instance_id));
    return absl::OkStatus();
  }));
  return state;
}

absl::StatusOr<std::vector<v1::WorkflowInstanceState>>
MysqlStore::ListWorkflowExecutions(const std::string& instance_id) {
  std::vector<v1::WorkflowInstanceState> states;
  DURABLE_RETURN_IF_ERROR(Read([&](RelationalStore& relational) {
    DURABLE_ASSIGN_OR_RETURN(states,
                             relational.ListWorkflowExecutions(instance_id));
    return absl::OkStatus();
  }));
  return states;
}

absl::StatusOr<std::vector<v1::HistoryEvent>> MysqlStore::GetWorkflowHistory(
    const std::string& instance_id, const std::string& execution_id,
    int64_t after_id) {
  std::vector<v1::HistoryEvent> events;
  DURABLE_RETURN_IF_ERROR(Read([&](RelationalStore& relational) {
    DURABLE_ASSIGN_OR_RETURN(events, relational.GetWorkflowHistory(
                                         instance_id, execution_id, after_id));
    return absl::OkStatus();
  }));
  return events;
}

absl::StatusOr<v1::WorkflowInstanceState>
MysqlStore::WaitForWorkflowInstanceFinished(const std::string& instance_id,
                                            absl::Time deadline) {
  return sql::WaitForFinished(finish_poll_, instance_id, deadline, [&] {
    return GetWorkflowInstanceState(instance_id);
  });
}

absl::Status MysqlStore::DeliverWorkflowEvent(const std::string& instance_id,
                                              const v1::HistoryEvent& event) {
  const v1::HistoryEvent inbound = core::AsInboxEvent(event);
  return Write(/*notify=*/true, [&](RelationalStore& relational) {
    return relational.DeliverToNewestExecution(instance_id, inbound,
                                               clock_->Now());
  });
}

absl::Status MysqlStore::RemoveWorkflowInstance(
    const std::string& instance_id) {
  return Write(/*notify=*/true, [&](RelationalStore& relational) {
    return relational.RemoveInstance(instance_id);
  });
}

absl::StatusOr<int64_t> MysqlStore::RemoveWorkflowInstances(
    absl::Time finished_before) {
  int64_t removed = 0;
  DURABLE_RETURN_IF_ERROR(
      Write(/*notify=*/true, [&](RelationalStore& relational) {
        DURABLE_ASSIGN_OR_RETURN(
            removed,
            relational.RemoveExecutionsFinishedBefore(finished_before));
        return absl::OkStatus();
      }));
  return removed;
}

absl::StatusOr<core::WorkflowInstancePage> MysqlStore::ListWorkflowInstances(
    const std::string& cursor, int page_size) {
  core::WorkflowInstancePage page;
  DURABLE_RETURN_IF_ERROR(Read([&](RelationalStore& relational) {
    DURABLE_ASSIGN_OR_RETURN(page, relational.ListInstances(cursor, page_size));
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<core::StoreStats> MysqlStore::GetStats() {
  const absl::Time now = clock_->Now();
  core::StoreStats stats;
  DURABLE_RETURN_IF_ERROR(Read([&](RelationalStore& relational) {
    DURABLE_ASSIGN_OR_RETURN(stats, relational.GetStats(now));
    return absl::OkStatus();
  }));
  return stats;
}

absl::Status MysqlStore::RecordWorker(const v1::WorkerInfo& worker) {
  DURABLE_RETURN_IF_ERROR(sql::CheckWorker(worker));
  return Write(/*notify=*/false, [&](RelationalStore& relational) {
    return relational.RecordWorker(worker);
  });
}

absl::Status MysqlStore::RemoveWorker(const std::string& worker_id) {
  return Write(/*notify=*/false, [&](RelationalStore& relational) {
    return relational.RemoveWorker(worker_id);
  });
}

absl::StatusOr<std::vector<v1::WorkerInfo>> MysqlStore::ListWorkers() {
  std::vector<v1::WorkerInfo> workers;
  DURABLE_RETURN_IF_ERROR(Read([&](RelationalStore& relational) {
    DURABLE_ASSIGN_OR_RETURN(workers, relational.ListWorkers());
    return absl::OkStatus();
  }));
  return workers;
}

}  // namespace durable::backends::mysql
