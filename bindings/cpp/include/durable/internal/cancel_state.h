// CancelState: the cancellation scope behind a WorkflowContext. Internal to
// the facade; the public API is in workflow_context.h and cancellation.h.
//
// Scopes form a tree: the run's root scope (canceled by the CancelWorkflow
// job), children made by WithCancel (canceled with their parent or by their
// CancelFunc) and disconnected roots made by NewDisconnectedContext.
// Cancel() is idempotent. It runs the scope's cancel listeners (one per
// pending timer, which cancels the timer) in registration order, resolves
// Done(), then cancels the children in creation order, so the commands it
// causes come out in a deterministic order.
#ifndef DURABLE_INTERNAL_CANCEL_STATE_H_
#define DURABLE_INTERNAL_CANCEL_STATE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "durable/future.h"
#include "durable/internal/scheduler.h"

namespace durable::internal {

class CancelState {
 public:
  explicit CancelState(Scheduler* scheduler) : scheduler_(scheduler) {}
  CancelState(const CancelState&) = delete;
  CancelState& operator=(const CancelState&) = delete;

  // A new scope canceled with `parent` (right away if `parent` already is).
  static std::shared_ptr<CancelState> NewChild(
      const std::shared_ptr<CancelState>& parent);

  bool canceled() const { return !status_.ok(); }
  // OK, or the CANCELLED status operations on this scope fail with.
  const absl::Status& status() const { return status_; }

  // `status` must be a CANCELLED status; the first call wins.
  void Cancel(absl::Status status);

  // Calls `listener` when the scope is canceled (never if it already is:
  // callers check canceled() first). The id removes it again.
  uint64_t AddListener(std::function<void()> listener);
  void RemoveListener(uint64_t id);

  // Resolved with status() once the scope is canceled.
  std::shared_ptr<FutureState<void>> Done();

 private:
  Scheduler* const scheduler_;
  absl::Status status_;
  std::vector<std::weak_ptr<CancelState>> children_;
  // Ordered by id, i.e. by registration.
  std::map<uint64_t, std::function<void()>> listeners_;
  uint64_t next_listener_id_ = 1;
  std::shared_ptr<FutureState<void>> done_;
};

}  // namespace durable::internal

#endif  // DURABLE_INTERNAL_CANCEL_STATE_H_
