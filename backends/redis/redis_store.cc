#include "backends/redis/redis_store.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "backends/redis/plan_encoder.h"
#include "backends/sql/status_macros.h"
#include "core/storage/completion_plan.h"
#include "core/time_util.h"
#include "core/uuid.h"

namespace durable::backends::redis {
namespace {

using core::ActivityTask;
using core::WorkflowTask;

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

std::string Micros(absl::Time t) { return absl::StrCat(core::ToUnixMicros(t)); }

std::string MicrosOf(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Microseconds(d));
}

int64_t ToInt(const std::string& s) {
  int64_t v = 0;
  (void)absl::SimpleAtoi(s, &v);
  return v;
}

absl::Status WorkflowLeaseLost(const WorkflowTask& task) {
  return absl::AbortedError(absl::StrCat(
      "workflow task lease for instance ", Quoted(task.instance_id),
      " (execution ", Quoted(task.execution_id), ") was lost"));
}

absl::Status ActivityLeaseLost(const ActivityTask& task) {
  return absl::AbortedError(absl::StrCat(
      "activity task lease for activity ", Quoted(task.activity_id),
      " of workflow instance ", Quoted(task.instance_id), " was lost"));
}

// The first element of a script's answer ("OK" or an error word).
const std::string& Word(const Reply& reply) {
  static const std::string* const kEmpty = new std::string;
  if (reply.type != Reply::Type::kArray || reply.elements.empty()) {
    return *kEmpty;
  }
  return reply.elements[0].str;
}

// Element i of a script's answer as a string ("" when missing).
const std::string& At(const Reply& reply, size_t i) {
  static const std::string* const kEmpty = new std::string;
  return i < reply.elements.size() ? reply.elements[i].str : *kEmpty;
}

absl::Status Unexpected(const Reply& reply, absl::string_view step) {
  return absl::InternalError(absl::StrCat("Redis store: unexpected answer \"",
                                          Word(reply), "\" to ", step));
}

// A TaskNameFilter as the poll scripts read it (scripts.cc read_filter).
void EncodeFilter(const core::TaskNameFilter& filter,
                  std::vector<std::string>* args) {
  args->push_back(filter.restricted ? "1" : "0");
  args->push_back(absl::StrCat(filter.names.size()));
  for (const std::string& name : filter.names) args->push_back(name);
  args->push_back(absl::StrCat(filter.claimed.size()));
  for (const auto& [queue, claims] : filter.claimed) {
    args->push_back(queue);
    args->push_back(claims.all ? "1" : "0");
    args->push_back(absl::StrCat(claims.names.size()));
    for (const std::string& name : claims.names) args->push_back(name);
  }
}

// What a poll asks, for PollGate: its queues and name filter.
std::string PollKey(const std::vector<std::string>& queues,
                    const core::TaskNameFilter& names) {
  std::vector<std::string> parts = queues;
  parts.push_back("");
  EncodeFilter(names, &parts);
  std::string key;
  for (const std::string& part : parts) {
    absl::StrAppend(&key, part.size(), ":", part);
  }
  return key;
}

// An execution's state from the 10 fields a script wrote at `i`
// (scripts.cc state_of): i e wf q st c f md r ltf, optional ones "+"-marked.
absl::StatusOr<v1::WorkflowInstanceState> StateAt(const Reply& reply,
                                                  size_t i) {
  v1::WorkflowInstanceState state;
  state.set_instance_id(At(reply, i));
  state.set_execution_id(At(reply, i + 1));
  state.set_workflow_name(At(reply, i + 2));
  state.set_queue(At(reply, i + 3));
  state.set_state(static_cast<v1::WorkflowState>(ToInt(At(reply, i + 4))));
  state.set_created_at_unix_us(ToInt(At(reply, i + 5)));
  if (!At(reply, i + 6).empty()) {
    state.set_finished_at_unix_us(ToInt(At(reply, i + 6)));
  }
  std::map<std::string, std::string> metadata = ParseMetadata(At(reply, i + 7));
  state.mutable_metadata()->insert(metadata.begin(), metadata.end());
  const std::string& result = At(reply, i + 8);
  if (state.state() == v1::WORKFLOW_STATE_FINISHED && !result.empty() &&
      !state.mutable_result()->ParseFromArray(
          result.data() + 1, static_cast<int>(result.size() - 1))) {
    return absl::DataLossError(absl::StrCat("result of workflow instance ",
                                            Quoted(state.instance_id()),
                                            " cannot be decoded"));
  }
  const std::string& failure = At(reply, i + 9);
  if (!failure.empty() &&
      !state.mutable_last_task_failure()->ParseFromArray(
          failure.data() + 1, static_cast<int>(failure.size() - 1))) {
    return absl::DataLossError(
        absl::StrCat("last task failure of workflow instance ",
                     Quoted(state.instance_id()), " cannot be decoded"));
  }
  return state;
}
constexpr size_t kStateFields = 10;

// Replays the outcome a creation script found, so that core decides what it
// means (core::ExecuteInstanceCreation).
class StartOutcomeReplay : public core::PlanExecutor {
 public:
  explicit StartOutcomeReplay(core::StartOutcome outcome) : outcome_(outcome) {}
  absl::StatusOr<core::StartOutcome> StartExecution(
      const core::ExecutionStart&) override {
    return outcome_;
  }
  absl::Status AppendHistory(const core::ExecutionKey&,
                             absl::Span<const v1::HistoryEvent>) override {
    return Unused();
  }
  absl::Status ConsumeInbox(const core::ExecutionKey&,
                            absl::string_view) override {
    return Unused();
  }
  absl::Status WithdrawKeyedEvents(const core::ExecutionKey&,
                                   absl::Span<const std::string>) override {
    return Unused();
  }
  absl::Status EnqueueActivity(const core::ExecutionKey&,
                               const core::PlannedActivity&, absl::Time,
                               absl::Time) override {
    return Unused();
  }
  absl::Status UpdateExecution(const core::ExecutionKey&,
                               const core::ExecutionUpdate&) override {
    return Unused();
  }
  absl::StatusOr<bool> Deliver(const core::Delivery&) override {
    return Unused();
  }
  absl::Status SettleEndedInbox(const core::ExecutionKey&,
                                const core::InboxSettlement&) override {
    return Unused();
  }
  absl::Status DropPreviousExecutions(absl::string_view) override {
    return Unused();
  }

