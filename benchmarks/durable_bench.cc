// durable-bench: the end-to-end workloads users compare workflow engines on,
// run through the public C++ facade (facade -> C ABI -> core -> backend).
//
//   bazel run -c opt //benchmarks:durable-bench -- --workload=W1 --n=1000
//       --backend=sqlite:///tmp/bench.db
//
// Workloads (every result is checked: a wrong value is an error exit, never a
// number):
//   W1  throughput: start --n workflows (from --starters client threads),
//       each running 3 sequential no-op activities returning integers and
//       returning their sum; wall time from the first start to the last
//       result.     W1 n=1000 wall_s=... wf_per_s=... steps_per_s=...
//   W2  latency: one workflow with one activity, start -> result, --runs
//       sequential runs.   W2 n=200 p50_ms=... p99_ms=... mean_ms=...
//   W3  long history: one workflow running --steps sequential activities.
//       W3 steps=1000 wall_s=... steps_per_s=...
//   all W1, W2, W3 in this order.
//
// Options: --workflow_pollers / --activity_pollers (threads of each worker;
// default 64/64 for W1, 4/8 for W2 and W3), --starters (client threads of W1),
// --cache (max cached workflow runs, 0 = replay every task; default 10,000,
// Temporal's default sticky cache size, which holds all of W1's 1,000
// workflows in flight so each step can take the fused path), --payload_bytes
// (a string of that size is passed to every workflow and activity),
// --processes=K (K worker processes -- this binary re-executed with
// --worker-only -- instead of an in-process worker; needs a backend that
// several processes can open, i.e. an SQLite file), --timeout_s.
//
// The first output line records the backend and its durability setting.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/storage/store_registry.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"

namespace durable::bench {
namespace {

// ---------------------------------------------------------------------------
// Options: --key=value, parsed by hand (no flags library needed).

struct Options {
  std::string backend;  // default: a fresh file under /tmp
  std::string workload = "W1";
  int n = 1000;
  int runs = 200;
  int steps = 1000;
  int starters = 16;
  // -1: per workload (W1: 64/64, enough writers in flight for group commit
  // to batch; W2/W3, which are sequential: 4/8).
  int workflow_pollers = -1;
  int activity_pollers = -1;
  int cache = 10'000;
  int payload_bytes = 0;
  int processes = 0;
  int timeout_s = 300;
  bool worker_only = false;
};

constexpr char kUsage[] =
    "usage: durable-bench [--backend=URI] [--workload=W1|W2|W3|all] [--n=N]\n"
    "  [--runs=N] [--steps=N] [--starters=N] [--workflow_pollers=N]\n"
    "  [--activity_pollers=N] [--cache=N] [--payload_bytes=N]\n"
    "  [--processes=K] [--timeout_s=S]\n";

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options options;
  std::map<std::string, int*> ints = {
      {"n", &options.n},
      {"runs", &options.runs},
      {"steps", &options.steps},
      {"starters", &options.starters},
      {"workflow_pollers", &options.workflow_pollers},
      {"activity_pollers", &options.activity_pollers},
      {"cache", &options.cache},
      {"payload_bytes", &options.payload_bytes},
      {"processes", &options.processes},
      {"timeout_s", &options.timeout_s},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--worker-only" || arg == "--worker_only") {
      options.worker_only = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      return absl::InvalidArgumentError(kUsage);
    }
    if (!absl::StartsWith(arg, "--") || arg.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\"\n", kUsage));
    }
    const size_t eq = arg.find('=');
    std::string key = arg.substr(2, eq - 2);
    std::replace(key.begin(), key.end(), '-', '_');
    const std::string value = arg.substr(eq + 1);
    if (key == "backend") {
      options.backend = value;
    } else if (key == "workload") {
      options.workload = value;
    } else if (auto it = ints.find(key); it != ints.end()) {
      if (!absl::SimpleAtoi(value, it->second) || *it->second < 0 ||
          ((key == "workflow_pollers" || key == "activity_pollers") &&
           *it->second < 1)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", key, " needs a non-negative integer, got \"", value, "\""));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", key, "\n", kUsage));
    }
  }
  if (options.backend.empty()) {
    options.backend = absl::StrCat("sqlite:///tmp/durable-bench-", getpid(),
                                   "-", absl::ToUnixMillis(absl::Now()), ".db");
  }
  if (options.workload != "W1" && options.workload != "W2" &&
      options.workload != "W3" && options.workload != "all") {
    return absl::InvalidArgumentError(
        absl::StrCat("--workload must be W1, W2, W3 or all, got \"",
                     options.workload, "\""));
  }
  if (options.n < 1 || options.runs < 1 || options.steps < 1) {
    return absl::InvalidArgumentError("--n, --runs and --steps must be >= 1");
  }
  if (options.starters < 1) options.starters = 1;
  if (options.processes > 0 && absl::StartsWith(options.backend, "sqlite::")) {
    return absl::InvalidArgumentError(
        "--processes needs a backend several processes can open (an SQLite "
        "file); an in-memory database is private to one process");
  }
  return options;
}

