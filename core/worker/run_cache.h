// RunCache: the executor cache -- every run this worker holds state for,
// which of them have an activation to hand out, and which idle ones leave
// first when the cache is full (least recently used).
//
// Why a cache: a run kept here receives only the events of its next task
// instead of replaying its whole history, so a workflow of N steps costs
// O(N) rather than O(N^2). Why it also tracks the language layer: eviction
// is an explicit activation (RemoveFromCache) that the language layer
// acknowledges before the run may be replayed again, so a slot outlives its
// replay machine until that acknowledgement.
//
// What happens to a slot's task (replaying, committing, failing) is the task
// pipeline's business (workflow_task_pipeline.cc); this class only keeps the
// slots, the ready queue and the LRU order consistent.
//
// Not thread-safe: the Worker guards it with its one mutex, together with
// the task counters and poller accounting that change in the same step, so
// a step of a task takes that lock once.
#ifndef DURABLE_CORE_WORKER_RUN_CACHE_H_
#define DURABLE_CORE_WORKER_RUN_CACHE_H_

#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/proto/protocol.pb.h"
#include "core/replay/workflow_state_machine.h"
#include "core/storage/store.h"
#include "core/worker/activity_result.h"

namespace durable::core {

// Per-run state: the replay machine, the task it is working on and what the
// language layer holds.
struct RunSlot {
  std::unique_ptr<WorkflowStateMachine> machine;
  // The task being worked on: loading history, replaying or committing.
  std::optional<WorkflowTask> task;
  // A task for this run that arrived while another was in progress.
  std::optional<WorkflowTask> queued_task;
  bool committing = false;   // task's commit is running (no lock held)
  bool outstanding = false;  // an activation is with the language layer
  bool evicting = false;     // ... and it is a RemoveFromCache
  bool language_has_state = false;
  // With `task` set: the task is a fused one (local_dispatch.h) and this
  // result is committed together with it.
  std::optional<ActivityResult> fused_result;
  // The run's instance, queue and metadata (a task without events or
  // lease), kept while the run is cached to build fused tasks from.
  std::optional<WorkflowTask> identity;
  std::optional<std::string> eviction_reason;
  bool in_lru = false;
  std::list<std::string>::iterator lru_position;
};

class RunCache {
 public:
  // `max_cached_runs` idle runs are kept; 0 keeps none.
  explicit RunCache(int max_cached_runs) : max_cached_runs_(max_cached_runs) {}

  // The run's slot, created empty if there is none.
  RunSlot& Slot(const std::string& execution_id) { return runs_[execution_id]; }
  // The run's slot, or null.
  RunSlot* Find(const std::string& execution_id);

  // Puts the run in the ready queue (once) unless its activation is out.
  void Schedule(const std::string& execution_id);

  // A run taken from the ready queue.
  struct Ready {
    std::string execution_id;
    RunSlot* slot;
  };
  // The next queued run that may act (its slot exists and no activation of
  // it is out); nullopt when the queue is empty.
  std::optional<Ready> PopReady();
  bool ready_empty() const { return ready_.empty(); }
  int ready_size() const { return static_cast<int>(ready_.size()); }

  // Drops the slot's machine; if the language layer holds state for the
  // run, an eviction activation (RemoveFromCache, `reason`) is queued.
  void Evict(const std::string& execution_id, RunSlot& slot, std::string reason);
  // Hands out the queued eviction of a slot with eviction_reason set.
  v1::WorkflowActivation StartEviction(const std::string& execution_id,
                                       RunSlot& slot);
  // The language layer acknowledged the eviction. Returns the task that
  // waited for it, if any (still counted as in flight by the caller).
  std::optional<WorkflowTask> FinishEviction(const std::string& execution_id,
                                             RunSlot& slot);

  // Makes an idle run the most recently used, evicting the least recently
  // used ones beyond the cache size.
  void Cache(const std::string& execution_id, RunSlot& slot);
  void RemoveFromLru(RunSlot& slot);

  // The slot's queued task, if the run is idle enough to start it now.
  std::optional<WorkflowTask> TakeQueued(RunSlot& slot);
  // Drops the slot of a run nothing refers to any more.
  void EraseIfUnused(const std::string& execution_id);

  // Whether an activation of any run is with the language layer.
  bool AnyOutstanding() const;
  // The leases this cache's tasks hold, for renewal: slots' tasks (a fused
  // task has no lease of its own, its attempt's is renewed instead) and
  // queued tasks.
  void AppendLeases(std::vector<WorkflowTask>& workflow_tasks,
                    std::vector<ActivityTask>& activity_tasks) const;
  // Calls `f(execution_id, slot)` for every slot.
  template <typename F>
  void ForEach(F&& f) {
    for (auto& [execution_id, slot] : runs_) f(execution_id, slot);
  }

 private:
  const int max_cached_runs_;
  absl::flat_hash_map<std::string, RunSlot> runs_;
  std::deque<std::string> ready_;
  std::list<std::string> lru_;  // idle runs, most recently used first
};

}  // namespace durable::core

#endif  // DURABLE_CORE_WORKER_RUN_CACHE_H_
