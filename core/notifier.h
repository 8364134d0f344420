// ChangeNotifier: a generation counter that threads wait on.
//
// Backends bump it after every commit that may create work (a new instance, an
// inbox event, an activity task) so that a worker blocked in the same process
// wakes at once instead of sleeping a polling interval. Waiters read the
// generation before looking for work and wait for it to move past that value,
// so a notification between the look and the wait is never lost.
#ifndef DURABLE_CORE_NOTIFIER_H_
#define DURABLE_CORE_NOTIFIER_H_

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace durable::core {

class ChangeNotifier {
 public:
  uint64_t generation() const {
    absl::MutexLock lock(&mu_);
    return generation_;
  }

  void Notify() {
    absl::MutexLock lock(&mu_);
    ++generation_;
  }

  // Returns true when the generation moved past `seen`, false at `deadline`.
  bool WaitForChange(uint64_t seen, absl::Time deadline) const {
    absl::MutexLock lock(&mu_);
    auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return generation_ != seen;
    };
    return mu_.AwaitWithDeadline(absl::Condition(&changed), deadline);
  }

 private:
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_NOTIFIER_H_
