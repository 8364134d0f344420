// WakeListener: how a Redis store hears about work committed by any process.
//
// Every script that may create work (a new instance, an inbox event, an
// activity task, a released lease) ends with PUBLISH on the store's channel
// "{prefix}:wake:<db>", saying what may have become ready (scripts.h). A
// WakeListener holds one extra connection SUBSCRIBEd to it, blocked on the
// server, and hands every message to the store, which bumps the
// ChangeNotifier of the pollers concerned, so pollers of this process --
// blocked in core::PollUntil on that notifier -- wake as soon as any process
// on any host commits, with no polling interval. Pub/sub rather than a blocking
// list pop (BLPOP) because one commit must wake every process that may want the
// work, not one waiter; the pollers then race for the task in their poll
// scripts, and exactly one wins.
//
// A message lost while the connection is down is covered: the listener
// reconnects with backoff (logged on stderr), and after every
// resubscription hands the store kEverything so all pollers look again; pollers
// also re-check at a long interval (RedisStore) in case the listener cannot
// reconnect.
//
// Start() returns once the first subscription is confirmed, so that no
// commit after Open() returns goes unheard. The destructor stops the thread.
#ifndef DURABLE_BACKENDS_REDIS_WAKE_LISTENER_H_
#define DURABLE_BACKENDS_REDIS_WAKE_LISTENER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "backends/redis/connection.h"
#include "backends/redis/redis_uri.h"

namespace durable::backends::redis {

class WakeListener {
 public:
  // What may be ready after a reconnection: everything.
  static constexpr char kEverything[] = "waf";

  // `wake` receives each message's payload, on the listener's thread.
  WakeListener(RedisOptions options, std::string channel,
               std::function<void(absl::string_view)> wake);
  ~WakeListener();
  WakeListener(const WakeListener&) = delete;
  WakeListener& operator=(const WakeListener&) = delete;

  // Subscribes, then listens on a thread of its own.
  absl::Status Start();

  // Messages received so far (for tests).
  int64_t messages() const { return messages_.load(); }

 private:
  absl::StatusOr<std::unique_ptr<Connection>> Subscribe();
  void Run(std::unique_ptr<Connection> connection);

  const RedisOptions options_;
  const std::string channel_;
  const std::function<void(absl::string_view)> wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> messages_{0};
  absl::Mutex mu_;
  // The connection the thread blocks on; shut down to stop it.
  Connection* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace durable::backends::redis

#endif  // DURABLE_BACKENDS_REDIS_WAKE_LISTENER_H_
