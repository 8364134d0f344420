// PollGate: keeps the pollers of one process from running the same fruitless
// poll script over and over.
//
// Every commit wakes every poller of its kind (wake_listener.h), and each
// would run a poll script although one task can go to one poller only. The
// gate lets one poller of a poll key (kind, queues, name filter) run the
// script for a given notifier generation; the others wait for its answer.
// When it found nothing, that answer stands for every poll of the key until
// the notifier moves on (something was committed, here or anywhere), the
// answer's next due time comes, or `max_age` passes (real time: the safety
// net for a wake-up message that never came). When it found a task, the
// next poller runs the script itself: there may be more. The same rule as
// the SQLite store's empty probes.
//
// Thread-safe.
#ifndef DURABLE_BACKENDS_REDIS_POLL_GATE_H_
#define DURABLE_BACKENDS_REDIS_POLL_GATE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace durable::backends::redis {

class PollGate {
 public:
  explicit PollGate(absl::Duration max_age) : max_age_(max_age) {}

  // Runs `poll` (which returns whether it took a task, and lowers
  // `*next_due` when it did not), or answers false with the next due time
  // of a still-valid empty answer. `generation` is the notifier's generation
  // read before this attempt; `now` the store clock's time.
  absl::StatusOr<bool> Poll(
      const std::string& key, uint64_t generation, absl::Time now,
      absl::Time* next_due,
      absl::FunctionRef<absl::StatusOr<bool>(absl::Time* next_due)> poll);

  // Polls answered without a script, for tests and benchmarks.
  int64_t skipped() const;

 private:
  struct State {
    uint64_t generation = 0;
    bool running = false;
    bool empty = false;
    absl::Time next_due;
    absl::Time answered_at;  // Real time.
  };
  const absl::Duration max_age_;
  mutable absl::Mutex mu_;
  std::map<std::string, State> states_ ABSL_GUARDED_BY(mu_);
  int64_t skipped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace durable::backends::redis

#endif  // DURABLE_BACKENDS_REDIS_POLL_GATE_H_
