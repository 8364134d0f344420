// A worker process for the crash-recovery test. It runs "CrashWorkflow",
// whose two activities append a line to a count file each time they run, so
// the test can tell which executed and how often.
//
//   crash_worker <backend-uri> <count-file> <cache-size> <block-second>
//
// With block-second=1 the second activity blocks forever after recording
// that it started: the test then kills the process with SIGKILL while it
// holds that activity's lease. Stops gracefully on SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"

namespace {

std::string count_file;
bool block_second = false;

void Record(const std::string& line) {
  std::ofstream out(count_file, std::ios::app);
  out << line << "\n";
  out.flush();
}

int Record1(durable::ActivityContext&) {
  Record("Record1");
  return 35;
}

int Record2(durable::ActivityContext&) {
  Record("Record2-started");
  while (block_second) absl::SleepFor(absl::Seconds(1));
  return 24;
}

durable::Task<absl::StatusOr<int>> CrashWorkflow(
    durable::WorkflowContext& ctx) {
  absl::StatusOr<int> a = co_await ctx.ExecuteActivity(Record1);
  if (!a.ok()) co_return a.status();
  absl::StatusOr<int> b = co_await ctx.ExecuteActivity(Record2);
  if (!b.ok()) co_return b.status();
  co_return *a + *b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: crash_worker <uri> <count-file> <cache-size> "
                 "<block-second>\n";
    return 2;
  }
  count_file = argv[2];
  block_second = std::string(argv[4]) == "1";

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<durable::Backend> backend = durable::Backend::Open(argv[1]);
  if (!backend.ok()) {
    std::cerr << "crash_worker: " << backend.status() << "\n";
    return 1;
  }
  durable::Registry registry;
  if (!registry.RegisterWorkflow("CrashWorkflow", CrashWorkflow).ok() ||
      !registry.RegisterActivity("Record1", Record1).ok() ||
      !registry.RegisterActivity("Record2", Record2).ok()) {
    std::cerr << "crash_worker: registration failed\n";
    return 1;
  }
  durable::WorkerOptions options;
  options.max_cached_workflows = std::atoi(argv[3]);
  // Short leases so that a killed worker's tasks are taken over quickly.
  options.workflow_task_lease = absl::Seconds(2);
  options.activity_task_lease = absl::Seconds(2);
  durable::Worker worker(*backend, registry, options);
  if (absl::Status s = worker.Start(); !s.ok()) {
    std::cerr << "crash_worker: " << s << "\n";
    return 1;
  }
  Record("worker-started");
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  block_second = false;
  absl::Status stopped = worker.Stop();
  return stopped.ok() ? 0 : 1;
}
