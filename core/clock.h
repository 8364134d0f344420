// Clock: where durable reads the time.
//
// Every read of the current time in the worker, the client and the stores
// goes through a Clock, so that a test (or the workflow tester) can run the
// engine on a ManualClock whose time moves only when told to. Workflow code
// never reads a Clock: workflow time is the timestamp of the current task,
// carried in the activation.
//
// A Clock only tells the time; waiting still happens in real time (a
// blocked poll wakes on a notification or at a deadline it computed from
// Now()), so code that waits on a ManualClock must be woken when the clock
// is moved (the workflow tester does that).
//
// Thread-safe.
#ifndef DURABLE_CORE_CLOCK_H_
#define DURABLE_CORE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace durable::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The real clock (absl::Now()). Lives for the whole process.
  static Clock& Real();
};

// A clock that stands still until Set or Advance moves it.
class ManualClock : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time now) {
    absl::MutexLock lock(&mu_);
    now_ = now;
  }
  void Advance(absl::Duration by) {
    absl::MutexLock lock(&mu_);
    now_ += by;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace durable::core

#endif  // DURABLE_CORE_CLOCK_H_
