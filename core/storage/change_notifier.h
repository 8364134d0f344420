// ChangeNotifier: a generation counter that threads wait on.
//
// A store bumps it after every commit that may create work (a new instance,
// an inbox event, an activity task) so that a poller blocked in the same
// process wakes at once instead of sleeping a polling interval. Waiters read
// the generation before looking for work and wait for it to move past that
// value, so a notification between the look and the wait is never lost
// (PollLoop in poll_loop.h does exactly that).
//
// Thread-safe.
#ifndef DURABLE_CORE_STORAGE_CHANGE_NOTIFIER_H_
#define DURABLE_CORE_STORAGE_CHANGE_NOTIFIER_H_

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

  // Returns true when the generation moved past `seen`, false once `timeout`
  // (real time) has passed. A timeout rather than a deadline, so that the
  // caller may compute it on any Clock: waiting always happens in real time.
  bool WaitForChange(uint64_t seen, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return generation_ != seen;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  }

 private:
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace durable::core

#endif  // DURABLE_CORE_STORAGE_CHANGE_NOTIFIER_H_