 private:
  static absl::Status Unused() {
    return absl::InternalError("StartOutcomeReplay: only StartExecution");
  }
  core::StartOutcome outcome_;
};

std::optional<core::StartOutcome> OutcomeFromWord(const std::string& word) {
  if (word == "started") return core::StartOutcome::kStarted;
  if (word == "already") return core::StartOutcome::kAlreadyActive;
  if (word == "other") return core::StartOutcome::kOtherActive;
  if (word == "exists") return core::StartOutcome::kExecutionExists;
  return std::nullopt;
}

}  // namespace

RedisStore::RedisStore(const RedisOptions& options)
    : options_(options),
      key_prefix_(absl::StrCat("{", options.prefix, "}:")),
      wake_channel_(absl::StrCat(key_prefix_, "wake:", options.db)),
      real_clock_(options.clock == &core::Clock::Real()),
      workflow_poll_{options.clock, &workflow_notifier_,
                     options.recheck_interval},
      activity_poll_{options.clock, &activity_notifier_,
                     options.recheck_interval},
      finish_poll_{options.clock, &finish_notifier_, options.recheck_interval},
      workflow_gate_(options.recheck_interval),
      activity_gate_(options.recheck_interval) {}

RedisStore::~RedisStore() { listener_.reset(); }

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Open(
    const RedisOptions& given) {
  RedisOptions options = given;
  if (options.clock == nullptr) options.clock = &core::Clock::Real();
  std::unique_ptr<RedisStore> store(new RedisStore(options));
  DURABLE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                           Connection::Open(options));
  store->connections_opened_.fetch_add(1);
  DURABLE_RETURN_IF_ERROR(store->LoadScripts(*connection));
  std::string appendonly = "?";
  std::string appendfsync = "?";
  for (const char* setting : {"appendonly", "appendfsync"}) {
    absl::StatusOr<Reply> reply =
        connection->Command({"CONFIG", "GET", setting});
    if (reply.ok() && reply->type == Reply::Type::kArray &&
        reply->elements.size() == 2) {
      (std::string(setting) == "appendonly" ? appendonly : appendfsync) =
          reply->elements[1].str;
    }
  }
  store->durability_ =
      absl::StrCat("appendonly=", appendonly, " appendfsync=", appendfsync);
  store->Release(std::move(connection));
  RedisStore* raw = store.get();
  store->listener_ = std::make_unique<WakeListener>(
      options, store->wake_channel_,
      [raw](absl::string_view kinds) { raw->Wake(kinds); });
  DURABLE_RETURN_IF_ERROR(store->listener_->Start());
  return store;
}

std::string RedisStore::Describe() const {
  return absl::StrCat("redis server=", ServerAddress(options_),
                      " db=", options_.db, " prefix=", options_.prefix, " ",
                      durability_, " scripts=EVALSHA wakeups=pubsub");
}

