// WorkerRegistry: this worker's entry in the store's worker registry, and
// the poll filters computed from the entries of the others.
//
// Why: workers of several languages may share a queue, each running only
// the names its language layer registered. Each worker records itself
// (Store::RecordWorker), renews the entry every third of its TTL and
// removes it on shutdown; liveness is judged here (core/worker_liveness.h),
// never by the store. From the live entries the registry computes what
// polls may lease: the names this worker runs, plus those no other live
// worker of the queue runs (so a task nobody can run is taken by someone,
// who fails it). The filters are recomputed about every second, not per
// poll. A task taken under the second rule is checked against a fresh read
// (LiveRunnerOf) before the failure policy fails it (failure_policy.h).
//
// Times come from the worker's Clock: an entry's last_seen is this clock's
// Now(), and other entries are judged live against it.
//
// Thread-safe. The filters are guarded by the worker's mutex (passed in):
// a poll reads them in the critical section where it counts itself as a
// poller, so the registry adds no lock to the per-task path. The refresh
// schedule (RefreshIfDue) is used by the worker's housekeeping thread only.
#ifndef DURABLE_CORE_WORKER_WORKER_REGISTRY_H_
#define DURABLE_CORE_WORKER_WORKER_REGISTRY_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"

namespace durable::core {

struct WorkerConfig;

enum class TaskKind { kWorkflow, kActivity };

class WorkerRegistry {
 public:
  // `config` and `mu` (the worker's mutex) must outlive the registry.
  WorkerRegistry(Store& store, const WorkerConfig& config, absl::Mutex& mu);

  WorkerRegistry(const WorkerRegistry&) = delete;
  WorkerRegistry& operator=(const WorkerRegistry&) = delete;

  // This worker's entry id (a UUID).
  const std::string& worker_id() const { return worker_id_; }

  // Whether the language layer registered `name` (always, without
  // WorkerConfig::registered_names).
  bool Runs(TaskKind kind, const std::string& name) const;

  // What a poll for `kind` may lease (never null).
  std::shared_ptr<const TaskNameFilter> FilterLocked(TaskKind kind) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return kind == TaskKind::kWorkflow ? workflow_filter_ : activity_filter_;
  }

  // Renews this worker's entry (with `renew_entry`), reads the registry,
  // recomputes the poll filters from it and forgets entries long dead.
  // Does nothing once Remove() ran.
  void Heartbeat(bool renew_entry);
  // Housekeeping: runs the refresh (and heartbeat) due at `now`, if any, and
  // returns when the next one is due. The constructor's caller sends the
  // first heartbeat; the schedule counts from `start`.
  absl::Time RefreshIfDue(absl::Time now);
  void StartSchedule(absl::Time start);
  absl::Time next_refresh() const { return next_refresh_; }

  // After a fresh read of the registry (which also updates the filters):
  // the first other live worker polling `queue` that runs `name` (or any
  // name), as "worker <id> (<host>, pid <pid>)"; nullopt if there is none.
  absl::StatusOr<std::optional<std::string>> LiveRunnerOf(
      TaskKind kind, const std::string& name, const std::string& queue);
  // "<kind> "<name>" is not registered with any live worker..." (for
  // failures).
  std::string NotRegisteredMessage(TaskKind kind, const std::string& name,
                                   const std::string& queue) const;

  // Deletes this worker's entry (once; later heartbeats do nothing).
  void Remove();

 private:
  // This worker's entry as of `now`.
  v1::WorkerInfo SelfInfo(absl::Time now) const;
  // Installs filters computed from a listing read at `now` (ignored if
  // newer ones are in place already).
  void UpdateFilters(const std::vector<v1::WorkerInfo>& workers,
                     absl::Time now);

  Store& store_;
  const WorkerConfig& config_;
  const Clock& clock_;
  const std::string worker_id_;
  const absl::Time started_at_;
  // config_.registered_names as sets (empty without it).
  absl::flat_hash_set<std::string> workflow_names_;
  absl::flat_hash_set<std::string> activity_names_;
  std::atomic<bool> removed_{false};

  absl::Mutex& mu_;
  std::shared_ptr<const TaskNameFilter> workflow_filter_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const TaskNameFilter> activity_filter_ ABSL_GUARDED_BY(mu_);
  // When the registry listing the filters come from was read.
  absl::Time filters_read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  // The housekeeping thread's schedule.
  absl::Time next_refresh_ = absl::InfiniteFuture();
  absl::Time next_heartbeat_ = absl::InfiniteFuture();
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_WORKER_REGISTRY_H_
