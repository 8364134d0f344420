// What /proc says about processes, for tests that must prove a server is
// gone: not merely signalled, but no longer running, and none of the
// processes it forked either (PostgreSQL's backends put themselves in their
// own sessions, so only the parent links find them).
#ifndef DURABLE_TESTING_SERVERS_PROCESS_TABLE_H_
#define DURABLE_TESTING_SERVERS_PROCESS_TABLE_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace durable::testing {

// One process as /proc/PID/stat and /proc/PID/status describe it.
struct ProcessInfo {
  char state = '?';  // R, S, D, Z (exited, not yet reaped), ...
  pid_t parent = 0;
  pid_t process_group = 0;
  unsigned long long start_ticks = 0;  // since boot: tells a reused pid apart
  uid_t uid = 0;                       // real uid
};

// Nothing when /proc/PID does not exist.
std::optional<ProcessInfo> ReadProcess(pid_t pid);

// Whether the process that had `start_ticks` still runs: false if its pid is
// gone, a zombie (exited; its new parent has not reaped it yet) or reused.
bool StillRunning(pid_t pid, unsigned long long start_ticks);

// A process as of a moment: its pid and start time, so that a later check is
// not fooled by the pid's reuse.
struct ProcessRef {
  pid_t pid = 0;
  unsigned long long start_ticks = 0;
};

// `pid` (first) and every live process descending from it, as they are now.
std::vector<ProcessRef> ProcessTree(pid_t pid);

// Waits up to `timeout` until none of `processes` still runs; returns the
// ones that do.
std::vector<ProcessRef> WaitUntilAllGone(
    const std::vector<ProcessRef>& processes, absl::Duration timeout);

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_PROCESS_TABLE_H_
