#include "durable/cancellation.h"

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "durable/internal/cancel_state.h"

namespace durable {
namespace internal {

std::shared_ptr<CancelState> CancelState::NewChild(
    const std::shared_ptr<CancelState>& parent) {
  auto child = std::make_shared<CancelState>(parent->scheduler_);
  if (parent->canceled()) {
    child->status_ = parent->status_;
    return child;
  }
  // Forget children that are gone, so long-lived scopes do not grow.
  std::erase_if(parent->children_, [](const std::weak_ptr<CancelState>& c) {
    return c.expired();
  });
  parent->children_.push_back(child);
  return child;
}

void CancelState::Cancel(absl::Status status) {
  if (canceled()) return;
  status_ = std::move(status);
  std::map<uint64_t, std::function<void()>> listeners =
      std::exchange(listeners_, {});
  for (auto& [id, listener] : listeners) listener();
  if (done_ != nullptr) done_->SetResult(status_);
  std::vector<std::weak_ptr<CancelState>> children =
      std::exchange(children_, {});
  for (const std::weak_ptr<CancelState>& weak_child : children) {
    if (std::shared_ptr<CancelState> child = weak_child.lock()) {
      child->Cancel(status_);
    }
  }
}

uint64_t CancelState::AddListener(std::function<void()> listener) {
  const uint64_t id = next_listener_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void CancelState::RemoveListener(uint64_t id) { listeners_.erase(id); }

std::shared_ptr<FutureState<void>> CancelState::Done() {
  if (done_ == nullptr) {
    done_ = std::make_shared<FutureState<void>>(scheduler_);
    if (canceled()) done_->SetResult(status_);
  }
  return done_;
}

// Lets the functions below build contexts (the constructor is private so
// that user code cannot make contexts outside a run).
struct CancellationAccess {
  static WorkflowContext WithScope(const WorkflowContext& ctx,
                                   std::shared_ptr<CancelState> scope) {
    return WorkflowContext(ctx.run_, std::move(scope));
  }
  static const std::shared_ptr<CancelState>& ScopeOf(
      const WorkflowContext& ctx) {
    return ctx.scope_;
  }
  static Scheduler* SchedulerOf(const WorkflowContext& ctx) {
    return ctx.scheduler();
  }
};

}  // namespace internal

std::pair<WorkflowContext, CancelFunc> WithCancel(
    const WorkflowContext& parent) {
  using internal::CancellationAccess;
  std::shared_ptr<internal::CancelState> scope =
      internal::CancelState::NewChild(CancellationAccess::ScopeOf(parent));
  std::weak_ptr<internal::CancelState> weak_scope = scope;
  CancelFunc cancel = [weak_scope] {
    if (std::shared_ptr<internal::CancelState> scope = weak_scope.lock()) {
      scope->Cancel(absl::CancelledError("context canceled"));
    }
  };
  return {CancellationAccess::WithScope(parent, std::move(scope)),
          std::move(cancel)};
}

WorkflowContext NewDisconnectedContext(const WorkflowContext& parent) {
  using internal::CancellationAccess;
  return CancellationAccess::WithScope(
      parent, std::make_shared<internal::CancelState>(
                  CancellationAccess::SchedulerOf(parent)));
}

}  // namespace durable