void RedisStore::Interrupt() { Wake(WakeListener::kEverything); }

void RedisStore::Wake(absl::string_view kinds) {
  if (absl::StrContains(kinds, 'w')) workflow_notifier_.Notify();
  if (absl::StrContains(kinds, 'a')) activity_notifier_.Notify();
  if (absl::StrContains(kinds, 'f')) finish_notifier_.Notify();
}

absl::Status RedisStore::LoadScripts(Connection& connection) {
  for (size_t i = 0; i < shas_.size(); ++i) {
    DURABLE_ASSIGN_OR_RETURN(
        Reply reply,
        connection.Command(
            {"SCRIPT", "LOAD", ScriptSource(static_cast<Script>(i))}));
    if (reply.type != Reply::Type::kString) {
      return absl::InternalError(
          absl::StrCat("Redis at ", ServerAddress(options_),
                       " refused to load a script of the store: ", reply.str));
    }
    absl::MutexLock lock(&pool_mu_);
    shas_[i] = reply.str;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Connection>> RedisStore::Acquire(bool* pooled) {
  {
    absl::MutexLock lock(&pool_mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      if (pooled != nullptr) *pooled = true;
      return connection;
    }
  }
  if (pooled != nullptr) *pooled = false;
  {
    // While the server is unreachable, callers fail fast with the last
    // error instead of each trying to connect; the wait between attempts
    // doubles up to a second.
    absl::MutexLock lock(&pool_mu_);
    if (!last_connect_error_.ok() &&
        absl::Now() < last_connect_failure_ + connect_backoff_) {
      return last_connect_error_;
    }
  }
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options_);
  absl::MutexLock lock(&pool_mu_);
  if (!connection.ok()) {
    reconnecting_ = true;
    connect_backoff_ = last_connect_error_.ok()
                           ? absl::Milliseconds(50)
                           : std::min(connect_backoff_ * 2, absl::Seconds(1));
    last_connect_error_ = connection.status();
    last_connect_failure_ = absl::Now();
    return connection.status();
  }
  last_connect_error_ = absl::OkStatus();
  connections_opened_.fetch_add(1);
  if (reconnecting_) {
    reconnecting_ = false;
    std::cerr << "durable redis: reconnected to " << ServerAddress(options_)
              << std::endl;
  }
  return connection;
}

void RedisStore::Release(std::unique_ptr<Connection> connection) {
  absl::MutexLock lock(&pool_mu_);
  if (connection->broken()) {
    if (!reconnecting_) {
      std::cerr << "durable redis: lost a connection to "
                << ServerAddress(options_)
                << "; idle connections are dropped, the next call reconnects"
                << std::endl;
    }
    reconnecting_ = true;
    // The others most likely died with it (a server restart).
    idle_.clear();
    return;
  }
  idle_.push_back(std::move(connection));
}

absl::StatusOr<Reply> RedisStore::Command(
    const std::vector<std::string>& args) {
  return Send(args, /*script=*/std::nullopt);
}

absl::StatusOr<Reply> RedisStore::Send(std::vector<std::string> argv,
                                       std::optional<Script> script) {
  for (int attempt = 0;; ++attempt) {
    bool pooled = false;
    DURABLE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                             Acquire(&pooled));
    if (script.has_value()) {
      absl::MutexLock lock(&pool_mu_);
      argv[1] = shas_[static_cast<size_t>(*script)];
    }
    absl::StatusOr<Reply> reply = connection->Command(argv);
    if (script.has_value() && reply.ok() && reply->is_error() &&
        absl::StartsWith(reply->str, "NOSCRIPT")) {
      // The server lost its script cache (a restart, SCRIPT FLUSH): the
      // script did not run, so loading it and running it again is safe.
      absl::Status loaded = LoadScripts(*connection);
      if (loaded.ok()) {
        absl::MutexLock lock(&pool_mu_);
        argv[1] = shas_[static_cast<size_t>(*script)];
      }
      reply = loaded.ok() ? connection->Command(argv)
                          : absl::StatusOr<Reply>(loaded);
    }
    const bool broken = connection->broken();
    Release(std::move(connection));
    // A connection that broke while it sat idle in the pool (the server
    // restarted, or dropped it) is tried once more on a new connection: the
    // server that answers now never saw the command. (Had the old server
    // run it in the instant before it died, it runs twice: completions and
    // lease calls are then refused by their token (ABORTED), a creation
    // says ALREADY_EXISTS, but a signal would be delivered twice. That
    // window is the instant between the server's last write and its death.)
    if (broken && pooled && attempt == 0) continue;
    return reply;
  }
}

