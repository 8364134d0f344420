// The objects behind durable.h's opaque handles (private to capi/ and its
// tests).
//
// Every handle counts the calls in flight on it so that its free can wait
// for them: durable.h allows a free while other threads are still inside
// calls that began before it (a poll blocked until shutdown wakes it, say),
// and the free must not delete what those calls are about to touch on their
// way out.
#ifndef DURABLE_CAPI_HANDLES_H_
#define DURABLE_CAPI_HANDLES_H_

#include <condition_variable>
#include <memory>
#include <mutex>

#include "core/client/client.h"
#include "core/storage/admin_store.h"
#include "core/worker/worker.h"

namespace durable::capi {

// Calls in flight on one handle. std::mutex rather than absl::Mutex so that
// ThreadSanitizer sees the ordering between the last call and the free
// (Debian's abseil is not instrumented).
class CallsInFlight {
 public:
  void Enter() {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
  }
  void Leave() {
    std::lock_guard<std::mutex> lock(mu_);
    // Notified under the lock: the free may destroy this object as soon as
    // it sees zero, which it can only do after this unlock.
    if (--calls_ == 0) idle_.notify_all();
  }
  // Returns once no call is in flight.
  void AwaitNone() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [this] { return calls_ == 0; });
  }
  int count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  int calls_ = 0;
};

// Counts one call for its lifetime.
class CallScope {
 public:
  explicit CallScope(CallsInFlight& calls) : calls_(calls) { calls_.Enter(); }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
  ~CallScope() { calls_.Leave(); }

 private:
  CallsInFlight& calls_;
};

}  // namespace durable::capi

struct durable_backend_t {
  std::shared_ptr<durable::core::AdminStore> backend;
  durable::capi::CallsInFlight calls;
};

struct durable_client_t {
  std::unique_ptr<durable::core::Client> client;
  durable::capi::CallsInFlight calls;
};

struct durable_worker_t {
  std::unique_ptr<durable::core::Worker> worker;
  durable::capi::CallsInFlight calls;
};

#endif  // DURABLE_CAPI_HANDLES_H_
