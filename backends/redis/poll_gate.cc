#include "backends/redis/poll_gate.h"

#include "absl/time/clock.h"

namespace durable::backends::redis {

absl::StatusOr<bool> PollGate::Poll(
    const std::string& key, uint64_t generation, absl::Time now,
    absl::Time* next_due,
    absl::FunctionRef<absl::StatusOr<bool>(absl::Time* next_due)> poll) {
  {
    absl::MutexLock lock(&mu_);
    while (true) {
      State& state = states_[key];
      if (state.generation != generation) break;
      if (state.running) {
        // Another poller asks the server the same question: wait for it.
        auto answered = [&state, generation]() {
          return !state.running || state.generation != generation;
        };
        mu_.Await(absl::Condition(&answered));
        continue;
      }
      if (state.empty && now < state.next_due &&
          absl::Now() < state.answered_at + max_age_) {
        *next_due = state.next_due;
        ++skipped_;
        return false;
      }
      break;
    }
    State& state = states_[key];
    state.generation = generation;
    state.running = true;
    state.empty = false;
  }
  absl::Time due = absl::InfiniteFuture();
  absl::StatusOr<bool> found = poll(&due);
  absl::MutexLock lock(&mu_);
  State& state = states_[key];
  if (state.generation == generation && state.running) {
    state.running = false;
    state.empty = found.ok() && !*found;
    state.next_due = due;
    state.answered_at = absl::Now();
  }
  if (due < *next_due) *next_due = due;
  return found;
}

int64_t PollGate::skipped() const {
  absl::MutexLock lock(&mu_);
  return skipped_;
}

}  // namespace durable::backends::redis