// ---------------------------------------------------------------------------
// Workflows and activities.

int Step(ActivityContext&, int value, std::string pad) { return value; }

// W1: three sequential activities; returns 3 * base + 3.
Task<absl::StatusOr<int>> ThreeSteps(WorkflowContext& ctx, int base,
                                     std::string pad) {
  int sum = 0;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<int> r = co_await ctx.ExecuteActivity(Step, base + i, pad);
    if (!r.ok()) co_return r.status();
    sum += *r;
  }
  co_return sum;
}

// W2: one activity; returns `value`.
Task<absl::StatusOr<int>> OneStep(WorkflowContext& ctx, int value,
                                  std::string pad) {
  co_return co_await ctx.ExecuteActivity(Step, value, pad);
}

// W3: `steps` sequential activities; returns steps * (steps - 1) / 2.
Task<absl::StatusOr<int64_t>> ManySteps(WorkflowContext& ctx, int steps,
                                        std::string pad) {
  int64_t sum = 0;
  for (int i = 0; i < steps; ++i) {
    absl::StatusOr<int> r = co_await ctx.ExecuteActivity(Step, i, pad);
    if (!r.ok()) co_return r.status();
    sum += *r;
  }
  co_return sum;
}

absl::Status RegisterAll(Registry& registry) {
  absl::Status status =
      registry.RegisterWorkflow("BenchThreeSteps", ThreeSteps);
  status.Update(registry.RegisterWorkflow("BenchOneStep", OneStep));
  status.Update(registry.RegisterWorkflow("BenchManySteps", ManySteps));
  status.Update(registry.RegisterActivity("BenchStep", Step));
  return status;
}

// The poller threads a workload's workers run (see Options).
Options ForWorkload(Options options, const std::string& workload) {
  const bool throughput = workload == "W1";
  if (options.workflow_pollers < 0) {
    options.workflow_pollers = throughput ? 64 : 4;
  }
  if (options.activity_pollers < 0) {
    options.activity_pollers = throughput ? 64 : 8;
  }
  return options;
}

std::string PollersOf(const Options& options) {
  return absl::StrCat(
      " pollers=", options.workflow_pollers, "/", options.activity_pollers,
      options.processes > 0 ? absl::StrCat("x", options.processes, "_processes")
                            : std::string());
}

WorkerOptions WorkerOptionsFrom(const Options& options) {
  WorkerOptions worker;
  worker.max_cached_workflows = options.cache;
  worker.workflow_pollers = options.workflow_pollers;
  worker.activity_pollers = options.activity_pollers;
  return worker;
}

// ---------------------------------------------------------------------------
// Worker processes (--processes=K).

// `durable-bench --worker-only ...`: runs a worker until stdin closes (the
// parent exits or is done), then stops it. Prints "ready" once polling.
int RunWorkerOnly(Options options) {
  options = ForWorkload(options, "");
  absl::StatusOr<Backend> backend = Backend::Open(options.backend);
  if (!backend.ok()) {
    std::cerr << "durable-bench worker: " << backend.status() << "\n";
    return 1;
  }
  Registry registry;
  if (absl::Status s = RegisterAll(registry); !s.ok()) {
    std::cerr << "durable-bench worker: " << s << "\n";
    return 1;
  }
  Worker worker(*backend, registry, WorkerOptionsFrom(options));
  if (absl::Status s = worker.Start(); !s.ok()) {
    std::cerr << "durable-bench worker: " << s << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;
  char buffer[64];
  while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
  }
  absl::Status stopped = worker.Stop();
  if (!stopped.ok()) {
    std::cerr << "durable-bench worker: " << stopped << "\n";
    return 1;
  }
  return 0;
}

class WorkerProcesses {
 public:
  ~WorkerProcesses() { Stop().IgnoreError(); }

