// AdminStore: the operator's view of a store -- listing instances, removing
// finished ones, counters -- beside the engine's (Store). Every store
// implements both; workers and the replay path need only Store, while
// clients, tools and the diagnostics UI use this. (go-workflows splits its
// diag.Backend off its backend.Backend the same way.)
//
// All methods are thread-safe.
#ifndef DURABLE_CORE_STORAGE_ADMIN_STORE_H_
#define DURABLE_CORE_STORAGE_ADMIN_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"

namespace durable::core {

// One page of ListWorkflowInstances.
struct WorkflowInstancePage {
  // Latest executions, newest first (by creation time).
  std::vector<v1::WorkflowInstanceState> instances;
  // Pass to the next call. Empty once a page came back short (the end was
  // reached); a full page always carries a cursor, so a listing that ends
  // exactly at a page boundary ends with one empty page.
  std::string next_cursor;
};

// Counters for dashboards and the conformance suite.
struct StoreStats {
  // Instances whose latest execution is ACTIVE.
  int64_t active_instances = 0;
  // Per queue: active instances with inbox events visible now (leased or
  // not: a task counts until it is completed; an instance whose failed task
  // waits for its retry delay counts too).
  std::map<std::string, int64_t> pending_workflow_tasks;
  // Per queue: activity tasks not yet completed, leased ones included.
  std::map<std::string, int64_t> pending_activity_tasks;
};

class AdminStore : public Store {
 public:
  // Deletes every execution of a finished instance (rows, history, inbox,
  // leftover activity tasks: a leased one then loses its lease).
  // FAILED_PRECONDITION ("... is not finished") while its latest execution
  // is active; NOT_FOUND for unknown instances.
  virtual absl::Status RemoveWorkflowInstance(
      const std::string& instance_id) = 0;

  // Deletes every finished execution that finished before `finished_before`
  // (with its history, inbox and activity tasks, as above) and returns how
  // many executions were removed.
  virtual absl::StatusOr<int64_t> RemoveWorkflowInstances(
      absl::Time finished_before) = 0;

  // Lists instances (their latest execution), newest first, `page_size` at a
  // time (executions created in the same microsecond in an order the store
  // chooses, the same on every page); `cursor` is "" for the first page,
  // then the previous page's next_cursor (its format is the store's).
  // INVALID_ARGUMENT for a malformed cursor or page_size < 1.
  virtual absl::StatusOr<WorkflowInstancePage> ListWorkflowInstances(
      const std::string& cursor, int page_size) = 0;

  virtual absl::StatusOr<StoreStats> GetStats() = 0;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_STORAGE_ADMIN_STORE_H_