absl::StatusOr<Reply> RedisStore::Run(Script script,
                                      std::vector<std::string> args) {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 6);
  argv.push_back("EVALSHA");
  argv.push_back("");  // The script's SHA, set by Send.
  argv.push_back("1");
  argv.push_back(key_prefix_);
  argv.push_back(Micros(options_.clock->Now()));
  argv.push_back(real_clock_ ? "1" : "0");
  argv.push_back(wake_channel_);
  for (std::string& arg : args) argv.push_back(std::move(arg));
  absl::StatusOr<Reply> reply = Send(std::move(argv), script);
  scripts_run_.fetch_add(1);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) {
    return absl::InternalError(
        absl::StrCat("Redis at ", ServerAddress(options_),
                     ": a script of the store failed: ", reply->str));
  }
  return reply;
}

// ---------------------------------------------------------------------------
// Instances and workflow tasks.

absl::Status RedisStore::CreateWorkflowInstance(
    const v1::WorkflowInstance& instance, const v1::HistoryEvent& started) {
  const absl::Time now = options_.clock->Now();
  DURABLE_ASSIGN_OR_RETURN(core::ExecutionStart start,
                           core::PlanInstanceCreation(instance, started, now));
  std::vector<std::string> args;
  RedisPlanEncoder encoder(&args, now);
  DURABLE_RETURN_IF_ERROR(encoder.StartExecution(start).status());
  DURABLE_ASSIGN_OR_RETURN(Reply reply, Run(Script::kCreate, std::move(args)));
  std::optional<core::StartOutcome> outcome = OutcomeFromWord(At(reply, 1));
  if (Word(reply) != "OK" || !outcome.has_value()) {
    return Unexpected(reply, "CreateWorkflowInstance");
  }
  StartOutcomeReplay replay(*outcome);
  return core::ExecuteInstanceCreation(start, replay);
}

absl::StatusOr<std::optional<WorkflowTask>> RedisStore::TryGetWorkflowTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time* next_due) {
  std::vector<std::string> args;
  args.push_back(MicrosOf(lease));
  const std::string token = core::NewUuid();
  args.push_back(token);
  EncodeFilter(names, &args);
  args.push_back(absl::StrCat(queues.size()));
  for (const std::string& queue : queues) args.push_back(queue);
  DURABLE_ASSIGN_OR_RETURN(Reply reply,
                           Run(Script::kPollWorkflow, std::move(args)));
  if (Word(reply) == "NONE") {
    if (!At(reply, 1).empty()) {
      *next_due = core::FromUnixMicros(ToInt(At(reply, 1)));
    }
    return std::optional<WorkflowTask>();
  }
  if (Word(reply) != "OK" || reply.elements.size() < 10) {
    return Unexpected(reply, "GetWorkflowTask");
  }
  WorkflowTask task;
  task.instance_id = At(reply, 1);
  task.execution_id = At(reply, 2);
  task.queue = At(reply, 3);
  task.history_length = ToInt(At(reply, 4));
  task.metadata = ParseMetadata(At(reply, 5));
  task.workflow_name = At(reply, 6);
  const std::string& parent = At(reply, 7);
  if (!parent.empty() && !task.parent.ParseFromString(parent)) {
    // One bad entry fails its own instance, never the poll.
    task.parent.Clear();
    task.damaged = absl::StrCat("the parent of workflow instance ",
                                Quoted(task.instance_id), " cannot be decoded");
  }
  task.lease_token = token;
  task.inbox_cursor =
      FormatInboxCursor({ToInt(At(reply, 8)), ToInt(At(reply, 9))});
  for (size_t i = 10; i < reply.elements.size(); ++i) {
    v1::HistoryEvent& event = task.new_events.emplace_back();
    if (!event.ParseFromString(reply.elements[i].str)) {
      task.new_events.pop_back();
      if (task.damaged.empty()) {
        task.damaged = absl::StrCat("inbox of workflow instance ",
                                    Quoted(task.instance_id), ": entry ",
                                    i - 10, " cannot be decoded");
      }
    }
  }
  return std::optional<WorkflowTask>(std::move(task));
}

absl::StatusOr<std::optional<WorkflowTask>> RedisStore::GetWorkflowTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  const std::vector<std::string>& polled = core::PolledQueues(queues);
  const std::string key = PollKey(polled, names);
  std::optional<WorkflowTask> task;
  DURABLE_ASSIGN_OR_RETURN(
      core::PollOutcome outcome,
      core::PollUntil(
          workflow_poll_, deadline, stop,
          [&](absl::Time* next_due) -> absl::StatusOr<bool> {
            return workflow_gate_.Poll(
                key, workflow_notifier_.generation(), options_.clock->Now(),
                next_due, [&](absl::Time* due) -> absl::StatusOr<bool> {
                  DURABLE_ASSIGN_OR_RETURN(
                      task, TryGetWorkflowTask(polled, names, lease, due));
                  return task.has_value();
                });
          }));
  if (outcome != core::PollOutcome::kFound) task.reset();
  return task;
}

