// Start -> result latency of a workflow that runs one activity, with the
// worker and the client in the same process on SQLite (an on-disk file at
// synchronous=FULL, and in memory). The worker is woken by the backend's
// in-process notifier, so the latency is the work itself, not a polling
// interval. Reports mean (Google Benchmark's time) and p50/p99 counters.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"

namespace durable {
namespace {

int Echo(ActivityContext&, int value) { return value; }

Task<absl::StatusOr<int>> OneActivity(WorkflowContext& ctx, int value) {
  co_return co_await ctx.ExecuteActivity(Echo, value);
}

std::string BenchmarkUri(bool on_disk) {
  if (!on_disk) return "sqlite::memory:";
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/durable-latency-",
                   absl::ToUnixNanos(absl::Now()), ".db");
  return "sqlite://" + path;
}

void BM_StartToResultOneActivity(benchmark::State& state) {
  const bool on_disk = state.range(0) == 1;
  absl::StatusOr<Backend> backend = Backend::Open(BenchmarkUri(on_disk));
  if (!backend.ok()) {
    state.SkipWithError(backend.status().ToString().c_str());
    return;
  }
  Registry registry;
  if (!registry.RegisterWorkflow("OneActivity", OneActivity).ok() ||
      !registry.RegisterActivity("Echo", Echo).ok()) {
    state.SkipWithError("registration failed");
    return;
  }
  Worker worker(*backend, registry);
  if (!worker.Start().ok()) {
    state.SkipWithError("worker did not start");
    return;
  }
  Client client(*backend, &registry);
  std::vector<double> samples_ms;
  int value = 0;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    absl::StatusOr<WorkflowInstance> instance =
        client.CreateWorkflowInstance({}, OneActivity, ++value);
    if (!instance.ok()) {
      state.SkipWithError(instance.status().ToString().c_str());
      break;
    }
    absl::StatusOr<int> result =
        client.GetWorkflowResult<int>(instance->instance_id, absl::Seconds(30));
    if (!result.ok() || *result != value) {
      state.SkipWithError("wrong or missing workflow result");
      break;
    }
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
    samples_ms.push_back(ms);
    state.SetIterationTime(ms / 1000.0);
  }
  if (!worker.Stop().ok()) state.SkipWithError("worker did not stop");
  if (samples_ms.empty()) return;
  std::sort(samples_ms.begin(), samples_ms.end());
  auto percentile = [&](double p) {
    return samples_ms[std::min(samples_ms.size() - 1,
                               static_cast<size_t>(p * samples_ms.size()))];
  };
  state.counters["p50_ms"] = percentile(0.50);
  state.counters["p99_ms"] = percentile(0.99);
  state.SetLabel(on_disk ? "sqlite file, synchronous=FULL" : "sqlite memory");
}
BENCHMARK(BM_StartToResultOneActivity)
    ->Arg(1)
    ->Arg(0)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace durable

BENCHMARK_MAIN();
