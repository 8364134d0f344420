#include "core/worker/run_cache.h"

#include <algorithm>
#include <utility>

namespace durable::core {

RunSlot* RunCache::Find(const std::string& execution_id) {
  auto it = runs_.find(execution_id);
  return it == runs_.end() ? nullptr : &it->second;
}

void RunCache::Schedule(const std::string& execution_id) {
  auto it = runs_.find(execution_id);
  if (it == runs_.end() || it->second.outstanding) return;
  if (std::find(ready_.begin(), ready_.end(), execution_id) == ready_.end()) {
    ready_.push_back(execution_id);
  }
}

std::optional<RunCache::Ready> RunCache::PopReady() {
  while (!ready_.empty()) {
    std::string execution_id = std::move(ready_.front());
    ready_.pop_front();
    auto it = runs_.find(execution_id);
    if (it == runs_.end() || it->second.outstanding) continue;
    return Ready{std::move(execution_id), &it->second};
  }
  return std::nullopt;
}

void RunCache::Evict(const std::string& execution_id, RunSlot& slot,
                     std::string reason) {
  RemoveFromLru(slot);
  slot.machine.reset();
  if (slot.language_has_state) {
    // An eviction already pending keeps its reason, the cause: a later one
    // (say "replaying from history" when the run's next task arrives before
    // the language layer took the eviction) is only its consequence.
    if (!slot.eviction_reason.has_value()) {
      slot.eviction_reason = std::move(reason);
    }
    Schedule(execution_id);
  }
}

v1::WorkflowActivation RunCache::StartEviction(const std::string& execution_id,
                                               RunSlot& slot) {
  slot.outstanding = true;
  slot.evicting = true;
  v1::WorkflowActivation activation;
  activation.set_execution_id(execution_id);
  activation.set_instance_id(slot.task.has_value() ? slot.task->instance_id
                             : slot.queued_task.has_value()
                                 ? slot.queued_task->instance_id
                                 : std::string());
  activation.add_jobs()->mutable_remove_from_cache()->set_reason(
      *slot.eviction_reason);
  return activation;
}

std::optional<WorkflowTask> RunCache::FinishEviction(const std::string& execution_id,
                                                     RunSlot& slot) {
  // The language layer dropped the run; whatever comes next replays.
  slot.outstanding = false;
  slot.evicting = false;
  slot.eviction_reason.reset();
  slot.language_has_state = false;
  std::optional<WorkflowTask> next = TakeQueued(slot);
  Schedule(execution_id);
  EraseIfUnused(execution_id);  // `slot` may be gone from here on
  return next;
}

void RunCache::Cache(const std::string& execution_id, RunSlot& slot) {
  lru_.push_front(execution_id);
  slot.lru_position = lru_.begin();
  slot.in_lru = true;
  while (static_cast<int>(lru_.size()) > max_cached_runs_) {
    const std::string victim = lru_.back();
    Evict(victim, runs_[victim], "executor cache full");
  }
}

void RunCache::RemoveFromLru(RunSlot& slot) {
  if (slot.in_lru) {
    lru_.erase(slot.lru_position);
    slot.in_lru = false;
  }
}

std::optional<WorkflowTask> RunCache::TakeQueued(RunSlot& slot) {
  if (!slot.queued_task.has_value() || slot.task.has_value() ||
      slot.outstanding || slot.eviction_reason.has_value()) {
    return std::nullopt;
  }
  std::optional<WorkflowTask> next = std::move(slot.queued_task);
  slot.queued_task.reset();
  return next;
}

void RunCache::EraseIfUnused(const std::string& execution_id) {
  auto it = runs_.find(execution_id);
  if (it == runs_.end()) return;
  const RunSlot& slot = it->second;
  if (slot.machine == nullptr && !slot.task.has_value() &&
      !slot.queued_task.has_value() && !slot.outstanding &&
      !slot.eviction_reason.has_value() && !slot.language_has_state) {
    runs_.erase(it);
  }
}

bool RunCache::AnyOutstanding() const {
  return std::any_of(runs_.begin(), runs_.end(), [](const auto& entry) {
    return entry.second.outstanding;
  });
}

void RunCache::AppendLeases(std::vector<WorkflowTask>& workflow_tasks,
                            std::vector<ActivityTask>& activity_tasks) const {
  for (const auto& [execution_id, slot] : runs_) {
    if (slot.task.has_value() && !slot.task->lease_token.empty()) {
      workflow_tasks.push_back(*slot.task);
    }
    if (slot.queued_task.has_value()) {
      workflow_tasks.push_back(*slot.queued_task);
    }
    if (slot.fused_result.has_value()) {
      activity_tasks.push_back(slot.fused_result->task);
    }
  }
}

}  // namespace durable::core
