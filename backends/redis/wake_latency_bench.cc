// How long a task committed through one store object takes to reach a
// poller blocked on another -- as two processes would be: separate
// connections, separate notifiers, so the only way the poller learns of the
// task is the server's wake-up message (its re-check interval is an hour).
// Prints p50/p99 of commit-to-pickup over --n tasks, one at a time.
//
//   bazel run -c opt //backends/redis:wake_latency_bench -- [--uri=redis://...]
//
// Without --uri it starts a private redis-server (testing/servers).
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "backends/conformance/history_events.h"
#include "backends/redis/redis_store.h"
#include "core/storage/backend_uri.h"
#include "testing/servers/redis_server.h"

namespace durable::backends::redis {
namespace {

int Run(int argc, char** argv) {
  std::string uri;
  int n = 500;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (absl::StartsWith(arg, "--uri=")) {
      uri = arg.substr(6);
    } else if (!absl::StartsWith(arg, "--n=") ||
               !absl::SimpleAtoi(arg.substr(4), &n) || n < 1) {
      std::cerr << "usage: wake_latency_bench [--uri=redis://...] [--n=N]\n";
      return 2;
    }
  }
  durable::testing::RedisServer server;
  if (uri.empty()) {
    if (absl::Status started = server.Start(); !started.ok()) {
      std::cerr << started << "\n";
      return 1;
    }
    uri = server.uri();
  }
  absl::StatusOr<core::storage::BackendUri> parsed =
      core::storage::ParseBackendUri(uri);
  if (!parsed.ok()) {
    std::cerr << parsed.status() << "\n";
    return 2;
  }
  absl::StatusOr<RedisOptions> options = RedisOptionsFromUri(*parsed);
  if (!options.ok()) {
    std::cerr << options.status() << "\n";
    return 2;
  }
  options->prefix = absl::StrCat(options->prefix, "-wake-bench-",
                                 absl::ToUnixMicros(absl::Now()));
  RedisOptions poller_options = *options;
  poller_options.recheck_interval = absl::Hours(1);
  auto committer = RedisStore::Open(*options);
  auto poller = RedisStore::Open(poller_options);
  if (!committer.ok() || !poller.ok()) {
    std::cerr << (committer.ok() ? poller.status() : committer.status())
              << "\n";
    return 1;
  }
  std::cout << "# wake_latency_bench " << (*committer)->Describe() << "\n";
  std::vector<double> latencies_us;
  for (int i = 0; i < n; ++i) {
    std::optional<core::WorkflowTask> task;
    absl::Time picked_up;
    std::atomic<bool> polling{false};
    std::thread waiter([&] {
      polling = true;
      auto got = (*poller)->GetWorkflowTask(
          {}, absl::Seconds(30), absl::Now() + absl::Seconds(30), nullptr);
      picked_up = absl::Now();
      if (got.ok()) task = *got;
    });
    while (!polling) std::this_thread::yield();
    absl::SleepFor(absl::Milliseconds(2));  // Let it block.
    const absl::Time committed_at = absl::Now();
    absl::Status created =
        (*committer)
            ->CreateWorkflowInstance(
                durable::testing::Instance(absl::StrCat("w", i), "e"),
                durable::testing::Started("wf"));
    waiter.join();
    if (!created.ok() || !task.has_value()) {
      std::cerr << "iteration " << i << ": " << created << "\n";
      return 1;
    }
    // Measured from the commit's start: includes the commit's own round
    // trip, the message and the poll that takes the task.
    latencies_us.push_back(
        absl::ToDoubleMicroseconds(picked_up - committed_at));
  }
  std::sort(latencies_us.begin(), latencies_us.end());
  auto at = [&](double q) {
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<size_t>(q * latencies_us.size()))];
  };
  std::cout << "wake n=" << n << " p50_ms=" << at(0.5) / 1000
            << " p99_ms=" << at(0.99) / 1000
            << " max_ms=" << latencies_us.back() / 1000 << "\n";
  return 0;
}

}  // namespace
}  // namespace durable::backends::redis

int main(int argc, char** argv) {
  return durable::backends::redis::Run(argc, argv);
}
