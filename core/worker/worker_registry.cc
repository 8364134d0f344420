#include "core/worker/worker_registry.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/uuid.h"
#include "core/worker/worker.h"
#include "core/worker_liveness.h"

namespace durable::core {
namespace {

// Registry entries of workers that stopped heartbeating this long before
// their TTL ran out are deleted by the next live worker's heartbeat (a
// crashed worker's entry stays visible to operators, as not live, until
// then).
constexpr absl::Duration kForgetDeadWorkersAfter = absl::Hours(1);

// How often a worker re-reads the registry to recompute its poll filters
// (at most; and at every heartbeat). Reading a handful of rows is cheap, and
// this bounds how long the names of a worker that left stay reserved.
constexpr absl::Duration kRegistryRefreshInterval = absl::Seconds(1);

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

}  // namespace

WorkerRegistry::WorkerRegistry(Store& store, const WorkerConfig& config,
                               absl::Mutex& mu)
    : store_(store),
      config_(config),
      clock_(*config.clock),
      worker_id_(NewUuid()),
      started_at_(clock_.Now()),
      mu_(mu),
      workflow_filter_(std::make_shared<TaskNameFilter>()),
      activity_filter_(std::make_shared<TaskNameFilter>()) {
  if (config_.registered_names.has_value()) {
    workflow_names_.insert(config_.registered_names->workflow_names().begin(),
                           config_.registered_names->workflow_names().end());
    activity_names_.insert(config_.registered_names->activity_names().begin(),
                           config_.registered_names->activity_names().end());
  }
}

bool WorkerRegistry::Runs(TaskKind kind, const std::string& name) const {
  if (!config_.registered_names.has_value()) return true;
  return kind == TaskKind::kWorkflow ? workflow_names_.contains(name)
                                     : activity_names_.contains(name);
}

v1::WorkerInfo WorkerRegistry::SelfInfo(absl::Time now) const {
  v1::WorkerInfo info;
  info.set_worker_id(worker_id_);
  info.set_host(HostName());
  info.set_pid(getpid());
  for (const std::string& queue : config_.queues) info.add_queues(queue);
  if (config_.registered_names.has_value()) {
    *info.mutable_registered_names() = *config_.registered_names;
  }
  info.set_started_at_unix_us(absl::ToUnixMicros(started_at_));
  info.set_last_seen_unix_us(absl::ToUnixMicros(now));
  info.set_ttl_us(absl::ToInt64Microseconds(config_.worker_ttl));
  return info;
}

void WorkerRegistry::Heartbeat(bool renew_entry) {
  const absl::Time now = clock_.Now();
  if (removed_.load()) return;
  // A failed write or read leaves the filters as they were; the next
  // heartbeat tries again (and other workers count this one until its TTL).
  if (renew_entry) store_.RecordWorker(SelfInfo(now)).IgnoreError();
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = store_.ListWorkers();
  if (!workers.ok()) return;
  UpdateFilters(*workers, now);
  for (const v1::WorkerInfo& worker : *workers) {
    if (worker.worker_id() != worker_id_ &&
        !IsWorkerLive(worker, now - kForgetDeadWorkersAfter)) {
      store_.RemoveWorker(worker.worker_id()).IgnoreError();
    }
  }
}

void WorkerRegistry::StartSchedule(absl::Time start) {
  next_heartbeat_ = start + config_.worker_ttl / 3;
  next_refresh_ =
      start + std::min(config_.worker_ttl / 3, kRegistryRefreshInterval);
}

absl::Time WorkerRegistry::RefreshIfDue(absl::Time now) {
  if (now < next_refresh_) return next_refresh_;
  const absl::Duration heartbeat_every = config_.worker_ttl / 3;
  const bool renew_entry = now >= next_heartbeat_;
  if (renew_entry) next_heartbeat_ = now + heartbeat_every;
  next_refresh_ = now + std::min(heartbeat_every, kRegistryRefreshInterval);
  Heartbeat(renew_entry);
  return next_refresh_;
}

void WorkerRegistry::UpdateFilters(const std::vector<v1::WorkerInfo>& workers,
                                   absl::Time now) {
  auto workflow = std::make_shared<TaskNameFilter>();
  auto activity = std::make_shared<TaskNameFilter>();
  if (config_.registered_names.has_value()) {
    workflow->restricted = activity->restricted = true;
    workflow->names.assign(config_.registered_names->workflow_names().begin(),
                           config_.registered_names->workflow_names().end());
    activity->names.assign(config_.registered_names->activity_names().begin(),
                           config_.registered_names->activity_names().end());
    // Per queue of ours: what the other live workers polling it run.
    std::map<std::string, std::set<std::string>> workflow_claims;
    std::map<std::string, std::set<std::string>> activity_claims;
    for (const v1::WorkerInfo& worker : workers) {
      if (worker.worker_id() == worker_id_ || !IsWorkerLive(worker, now)) {
        continue;
      }
      for (const std::string& queue : worker.queues()) {
        if (std::find(config_.queues.begin(), config_.queues.end(), queue) ==
            config_.queues.end()) {
          continue;
        }
        if (!worker.has_registered_names()) {
          workflow->claimed[queue].all = true;
          activity->claimed[queue].all = true;
          continue;
        }
        const v1::RegisteredNames& names = worker.registered_names();
        workflow_claims[queue].insert(names.workflow_names().begin(),
                                      names.workflow_names().end());
        activity_claims[queue].insert(names.activity_names().begin(),
                                      names.activity_names().end());
      }
    }
    for (auto& [queue, names] : workflow_claims) {
      workflow->claimed[queue].names.assign(names.begin(), names.end());
    }
    for (auto& [queue, names] : activity_claims) {
      activity->claimed[queue].names.assign(names.begin(), names.end());
    }
  }
  absl::MutexLock lock(&mu_);
  // Listings read by two threads (heartbeat, a fresh check) may finish out
  // of order: keep the newest.
  if (now < filters_read_at_) return;
  filters_read_at_ = now;
  workflow_filter_ = std::move(workflow);
  activity_filter_ = std::move(activity);
}

absl::StatusOr<std::optional<std::string>> WorkerRegistry::LiveRunnerOf(
    TaskKind kind, const std::string& name, const std::string& queue) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = store_.ListWorkers();
  if (!workers.ok()) return workers.status();
  UpdateFilters(*workers, now);
  for (const v1::WorkerInfo& worker : *workers) {
    if (worker.worker_id() == worker_id_ || !IsWorkerLive(worker, now) ||
        std::find(worker.queues().begin(), worker.queues().end(), queue) ==
            worker.queues().end()) {
      continue;
    }
    const auto& names = kind == TaskKind::kWorkflow
                            ? worker.registered_names().workflow_names()
                            : worker.registered_names().activity_names();
    if (!worker.has_registered_names() ||
        std::find(names.begin(), names.end(), name) != names.end()) {
      return std::optional<std::string>(
          absl::StrFormat("worker %s (%s, pid %d)", worker.worker_id(),
                          worker.host(), worker.pid()));
    }
  }
  return std::optional<std::string>();
}

std::string WorkerRegistry::NotRegisteredMessage(
    TaskKind kind, const std::string& name, const std::string& queue) const {
  const bool workflow = kind == TaskKind::kWorkflow;
  std::vector<std::string> mine(
      workflow ? workflow_names_.begin() : activity_names_.begin(),
      workflow ? workflow_names_.end() : activity_names_.end());
  std::sort(mine.begin(), mine.end());
  return absl::StrFormat(
      "%s \"%s\" is not registered with any live worker polling queue "
      "\"%s\" (this worker registered: %s)",
      workflow ? "workflow" : "activity", name, queue,
      mine.empty() ? "none" : absl::StrJoin(mine, ", "));
}

void WorkerRegistry::Remove() {
  if (removed_.exchange(true)) return;
  store_.RemoveWorker(worker_id_).IgnoreError();
}

}  // namespace durable::core