absl::Status RedisStore::ExtendWorkflowTaskLease(const WorkflowTask& task,
                                                 absl::Duration lease) {
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply,
      Run(Script::kExtendWorkflow, {task.instance_id, task.execution_id,
                                    task.lease_token, MicrosOf(lease)}));
  if (Word(reply) == "ABORTED") return WorkflowLeaseLost(task);
  if (Word(reply) != "OK") return Unexpected(reply, "ExtendWorkflowTaskLease");
  return absl::OkStatus();
}

absl::Status RedisStore::CompleteWorkflowTask(
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
  core::PlanInputs inputs;
  // The script checks, under the lease, that the stored history has this
  // many events.
  inputs.history_length = task.history_length;
  inputs.now = options_.clock->Now();
  inputs.eager_wanted = result != nullptr;
  DURABLE_ASSIGN_OR_RETURN(core::CompletionPlan plan,
                           core::PlanCompletion(task, completion, inputs));
  std::vector<std::string> args = {task.instance_id, task.execution_id,
                                   task.lease_token,
                                   absl::StrCat(task.history_length)};
  core::WorkflowTaskCommitResult committed;
  RedisPlanEncoder encoder(&args, plan.now);
  DURABLE_RETURN_IF_ERROR(core::ExecutePlan(
      plan, encoder, result != nullptr ? &committed : nullptr));
  DURABLE_ASSIGN_OR_RETURN(Reply reply,
                           Run(Script::kCompleteWorkflow, std::move(args)));
  if (Word(reply) == "ABORTED") return WorkflowLeaseLost(task);
  if (Word(reply) == "HISTORY_MOVED") {
    return absl::InvalidArgumentError(absl::StrCat(
        "history of workflow instance ", Quoted(task.instance_id), " has ",
        At(reply, 1), " events, but the task says ", task.history_length));
  }
  if (Word(reply) != "OK") return Unexpected(reply, "CompleteWorkflowTask");
  if (result != nullptr) *result = std::move(committed);
  return absl::OkStatus();
}

absl::Status RedisStore::CompleteActivityWithWorkflowTask(
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
  const absl::Time now = options_.clock->Now();
  core::PlanInputs inputs;
  inputs.history_length = task.history_length;
  inputs.now = now;
  inputs.eager_wanted = true;
  // Events that arrived meanwhile wait for the next task.
  inputs.consume_inbox = false;
  absl::StatusOr<core::CompletionPlan> plan =
      core::PlanCompletion(task, completion, inputs);
  std::vector<std::string> args = {activity.activity_id,
                                   activity.lease_token,
                                   task.instance_id,
                                   task.execution_id,
                                   absl::StrCat(task.history_length),
                                   plan.ok() ? "1" : "0",
                                   ""};
  const size_t plan_end_index = args.size() - 1;
  core::WorkflowTaskCommitResult committed;
  RedisPlanEncoder encoder(&args, now);
  if (plan.ok()) {
    DURABLE_RETURN_IF_ERROR(core::ExecutePlan(*plan, encoder, &committed));
  }
  // ARGV index (1-based, after the time and channel arguments) of the
  // plan's last argument.
  args[plan_end_index] = absl::StrCat(args.size() + 3);
  encoder.EncodeDelivery(
      core::ActivityResultDelivery(activity, activity_result, now));
  DURABLE_ASSIGN_OR_RETURN(Reply reply,
                           Run(Script::kFusedStep, std::move(args)));
  if (Word(reply) == "ABORTED") return ActivityLeaseLost(activity);
  if (Word(reply) == "INVALID") return plan.status();
  if (Word(reply) != "OK") {
    return Unexpected(reply, "CompleteActivityWithWorkflowTask");
  }
  if (At(reply, 1) == "1") *result = std::move(committed);
  return absl::OkStatus();
}

absl::Status RedisStore::AbandonWorkflowTask(
    const WorkflowTask& task, const v1::WorkflowTaskFailure& failure,
    absl::Duration retry_delay) {
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply, Run(Script::kAbandonWorkflow,
                       {task.instance_id, task.execution_id, task.lease_token,
                        failure.SerializeAsString(), MicrosOf(retry_delay)}));
  if (Word(reply) == "ABORTED") return WorkflowLeaseLost(task);
  if (Word(reply) != "OK") return Unexpected(reply, "AbandonWorkflowTask");
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Activity tasks.

