// Lifecycle checks that every server launcher's test runs (RedisServer,
// MariaDbServer, PostgresServer): the server does not run as root, Stop()
// leaves no process and no directory behind, and a test process that dies
// takes its server with it. They print how long starting and stopping took
// ("[timing] ..." lines in the test log).
#ifndef DURABLE_TESTING_SERVERS_LIFECYCLE_CHECKS_H_
#define DURABLE_TESTING_SERVERS_LIFECYCLE_CHECKS_H_

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing/servers/process_table.h"

namespace durable::testing {

// How long a server may take to vanish after Stop() or after its parent died.
inline constexpr absl::Duration kGoneBound = absl::Seconds(10);

// "pid pid ..." for failure messages.
inline std::string Pids(const std::vector<ProcessRef>& processes) {
  std::string text;
  for (const ProcessRef& process : processes) {
    absl::StrAppend(&text, text.empty() ? "" : " ", process.pid);
  }
  return text;
}

// Starts a private Server (not the shared one), calls `while_running` with it
// (e.g. to keep a client connected through the stop), stops it, and expects
// Stop() to succeed, the server and every process it forked to be gone, and
// its scratch dir to be removed. When the test is root, also expects the
// server not to run as root.
template <typename Server>
void ExpectStopLeavesNothing(
    absl::string_view name,
    const std::function<void(Server&)>& while_running = nullptr) {
  Server server;
  absl::Time start = absl::Now();
  absl::Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started;
  std::cout << "[timing] " << name << " started in "
            << absl::FormatDuration(absl::Now() - start) << std::endl;
  const std::string dir = server.dir();
  std::optional<ProcessInfo> info = ReadProcess(server.pid());
  ASSERT_TRUE(info.has_value()) << name << " pid " << server.pid();
  if (geteuid() == 0) {
    EXPECT_NE(info->uid, 0u) << name << " runs as root";
  }
  if (while_running) while_running(server);
  std::vector<ProcessRef> processes = ProcessTree(server.pid());

  absl::Time stop = absl::Now();
  absl::Status stopped = server.Stop();
  EXPECT_TRUE(stopped.ok()) << stopped;
  std::cout << "[timing] " << name << " stopped in "
            << absl::FormatDuration(absl::Now() - stop) << " ("
            << processes.size() << " processes)" << std::endl;
  // The server itself was reaped by Stop(); what it forked may take a moment.
  EXPECT_FALSE(StillRunning(processes[0].pid, processes[0].start_ticks))
      << name << " pid " << processes[0].pid << " still runs after Stop()";
  std::vector<ProcessRef> left = WaitUntilAllGone(processes, kGoneBound);
  EXPECT_TRUE(left.empty())
      << "processes of " << name << " outlived Stop(): " << Pids(left);
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir << " outlived Stop()";
  EXPECT_EQ(server.pid(), -1);
}

// Forks a child that starts a Server, reports the server's processes and
// scratch dir through a pipe, and SIGKILLs itself, the way a test process
// dies on a timeout or a crash. Expects the server and everything it forked
// to be gone within kGoneBound; then removes the scratch dir the child could
// not.
template <typename Server>
void ExpectServerDiesWithItsParent(absl::string_view name) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child only starts the server, reports, and dies: no gtest here.
    // Report: "ok DIR PID:TICKS PID:TICKS ...\n" or "error MESSAGE\n".
    close(pipe_fds[0]);
    Server server;
    absl::Status started = server.Start();
    std::string report;
    if (started.ok()) {
      report = absl::StrCat("ok ", server.dir());
      for (const ProcessRef& process : ProcessTree(server.pid())) {
        absl::StrAppend(&report, " ", process.pid, ":", process.start_ticks);
      }
    } else {
      report = absl::StrCat(
          "error ", absl::StrReplaceAll(started.ToString(), {{"\n", " | "}}));
    }
    report += "\n";
    if (write(pipe_fds[1], report.data(), report.size()) < 0) _exit(1);
    kill(getpid(), SIGKILL);
    _exit(1);  // not reached
  }
  close(pipe_fds[1]);
  // Read the report, bounded: initialising a data directory can take a while
  // on a busy machine, but not forever.
  std::string report;
  absl::Time deadline = absl::Now() + absl::Seconds(240);
  while (report.find('\n') == std::string::npos && absl::Now() < deadline) {
    pollfd readable{pipe_fds[0], POLLIN, 0};
    if (poll(&readable, 1, 100) <= 0) continue;
    char buffer[4096];
    ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    report.append(buffer, n);
  }
  close(pipe_fds[0]);
  if (report.find('\n') == std::string::npos) kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  absl::Time parent_died = absl::Now();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child status " << status << ", report: " << report;

  std::vector<std::string> fields =
      absl::StrSplit(absl::StripSuffix(report, "\n"), ' ', absl::SkipEmpty());
  ASSERT_GE(fields.size(), 3u) << name << " did not start: " << report;
  ASSERT_EQ(fields[0], "ok") << report;
  const std::string& dir = fields[1];
  std::vector<ProcessRef> processes;
  for (size_t i = 2; i < fields.size(); ++i) {
    std::pair<std::string, std::string> pid_ticks =
        absl::StrSplit(fields[i], ':');
    ProcessRef process;
    ASSERT_TRUE(absl::SimpleAtoi(pid_ticks.first, &process.pid) &&
                absl::SimpleAtoi(pid_ticks.second, &process.start_ticks))
        << report;
    processes.push_back(process);
  }

  std::vector<ProcessRef> left = WaitUntilAllGone(processes, kGoneBound);
  EXPECT_TRUE(left.empty())
      << "processes of " << name << " outlived their parent by " << kGoneBound
      << ": " << Pids(left);
  std::cout << "[timing] " << name << " (" << processes.size()
            << " processes) gone "
            << absl::FormatDuration(absl::Now() - parent_died)
            << " after its parent was killed" << std::endl;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_LIFECYCLE_CHECKS_H_
