// WorkerProcess: runs //testing:test_worker as a child process, and helpers
// to read the line logs it writes. For tests that need real process
// boundaries: SIGKILL in the middle of a task, several workers on one file.
#ifndef DURABLE_TESTING_WORKER_PROCESS_H_
#define DURABLE_TESTING_WORKER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace durable::testing {

class WorkerProcess {
 public:
  // Starts `binary` with `args` ("key=value" strings). Check started().
  WorkerProcess(const std::string& binary,
                const std::vector<std::string>& args);
  // Kills (SIGKILL) and reaps the process if it is still running.
  ~WorkerProcess();

  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  bool started() const { return pid_ > 0; }

  // Sends SIGKILL and reaps; true if the process died of it.
  bool Kill();
  // Sends SIGTERM (graceful stop) and reaps; true on exit code 0.
  bool Stop();

 private:
  pid_t pid_ = -1;
};

// The lines of a text file (empty if it does not exist).
std::vector<std::string> ReadLines(const std::string& path);

int CountLines(const std::vector<std::string>& lines, const std::string& line);

// Polls `path` until `line` occurs at least `occurrences` times.
bool WaitForLine(const std::string& path, const std::string& line,
                 int occurrences, absl::Duration timeout);

}  // namespace durable::testing

#endif  // DURABLE_TESTING_WORKER_PROCESS_H_