absl::StatusOr<std::optional<ActivityTask>> RedisStore::TryGetActivityTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time* next_due) {
  std::vector<std::string> args;
  args.push_back(MicrosOf(lease));
  const std::string token = core::NewUuid();
  args.push_back(token);
  EncodeFilter(names, &args);
  args.push_back(absl::StrCat(queues.size()));
  for (const std::string& queue : queues) args.push_back(queue);
  DURABLE_ASSIGN_OR_RETURN(Reply reply,
                           Run(Script::kPollActivity, std::move(args)));
  if (Word(reply) == "NONE") {
    if (!At(reply, 1).empty()) {
      *next_due = core::FromUnixMicros(ToInt(At(reply, 1)));
    }
    return std::optional<ActivityTask>();
  }
  if (Word(reply) != "OK" || reply.elements.size() < 9) {
    return Unexpected(reply, "GetActivityTask");
  }
  ActivityTask task;
  task.activity_id = At(reply, 1);
  task.instance_id = At(reply, 2);
  task.execution_id = At(reply, 3);
  task.queue = At(reply, 4);
  if (!task.scheduled_event.ParseFromString(At(reply, 5))) {
    // Leased all the same: the worker fails this one activity.
    task.scheduled_event.Clear();
    task.damaged = absl::StrCat(
        "activity task ", Quoted(task.activity_id), " of workflow instance ",
        Quoted(task.instance_id), ": its scheduled event cannot be decoded");
  }
  task.attempt = static_cast<int32_t>(ToInt(At(reply, 6)));
  task.metadata = ParseMetadata(At(reply, 7));
  task.scheduled_at = core::FromUnixMicros(ToInt(At(reply, 8)));
  task.lease_token = token;
  return std::optional<ActivityTask>(std::move(task));
}

absl::StatusOr<std::optional<ActivityTask>> RedisStore::GetActivityTask(
    const std::vector<std::string>& queues, const core::TaskNameFilter& names,
    absl::Duration lease, absl::Time deadline, const std::atomic<bool>* stop) {
  const std::vector<std::string>& polled = core::PolledQueues(queues);
  const std::string key = PollKey(polled, names);
  std::optional<ActivityTask> task;
  DURABLE_ASSIGN_OR_RETURN(
      core::PollOutcome outcome,
      core::PollUntil(
          activity_poll_, deadline, stop,
          [&](absl::Time* next_due) -> absl::StatusOr<bool> {
            return activity_gate_.Poll(
                key, activity_notifier_.generation(), options_.clock->Now(),
                next_due, [&](absl::Time* due) -> absl::StatusOr<bool> {
                  DURABLE_ASSIGN_OR_RETURN(
                      task, TryGetActivityTask(polled, names, lease, due));
                  return task.has_value();
                });
          }));
  if (outcome != core::PollOutcome::kFound) task.reset();
  return task;
}

absl::Status RedisStore::ExtendActivityTaskLease(const ActivityTask& task,
                                                 absl::Duration lease) {
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply, Run(Script::kExtendActivity,
                       {task.activity_id, task.lease_token, MicrosOf(lease)}));
  if (Word(reply) == "ABORTED") return ActivityLeaseLost(task);
  if (Word(reply) != "OK") return Unexpected(reply, "ExtendActivityTaskLease");
  return absl::OkStatus();
}

absl::Status RedisStore::RetryActivityTask(const ActivityTask& task,
                                           int32_t next_attempt,
                                           absl::Time visible_at) {
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply, Run(Script::kRetryActivity,
                       {task.activity_id, task.lease_token,
                        absl::StrCat(next_attempt), Micros(visible_at)}));
  if (Word(reply) == "ABORTED") return ActivityLeaseLost(task);
  if (Word(reply) != "OK") return Unexpected(reply, "RetryActivityTask");
  return absl::OkStatus();
}

