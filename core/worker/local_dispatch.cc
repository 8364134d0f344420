#include "core/worker/local_dispatch.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace durable::core {

std::optional<ActivityTask> LocalDispatch::TakeEager() {
  if (eager_.empty()) return std::nullopt;
  std::optional<ActivityTask> task = std::move(eager_.front());
  eager_.pop_front();
  return task;
}

int LocalDispatch::ReserveEager(int servable) {
  const int idle_pollers =
      activity_.waiting - eager_reserved_ - static_cast<int>(eager_.size());
  const int reserved = std::max(0, std::min(servable, idle_pollers));
  eager_reserved_ += reserved;
  return reserved;
}

void LocalDispatch::SettleEager(int reserved,
                                std::vector<ActivityTask>* leased) {
  eager_reserved_ -= reserved;
  if (leased == nullptr) return;
  counters_.eager_activities += static_cast<int64_t>(leased->size());
  for (ActivityTask& task : *leased) eager_.push_back(std::move(task));
}

std::deque<ActivityTask> LocalDispatch::TakeAllEager() {
  std::deque<ActivityTask> all;
  all.swap(eager_);
  return all;
}

void LocalDispatch::AppendLeases(
    std::vector<ActivityTask>& activity_tasks) const {
  activity_tasks.insert(activity_tasks.end(), eager_.begin(), eager_.end());
}

bool LocalDispatch::StartFusedTask(ActivityResult& result, RunCache& cache,
                                   const Clock& clock) {
  if (workflow_.waiting <= cache.ready_size()) return false;
  const std::string execution_id = result.task.execution_id;
  RunSlot* slot = cache.Find(execution_id);
  if (slot == nullptr) return false;
  if (!slot->in_lru || slot->machine == nullptr ||
      !slot->identity.has_value() || slot->task.has_value() ||
      slot->queued_task.has_value() || slot->outstanding || slot->committing ||
      slot->eviction_reason.has_value()) {
    return false;
  }
  WorkflowTask task = *slot->identity;
  task.history_length = slot->machine->history_length();
  task.new_events.push_back(result.event);
  cache.RemoveFromLru(*slot);
  if (absl::Status started =
          slot->machine->StartTask(clock.Now(), task.new_events);
      !started.ok()) {
    // The regular task that the result wakes replays and reports it.
    cache.Evict(execution_id, *slot,
                absl::StrCat("cannot start task: ", started.message()));
    cache.EraseIfUnused(execution_id);
    return false;
  }
  slot->task = std::move(task);
  slot->fused_result = std::move(result);
  ++counters_.fused_tasks;
  cache.Schedule(execution_id);
  return true;
}

}  // namespace durable::core
