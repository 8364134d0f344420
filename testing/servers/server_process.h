// ServerProcess: one database server (or its initialisation command) run as a
// child of the test, bound to the test's lifetime.
//
// The child is set up so that it cannot outlive the test:
//  - after switching to the server user (ServerUser) it asks the kernel for
//    SIGKILL when its parent dies (PR_SET_PDEATHSIG). The order matters: a
//    change of user clears that setting, which is also why the servers are
//    not left to drop privileges themselves (mariadbd --user would).
//    The signal follows the *thread* that forked the child, so start servers
//    from a thread that lives as long as they do (the test's main thread);
//  - it leads its own process group, so that Stop() also reaches what it
//    forked and left in the group (mariadb-install-db's bootstrap server)
//    without touching anything else. PostgreSQL's processes start their own
//    sessions, and exit by themselves when their postmaster dies;
//  - stdin is /dev/null, stdout and stderr go to a log file, and no other
//    descriptor of the test is inherited (a server holding the test's output
//    pipe would keep Bazel waiting);
//  - it gets a fixed, minimal environment and default signal handling.
//
// Stop() signals exactly the pid it started (and that pid's process group),
// and only in the process that started it: a forked child of the test that
// inherits a ServerProcess and exits does not stop its parent's server.
#ifndef DURABLE_TESTING_SERVERS_SERVER_PROCESS_H_
#define DURABLE_TESTING_SERVERS_SERVER_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "testing/servers/server_user.h"

namespace durable::testing {

// OK if `binary` is an executable file; otherwise an error saying that
// `tools/setup.sh --test` installs the Debian package `package`. The tests
// need their servers (`make test` installs them), so a missing one fails the
// test instead of skipping it.
absl::Status RequireInstalled(absl::string_view binary,
                              absl::string_view package);

// The environment servers get: a fixed PATH, the C locale, and HOME and
// TMPDIR in their scratch dir, so that nothing of the test's environment
// changes them and no two servers share temporary files.
std::vector<std::string> ServerEnvironment(const std::string& home);

struct ProcessSpec {
  std::string binary;             // absolute path
  std::vector<std::string> args;  // without argv[0]
  std::vector<std::string> env;   // "NAME=value": the whole environment
  std::string working_dir;
  std::string log_path;  // receives stdout and stderr (truncated first)
  ServerUser user;
};

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // Kills (SIGKILL) a process still running; owners call Stop() first.
  ~ServerProcess();

  absl::Status Start(const ProcessSpec& spec);

  // The child's pid, or -1 before Start() and after Stop().
  pid_t pid() const { return pid_; }
  bool Running();

  // Calls `ready` every 20 ms until it returns true (OK), the process exits,
  // or `timeout` passes (errors naming the binary, with the log's tail).
  // `what` says what is awaited, e.g. "accept connections on 127.0.0.1:6379".
  absl::Status WaitUntil(const std::function<bool()>& ready,
                         absl::Duration timeout, absl::string_view what);

  // For a command that runs to completion (initdb, mariadb-install-db): waits
  // for it to exit, at most `timeout` (then kills it), and reaps it. OK when
  // it exited with status 0.
  absl::Status WaitForSuccess(absl::Duration timeout);

  // Sends `signal` (the server's clean-shutdown signal), waits up to `grace`,
  // then SIGKILLs the process and its group, and reaps it. Errors when the
  // server did not stop by itself within `grace`, or had exited before with a
  // failure. Idempotent.
  absl::Status Stop(int signal, absl::Duration grace);

  // Whether the log says a port was taken ("Address already in use"): the
  // free port was grabbed by someone else between PickFreePort and bind.
  bool LogShowsPortConflict() const;

  // The last `lines` lines of the log, after its earlier error lines, for
  // error messages.
  std::string LogTail(int lines = 20) const;

 private:
  // Whether the child has exited, without reaping it: while it is an
  // unreaped zombie its pid (and process group id) cannot be reused, so
  // signalling them cannot hit a stranger.
  bool Exited();
  std::string Describe() const;  // "postgres (/usr/lib/..., pid 123)"
  std::string ExitDescription() const;

  pid_t pid_ = -1;
  pid_t starter_ = 0;  // the process that called Start()
  bool exited_ = false;
  int exit_code_ = 0;    // when exited normally
  int exit_signal_ = 0;  // when killed by a signal
  std::string binary_;
  std::string log_path_;
};

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_SERVER_PROCESS_H_