absl::Status RedisStore::CompleteActivityTask(const ActivityTask& task,
                                              const v1::HistoryEvent& result) {
  const absl::Time now = options_.clock->Now();
  std::vector<std::string> args = {task.activity_id, task.lease_token};
  RedisPlanEncoder encoder(&args, now);
  encoder.EncodeDelivery(core::ActivityResultDelivery(task, result, now));
  DURABLE_ASSIGN_OR_RETURN(Reply reply,
                           Run(Script::kCompleteActivity, std::move(args)));
  if (Word(reply) == "ABORTED") return ActivityLeaseLost(task);
  if (Word(reply) != "OK") return Unexpected(reply, "CompleteActivityTask");
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Reads.

absl::StatusOr<std::vector<v1::WorkflowInstanceState>> RedisStore::ReadStates(
    const std::string& instance_id, bool all) {
  DURABLE_ASSIGN_OR_RETURN(Reply reply,
                           Run(Script::kState, {instance_id, all ? "1" : "0"}));
  if (Word(reply) == "NOT_FOUND") {
    return absl::NotFoundError(
        absl::StrCat("workflow instance ", Quoted(instance_id), " not found"));
  }
  if (Word(reply) != "OK") return Unexpected(reply, "a state read");
  std::vector<v1::WorkflowInstanceState> states;
  for (size_t i = 1; i + kStateFields <= reply.elements.size();
       i += kStateFields) {
    DURABLE_ASSIGN_OR_RETURN(v1::WorkflowInstanceState state,
                             StateAt(reply, i));
    states.push_back(std::move(state));
  }
  return states;
}

absl::StatusOr<v1::WorkflowInstanceState> RedisStore::GetWorkflowInstanceState(
    const std::string& instance_id) {
  DURABLE_ASSIGN_OR_RETURN(std::vector<v1::WorkflowInstanceState> states,
                           ReadStates(instance_id, /*all=*/false));
  if (states.empty()) return absl::InternalError("no state read");
  return states.back();
}

absl::StatusOr<std::vector<v1::WorkflowInstanceState>>
RedisStore::ListWorkflowExecutions(const std::string& instance_id) {
  return ReadStates(instance_id, /*all=*/true);
}

absl::StatusOr<std::vector<v1::HistoryEvent>> RedisStore::GetWorkflowHistory(
    const std::string& instance_id, const std::string& execution_id,
    int64_t after_id) {
  if (after_id < 0) after_id = 0;
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply, Run(Script::kHistory,
                       {instance_id, execution_id, absl::StrCat(after_id)}));
  if (Word(reply) == "NOT_FOUND") {
    return absl::NotFoundError(absl::StrCat("execution ", Quoted(execution_id),
                                            " of workflow instance ",
                                            Quoted(instance_id), " not found"));
  }
  if (Word(reply) != "OK") return Unexpected(reply, "GetWorkflowHistory");
  std::vector<v1::HistoryEvent> history;
  history.reserve(reply.elements.size() - 1);
  for (size_t i = 1; i < reply.elements.size(); ++i) {
    const int64_t id = after_id + static_cast<int64_t>(i);
    if (!history.emplace_back().ParseFromString(reply.elements[i].str)) {
      return absl::DataLossError(absl::StrCat("history of workflow instance ",
                                              Quoted(instance_id), ": event ",
                                              id, " cannot be decoded"));
    }
    if (history.back().id() != id) {
      return absl::DataLossError(absl::StrCat(
          "history of workflow instance ", Quoted(instance_id),
          ": the entry numbered ", id, " holds event ", history.back().id()));
    }
  }
  return history;
}

