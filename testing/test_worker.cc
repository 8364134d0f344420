// A worker process for durable's multi-process tests (crash recovery, load).
//
//   test_worker uri=<backend-uri> dir=<log-dir> [cache=128]
//               [block=none|activity|workflow] [lease_ms=2000]
//
// It runs these workflows, recording what runs in files under `dir` so the
// test can tell what executed, where and how often (lines are appended with
// O_APPEND, so concurrent processes never interleave within a line):
//   CrashWorkflow: Record1 (35) then Record2 (24), returns 59. With
//     block=activity, Record2 blocks forever after logging that it started;
//     with block=workflow, the first (non-replay) workflow task blocks
//     forever while the worker holds its lease. The test then SIGKILLs us.
//   ThreeSteps(n): Step(n, 1), Step(.., 2), Step(.., 3); returns n + 6. Each
//     stretch of workflow code runs inside an ExclusiveSection that detects
//     two processes executing the same instance's workflow task at once.
// Stops gracefully on SIGTERM or SIGINT.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"

namespace {

std::string log_dir;
std::string block_mode = "none";

// Appends one line to `<log_dir>/<file>` atomically.
void Append(const std::string& file, const std::string& line) {
  const std::string path = absl::StrCat(log_dir, "/", file);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return;
  const std::string text = line + "\n";
  ssize_t written = write(fd, text.data(), text.size());
  (void)written;
  close(fd);
}

// Marks "this process is running workflow code of `instance`" for a few
// milliseconds. Finding the mark already there means another process runs
// the same instance's workflow task at the same time: an overlap.
class ExclusiveSection {
 public:
  explicit ExclusiveSection(const std::string& instance)
      : path_(absl::StrCat(log_dir, "/", instance, ".running")) {
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd_ < 0 && errno == EEXIST) {
      Append("overlaps.log", absl::StrCat(instance, " pid ", getpid()));
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  ~ExclusiveSection() {
    if (fd_ >= 0) {
      close(fd_);
      unlink(path_.c_str());
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

int Record1(durable::ActivityContext& ctx) {
  Append("count.log", "Record1");
  return 35;
}

int Record2(durable::ActivityContext& ctx) {
  Append("count.log", "Record2-started");
  while (block_mode == "activity") absl::SleepFor(absl::Seconds(1));
  return 24;
}

durable::Task<absl::StatusOr<int>> CrashWorkflow(
    durable::WorkflowContext& ctx) {
  if (block_mode == "workflow" && !ctx.IsReplaying()) {
    Append("count.log", "workflow-task-blocked");
    while (true) absl::SleepFor(absl::Seconds(1));
  }
  absl::StatusOr<int> a = co_await ctx.ExecuteActivity(Record1);
  if (!a.ok()) co_return a.status();
  absl::StatusOr<int> b = co_await ctx.ExecuteActivity(Record2);
  if (!b.ok()) co_return b.status();
  co_return *a + *b;
}

int Step(durable::ActivityContext& ctx, int value, int k) {
  Append("steps.log", ctx.InstanceId());
  return value + k;
}

durable::Task<absl::StatusOr<int>> ThreeSteps(durable::WorkflowContext& ctx,
                                              int n) {
  int value = n;
  for (int k = 1; k <= 3; ++k) {
    { ExclusiveSection section(ctx.InstanceId()); }
    absl::StatusOr<int> next = co_await ctx.ExecuteActivity(Step, value, k);
    if (!next.ok()) co_return next.status();
    value = *next;
  }
  { ExclusiveSection section(ctx.InstanceId()); }
  co_return value;
}

std::map<std::string, std::string> ParseArgs(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      std::cerr << "test_worker: expected key=value, got \"" << arg << "\"\n";
      std::exit(2);
    }
    args[arg.substr(0, eq)] = arg.substr(eq + 1);
  }
  return args;
}

int IntArg(std::map<std::string, std::string>& args, const std::string& key,
           int fallback) {
  int value = fallback;
  if (args.count(key) && !absl::SimpleAtoi(args[key], &value)) {
    std::cerr << "test_worker: " << key << " must be an integer\n";
    std::exit(2);
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = ParseArgs(argc, argv);
  if (!args.count("uri") || !args.count("dir")) {
    std::cerr << "usage: test_worker uri=<backend-uri> dir=<log-dir> "
                 "[cache=N] [block=none|activity|workflow] [lease_ms=N]\n";
    return 2;
  }
  log_dir = args["dir"];
  if (args.count("block")) block_mode = args["block"];

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<durable::Backend> backend =
      durable::Backend::Open(args["uri"]);
  if (!backend.ok()) {
    std::cerr << "test_worker: " << backend.status() << "\n";
    return 1;
  }
  durable::Registry registry;
  absl::Status registered =
      registry.RegisterWorkflow("CrashWorkflow", CrashWorkflow);
  registered.Update(registry.RegisterWorkflow("ThreeSteps", ThreeSteps));
  registered.Update(registry.RegisterActivity("Record1", Record1));
  registered.Update(registry.RegisterActivity("Record2", Record2));
  registered.Update(registry.RegisterActivity("Step", Step));
  if (!registered.ok()) {
    std::cerr << "test_worker: " << registered << "\n";
    return 1;
  }
  durable::WorkerOptions options;
  options.max_cached_workflows = IntArg(args, "cache", 128);
  // Short leases so that a killed worker's tasks are taken over quickly.
  const absl::Duration lease =
      absl::Milliseconds(IntArg(args, "lease_ms", 2000));
  options.workflow_task_lease = lease;
  options.activity_task_lease = lease;
  durable::Worker worker(*backend, registry, options);
  // Logged before Start(): the worker's threads may reach a kill point (and
  // the test SIGKILL us) before Start() returns.
  Append("count.log", "worker-started");
  if (absl::Status s = worker.Start(); !s.ok()) {
    std::cerr << "test_worker: " << s << "\n";
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  absl::Status stopped = worker.Stop();
  if (!stopped.ok()) std::cerr << "test_worker: " << stopped << "\n";
  return stopped.ok() ? 0 : 1;
}
