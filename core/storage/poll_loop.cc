#include "core/storage/poll_loop.h"

#include <algorithm>

namespace durable::core {

absl::StatusOr<PollOutcome> PollUntil(
    const PollLoopOptions& options, absl::Time deadline,
    const std::atomic<bool>* stop,
    absl::FunctionRef<absl::StatusOr<bool>(absl::Time* next_due)> attempt) {
  while (true) {
    if (stop != nullptr && stop->load()) return PollOutcome::kStopped;
    // Read the generation before looking, so a commit between the look and
    // the wait is not missed.
    const uint64_t seen = options.notifier->generation();
    absl::Time next_due = absl::InfiniteFuture();
    absl::StatusOr<bool> found = attempt(&next_due);
    if (!found.ok()) return found.status();
    if (*found) return PollOutcome::kFound;
    const absl::Time now = options.clock->Now();
    if (now >= deadline) return PollOutcome::kDeadline;
    const absl::Time wake =
        std::min({deadline, next_due, now + options.recheck_interval});
    options.notifier->WaitForChange(seen, wake - now);
  }
}

}  // namespace durable::core