absl::StatusOr<v1::WorkflowInstanceState>
RedisStore::WaitForWorkflowInstanceFinished(const std::string& instance_id,
                                            absl::Time deadline) {
  const absl::Time start = options_.clock->Now();
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

absl::Status RedisStore::DeliverWorkflowEvent(const std::string& instance_id,
                                              const v1::HistoryEvent& event) {
  const v1::HistoryEvent inbound = core::AsInboxEvent(event);
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply,
      Run(Script::kDeliverEvent,
          {instance_id, inbound.SerializeAsString(),
           core::CarriesOverToNextExecution(inbound) ? "1" : "0"}));
  if (Word(reply) == "NOT_FOUND") {
    return absl::NotFoundError(
        absl::StrCat("workflow instance ", Quoted(instance_id), " not found"));
  }
  if (Word(reply) == "NOT_ACTIVE") {
    return absl::NotFoundError(
        absl::StrCat("workflow instance ", Quoted(instance_id),
                     " is not active: its latest execution ",
                     Quoted(At(reply, 1)), " has finished"));
  }
  if (Word(reply) != "OK") return Unexpected(reply, "DeliverWorkflowEvent");
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Removal, listing, stats.

absl::Status RedisStore::RemoveWorkflowInstance(
    const std::string& instance_id) {
  DURABLE_ASSIGN_OR_RETURN(Reply reply,
                           Run(Script::kRemoveInstance, {instance_id}));
  if (Word(reply) == "NOT_FOUND") {
    return absl::NotFoundError(
        absl::StrCat("workflow instance ", Quoted(instance_id), " not found"));
  }
  if (Word(reply) == "ACTIVE") {
    return absl::FailedPreconditionError(
        absl::StrCat("workflow instance ", Quoted(instance_id),
                     " is not finished; only finished instances can be "
                     "removed"));
  }
  if (Word(reply) != "OK") return Unexpected(reply, "RemoveWorkflowInstance");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RedisStore::RemoveWorkflowInstances(
    absl::Time finished_before) {
  DURABLE_ASSIGN_OR_RETURN(Reply reply, Run(Script::kRemoveFinishedBefore,
                                            {Micros(finished_before)}));
  if (Word(reply) != "OK") return Unexpected(reply, "RemoveWorkflowInstances");
  return ToInt(At(reply, 1));
}

absl::StatusOr<core::WorkflowInstancePage> RedisStore::ListWorkflowInstances(
    const std::string& cursor, int page_size) {
  if (page_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ListWorkflowInstances needs a page size of at least 1, got ",
        page_size));
  }
  // The cursor: "<created_at_us>:<seq>" of the last entry of a full page.
  int64_t created_us = 0;
  int64_t seq = 0;
  if (!cursor.empty()) {
    std::vector<std::string> parts = absl::StrSplit(cursor, ':');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &created_us) ||
        !absl::SimpleAtoi(parts[1], &seq) || seq < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ListWorkflowInstances: malformed cursor ", Quoted(cursor)));
    }
  }
  char padded[32];
  snprintf(padded, sizeof(padded), "%020lld", static_cast<long long>(seq));
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply,
      Run(Script::kList, {cursor.empty() ? "0" : "1", absl::StrCat(created_us),
                          padded, absl::StrCat(page_size)}));
  if (Word(reply) != "OK") return Unexpected(reply, "ListWorkflowInstances");
  core::WorkflowInstancePage page;
  std::string last_seq;
  for (size_t i = 1; i + kStateFields + 1 <= reply.elements.size();
       i += kStateFields + 1) {
    DURABLE_ASSIGN_OR_RETURN(v1::WorkflowInstanceState state,
                             StateAt(reply, i));
    last_seq = At(reply, i + kStateFields);
    page.instances.push_back(std::move(state));
  }
  if (static_cast<int>(page.instances.size()) == page_size) {
    page.next_cursor = absl::StrCat(page.instances.back().created_at_unix_us(),
                                    ":", ToInt(last_seq));
  }
  return page;
}

absl::StatusOr<core::StoreStats> RedisStore::GetStats() {
  DURABLE_ASSIGN_OR_RETURN(Reply reply, Run(Script::kStats, {}));
  if (Word(reply) != "OK") return Unexpected(reply, "GetStats");
  core::StoreStats stats;
  stats.active_instances = ToInt(At(reply, 1));
  size_t i = 2;
  for (int which = 0; which < 2; ++which) {
    std::map<std::string, int64_t>& counts = which == 0
                                                 ? stats.pending_workflow_tasks
                                                 : stats.pending_activity_tasks;
    const int64_t n = ToInt(At(reply, i++));
    for (int64_t k = 0; k < n; ++k, i += 2) {
      counts[At(reply, i)] = ToInt(At(reply, i + 1));
    }
  }
  return stats;
}

// ---------------------------------------------------------------------------
// The worker registry: one hash, one command each (each is atomic alone).

absl::Status RedisStore::RecordWorker(const v1::WorkerInfo& worker) {
  if (worker.worker_id().empty()) {
    return absl::InvalidArgumentError("RecordWorker needs a worker_id");
  }
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply, Command({"HSET", key_prefix_ + "workers", worker.worker_id(),
                            worker.SerializeAsString()}));
  if (reply.is_error()) return absl::InternalError(reply.str);
  return absl::OkStatus();
}

absl::Status RedisStore::RemoveWorker(const std::string& worker_id) {
  DURABLE_ASSIGN_OR_RETURN(
      Reply reply, Command({"HDEL", key_prefix_ + "workers", worker_id}));
  if (reply.is_error()) return absl::InternalError(reply.str);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::WorkerInfo>> RedisStore::ListWorkers() {
  DURABLE_ASSIGN_OR_RETURN(Reply reply,
                           Command({"HGETALL", key_prefix_ + "workers"}));
  if (reply.is_error()) return absl::InternalError(reply.str);
  std::map<std::string, v1::WorkerInfo> by_id;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    v1::WorkerInfo info;
    // A bad entry is skipped: it is one worker's, rewritten by its next
    // heartbeat.
    if (info.ParseFromString(reply.elements[i + 1].str)) {
      by_id[reply.elements[i].str] = std::move(info);
    }
  }
  std::vector<v1::WorkerInfo> workers;
  for (auto& [id, info] : by_id) workers.push_back(std::move(info));
  return workers;
}

}  // namespace durable::backends::redis
