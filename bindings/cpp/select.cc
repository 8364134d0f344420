#include "durable/select.h"

#include <memory>

namespace durable {

Task<bool> Select::Wait() {
  while (true) {
    bool any_live = false;
    // By index: a callback may add cases.
    for (size_t i = 0; i < cases_.size(); ++i) {
      Case& c = cases_[i];
      if (!live(c)) continue;
      any_live = true;
      if (!c.ready()) continue;
      if (c.once) c.fired = true;
      c.fire();
      co_return true;
    }
    if (default_) {
      // Copied: the callback may replace the default case.
      std::function<void()> callback = default_;
      callback();
      co_return true;
    }
    if (!any_live) co_return false;
    co_await WaitForAny{*this};
  }
}

void Select::WaitForAny::await_suspend(
    std::coroutine_handle<> coroutine) const {
  auto waiter = std::make_shared<internal::Waiter>(coroutine);
  for (Case& c : select.cases_) {
    if (select.live(c)) c.add_waiter(waiter);
  }
}

}  // namespace durable
