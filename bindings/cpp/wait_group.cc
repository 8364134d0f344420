#include "durable/wait_group.h"

#include <memory>
#include <stdexcept>
#include <utility>

namespace durable {

void WaitGroup::Add(int64_t delta) const {
  if (state_->count + delta < 0) {
    throw std::logic_error("WaitGroup counter went below zero");
  }
  state_->count += delta;
  if (state_->count == 0) state_->waiters.WakeAll();
}

Task<void> WaitGroup::Wait() const { return WaitFor(state_); }

Task<void> WaitGroup::WaitFor(std::shared_ptr<State> state) {
  while (state->count > 0) co_await internal::WaitOn{state->waiters};
}

}  // namespace durable