  absl::Status Start(const Options& options, int count) {
    for (int i = 0; i < count; ++i) {
      int control[2];  // parent -> child stdin; EOF means "stop"
      int ready[2];    // child stdout -> parent; "ready\n"
      if (pipe(control) != 0 || pipe(ready) != 0) {
        return absl::InternalError("pipe() failed");
      }
      std::vector<std::string> args = {
          "/proc/self/exe",
          "--worker-only",
          absl::StrCat("--backend=", options.backend),
          absl::StrCat("--workflow_pollers=", options.workflow_pollers),
          absl::StrCat("--activity_pollers=", options.activity_pollers),
          absl::StrCat("--cache=", options.cache),
      };
      const pid_t pid = fork();
      if (pid < 0) return absl::InternalError("fork() failed");
      if (pid == 0) {
        dup2(control[0], STDIN_FILENO);
        dup2(ready[1], STDOUT_FILENO);
        close(control[0]);
        close(control[1]);
        close(ready[0]);
        close(ready[1]);
        std::vector<char*> argv;
        for (std::string& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        execv("/proc/self/exe", argv.data());
        _exit(127);
      }
      close(control[0]);
      close(ready[1]);
      children_.push_back({pid, control[1]});
      // Wait for "ready" so the measurement does not include start-up.
      std::string line;
      char c;
      while (read(ready[0], &c, 1) == 1 && c != '\n') line.push_back(c);
      close(ready[0]);
      if (line != "ready") {
        return absl::InternalError(
            absl::StrCat("worker process ", pid, " did not start"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Stop() {
    absl::Status status;
    for (const Child& child : children_) close(child.control);
    for (const Child& child : children_) {
      int wstatus = 0;
      waitpid(child.pid, &wstatus, 0);
      if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        status.Update(absl::InternalError(absl::StrCat(
            "worker process ", child.pid, " did not exit cleanly")));
      }
    }
    children_.clear();
    return status;
  }

 private:
  struct Child {
    pid_t pid;
    int control;
  };
  std::vector<Child> children_;
};

// Runs the workers of one workload: in this process, or K processes.
class Workers {
 public:
  Workers(const Options& options, const Backend& backend,
          const Registry& registry)
      : options_(options), backend_(backend), registry_(registry) {}

  absl::Status Start() {
    if (options_.processes > 0) {
      return processes_.Start(options_, options_.processes);
    }
    worker_ = std::make_unique<Worker>(backend_, registry_,
                                       WorkerOptionsFrom(options_));
    return worker_->Start();
  }

  absl::Status Stop() {
    if (options_.processes > 0) return processes_.Stop();
    absl::Status status = worker_->Stop();
    worker_.reset();
    return status;
  }

 private:
  const Options& options_;
  const Backend& backend_;
  const Registry& registry_;
  std::unique_ptr<Worker> worker_;
  WorkerProcesses processes_;
};

// ---------------------------------------------------------------------------
// Workloads.

double Percentile(std::vector<double> sorted, double p) {
  std::sort(sorted.begin(), sorted.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, index)];
}

absl::Status RunW1(const Options& all_options, const Backend& backend,
                   const Registry& registry, const std::string& pad) {
  const Options options = ForWorkload(all_options, "W1");
  Workers workers(options, backend, registry);
  if (absl::Status s = workers.Start(); !s.ok()) return s;
  Client client(backend, &registry);
  const int n = options.n;
  std::vector<std::string> ids(n);
  std::vector<absl::Status> start_errors(options.starters);
  const absl::Time start = absl::Now();
  {
    std::vector<std::thread> starters;
    for (int t = 0; t < options.starters; ++t) {
      starters.emplace_back([&, t] {
        for (int i = t; i < n; i += options.starters) {
          absl::StatusOr<WorkflowInstance> instance =
              client.CreateWorkflowInstance({}, ThreeSteps, i, pad);
          if (!instance.ok()) {
            start_errors[t] = instance.status();
            return;
          }
          ids[i] = instance->instance_id;
        }
      });
    }
    for (std::thread& thread : starters) thread.join();
  }
  for (const absl::Status& s : start_errors) {
    if (!s.ok()) return s;
  }
  const absl::Time started = absl::Now();
  const absl::Time deadline = start + absl::Seconds(options.timeout_s);
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<int> result =
        client.GetWorkflowResult<int>(ids[i], deadline - absl::Now());
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          absl::StrCat("W1 workflow ", i, " (", ids[i],
                                       "): ", result.status().message()));
    }
    if (*result != 3 * i + 3) {
      return absl::DataLossError(absl::StrCat(
          "W1 workflow ", i, " returned ", *result, ", expected ", 3 * i + 3));
    }
  }
  const double wall_s = absl::ToDoubleSeconds(absl::Now() - start);
  absl::Status stopped = workers.Stop();
  std::cout << absl::StrFormat(
                   "W1 n=%d wall_s=%.3f wf_per_s=%.0f steps_per_s=%.0f "
                   "start_s=%.3f%s",
                   n, wall_s, n / wall_s, 3 * n / wall_s,
                   absl::ToDoubleSeconds(started - start), PollersOf(options))
            << std::endl;
  return stopped;
}

absl::Status RunW2(const Options& all_options, const Backend& backend,
                   const Registry& registry, const std::string& pad) {
  const Options options = ForWorkload(all_options, "W2");
  Workers workers(options, backend, registry);
  if (absl::Status s = workers.Start(); !s.ok()) return s;
  Client client(backend, &registry);
  std::vector<double> samples_ms;
  for (int i = 0; i < options.runs; ++i) {
    const absl::Time start = absl::Now();
    absl::StatusOr<WorkflowInstance> instance =
        client.CreateWorkflowInstance({}, OneStep, i, pad);
    if (!instance.ok()) return instance.status();
    absl::StatusOr<int> result = client.GetWorkflowResult<int>(
        instance->instance_id, absl::Seconds(options.timeout_s));
    if (!result.ok()) return result.status();
    if (*result != i) {
      return absl::DataLossError(
          absl::StrCat("W2 run ", i, " returned ", *result, ", expected ", i));
    }
    samples_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  absl::Status stopped = workers.Stop();
  const double mean =
      std::accumulate(samples_ms.begin(), samples_ms.end(), 0.0) /
      static_cast<double>(samples_ms.size());
  std::cout << absl::StrFormat("W2 n=%d p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f%s",
                               options.runs, Percentile(samples_ms, 0.50),
                               Percentile(samples_ms, 0.99), mean,
                               PollersOf(options))
            << std::endl;
  return stopped;
}

absl::Status RunW3(const Options& all_options, const Backend& backend,
                   const Registry& registry, const std::string& pad) {
  const Options options = ForWorkload(all_options, "W3");
  Workers workers(options, backend, registry);
  if (absl::Status s = workers.Start(); !s.ok()) return s;
  Client client(backend, &registry);
  const int steps = options.steps;
  const absl::Time start = absl::Now();
  absl::StatusOr<WorkflowInstance> instance =
      client.CreateWorkflowInstance({}, ManySteps, steps, pad);
  if (!instance.ok()) return instance.status();
  absl::StatusOr<int64_t> result = client.GetWorkflowResult<int64_t>(
      instance->instance_id, absl::Seconds(options.timeout_s));
  if (!result.ok()) return result.status();
  const double wall_s = absl::ToDoubleSeconds(absl::Now() - start);
  const int64_t expected = static_cast<int64_t>(steps) * (steps - 1) / 2;
  if (*result != expected) {
    return absl::DataLossError(
        absl::StrCat("W3 returned ", *result, ", expected ", expected));
  }
  absl::Status stopped = workers.Stop();
  std::cout
      << absl::StrFormat(
             "W3 steps=%d wall_s=%.3f steps_per_s=%.0f us_per_step=%.1f%s",
             steps, wall_s, steps / wall_s, 1e6 * wall_s / steps,
             PollersOf(options))
      << std::endl;
  return stopped;
}

// The backend's own description (which includes its durability setting),
// e.g. "sqlite file=/tmp/x.db synchronous=FULL journal=WAL".
std::string DescribeBackend(const std::string& uri) {
  if (absl::StartsWith(uri, "sqlite::memory:")) {
    return "sqlite memory (no durability: the database lives in RAM)";
  }
  absl::StatusOr<std::shared_ptr<core::AdminStore>> backend =
      core::storage::OpenStore(uri);
  if (!backend.ok())
    return absl::StrCat("unknown (", backend.status().ToString(), ")");
  return (*backend)->Describe();
}

int Main(int argc, char** argv) {
  absl::StatusOr<Options> parsed = ParseOptions(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "durable-bench: " << parsed.status().message() << "\n";
    return 2;
  }
  const Options& options = *parsed;
  if (options.worker_only) return RunWorkerOnly(options);
  // A worker process that dies must not kill us through SIGPIPE.
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<Backend> backend = Backend::Open(options.backend);
  if (!backend.ok()) {
    std::cerr << "durable-bench: " << backend.status() << "\n";
    return 1;
  }
  Registry registry;
  if (absl::Status s = RegisterAll(registry); !s.ok()) {
    std::cerr << "durable-bench: " << s << "\n";
    return 1;
  }
  std::cout << absl::StrFormat(
                   "# durable-bench backend=%s durability=\"%s\" "
                   "workers=%s cache=%d payload_bytes=%d starters=%d",
                   options.backend, DescribeBackend(options.backend),
                   options.processes > 0
                       ? absl::StrCat(options.processes, "_processes")
                       : std::string("in_process"),
                   options.cache, options.payload_bytes, options.starters)
            << std::endl;
  const std::string pad(options.payload_bytes, 'x');
  const bool all = options.workload == "all";
  absl::Status status;
  if (status.ok() && (all || options.workload == "W1")) {
    status = RunW1(options, *backend, registry, pad);
  }
  if (status.ok() && (all || options.workload == "W2")) {
    status = RunW2(options, *backend, registry, pad);
  }
  if (status.ok() && (all || options.workload == "W3")) {
    status = RunW3(options, *backend, registry, pad);
  }
  if (!status.ok()) {
    std::cerr << "durable-bench: FAILED: " << status << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace durable::bench

int main(int argc, char** argv) { return durable::bench::Main(argc, argv); }
