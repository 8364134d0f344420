// Worker: the coordinator. It owns the parts of the worker (see the list in
// worker.h), the one mutex that guards the parts' shared state, the
// two-step shutdown and the housekeeping thread.
//
// Why one mutex for all parts: a step of a task touches several of them at
// once (a commit settles eager reservations, caches the run and starts the
// task queued behind it; a poll counts itself and reads the filters), and
// taking one uncontended lock per step is cheaper and simpler than ordering
// several.
//
// Why a housekeeping thread that sleeps until the next deadline: activity
// timeouts, lease renewals and registry refreshes are all due at known
// times. The thread sleeps until the earliest of them; only a new activity
// attempt due before that wakes it early (activity_tracker.h). An idle
// worker wakes about once a second (the registry refresh), not on a tick.
#include "core/worker/worker.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/errors.h"

namespace durable::core {
namespace {

WorkerConfig WithClock(WorkerConfig config) {
  if (config.clock == nullptr) config.clock = &Clock::Real();
  return config;
}

}  // namespace

Worker::Worker(std::shared_ptr<Store> backend, WorkerConfig config)
    : store_(std::move(backend)),
      config_(WithClock(std::move(config))),
      clock_(*config_.clock),
      registry_(*store_, config_, mu_),
      failures_(*store_, config_, registry_),
      leases_(*store_, config_),
      cache_(config_.max_cached_runs) {
  // Before the first poll, so that it already knows the other workers.
  registry_.Heartbeat(/*renew_entry=*/true);
  const absl::Time start = clock_.Now();
  registry_.StartSchedule(start);
  leases_.StartSchedule(start);
  housekeeping_thread_ = std::thread([this] { RunHousekeeping(); });
}

Worker::~Worker() {
  InitiateShutdown();
  {
    absl::MutexLock lock(&mu_);
    housekeeping_stop_ = true;
  }
  if (housekeeping_thread_.joinable()) housekeeping_thread_.join();
  registry_.Remove();
}

void Worker::InitiateShutdown() {
  stopping_.store(true);
  // Pollers waiting on mu_ re-evaluate their conditions (which read
  // stopping_) when it is released.
  { absl::MutexLock lock(&mu_); }
  store_->Interrupt();
}

absl::Status Worker::FinalizeShutdown(absl::Duration timeout) {
  InitiateShutdown();
  std::vector<FailedTask> leftover;
  std::deque<ActivityTask> unstarted;
  bool idle;
  {
    absl::MutexLock lock(&mu_);
    auto idle_cond = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return workflow_tasks_in_flight_ == 0 && activities_.empty() &&
             !dispatch_.has_eager();
    };
    idle = mu_.AwaitWithTimeout(absl::Condition(&idle_cond), timeout);
    const absl::Status why =
        ShutdownError("worker shut down before finishing the task");
    cache_.ForEach([&](const std::string& execution_id, RunSlot& slot) {
      if (slot.task.has_value() && !slot.outstanding && !slot.committing) {
        leftover.push_back({*slot.task, slot.fused_result, why});
      }
      if (slot.queued_task.has_value()) {
        leftover.push_back({*slot.queued_task, std::nullopt, why});
      }
    });
    unstarted = dispatch_.TakeAllEager();
    housekeeping_stop_ = true;
  }
  for (const FailedTask& task : leftover) {
    failures_.AbandonWorkflowTask(task.task, task.why, task.fused_result);
  }
  // Eagerly leased attempts nobody polled: back to the queue, same attempt.
  for (const ActivityTask& task : unstarted) {
    store_->RetryActivityTask(task, task.attempt, clock_.Now()).IgnoreError();
  }
  if (housekeeping_thread_.joinable()) housekeeping_thread_.join();
  registry_.Remove();
  if (!idle) {
    return absl::DeadlineExceededError(absl::StrCat(
        "work was still in flight after ", absl::FormatDuration(timeout),
        "; its leases expire on their own"));
  }
  return absl::OkStatus();
}

Worker::Stats Worker::stats() const {
  absl::MutexLock lock(&mu_);
  Stats stats;
  const LocalDispatch::Counters& counters = dispatch_.counters();
  stats.eager_activities = counters.eager_activities;
  stats.fused_tasks = counters.fused_tasks;
  stats.fused_tasks_refused = counters.fused_tasks_refused;
  stats.idle_workflow_pollers = dispatch_.workflow_pollers().waiting;
  stats.idle_activity_pollers = dispatch_.activity_pollers().waiting;
  stats.housekeeping_wakeups = housekeeping_wakeups_;
  return stats;
}

void Worker::RunHousekeeping() {
  while (true) {
    std::vector<std::pair<ActivityTask, v1::Failure>> timed_out;
    std::optional<LeaseRenewer::Held> held;
    absl::Time now;
    {
      absl::MutexLock lock(&mu_);
      now = clock_.Now();
      // The schedules of the registry and the renewer are this thread's
      // own; the tracker's deadlines move with every attempt, hence the
      // lock (and the planned wake-up, for Start to compare against).
      const absl::Time wake_at =
          std::min({activities_.NextDeadline(), leases_.next_due(),
                    registry_.next_refresh()});
      activities_.PlanWakeup(wake_at);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return housekeeping_stop_ || activities_.wake_requested();
      };
      // Real time: (wake_at - now) of the worker's clock, slept on the
      // real one (see worker.h).
      if (wake_at > now) {
        mu_.AwaitWithTimeout(absl::Condition(&woken), wake_at - now);
      }
      if (housekeeping_stop_) return;
      ++housekeeping_wakeups_;
      now = clock_.Now();
      timed_out = activities_.TakeTimedOut(now);
      if (leases_.Due(now)) {
        held.emplace();
        cache_.AppendLeases(held->workflow_tasks, held->activity_tasks);
        activities_.AppendLeases(held->activity_tasks);
        dispatch_.AppendLeases(held->activity_tasks);
      }
    }
    // The attempt's code keeps running; its late result finds no task.
    for (const auto& [task, failure] : timed_out) {
      FinishFailedAttempt(task, failure).IgnoreError();
    }
    registry_.RefreshIfDue(now);
    if (held.has_value()) leases_.Renew(*held, now);
  }
}

}  // namespace durable::core
