// ScratchDir: a private temporary directory for one server's data, sockets and
// logs, removed with everything in it when the server stops.
//
// It is created under the first of $TEST_TMPDIR, $TMPDIR and /tmp that the
// server's user can write to and that is short enough for the Unix sockets the
// servers create inside it (a socket path has at most 107 bytes). When the
// test runs as root, Bazel's TEST_TMPDIR (under /root, mode 0700) is out of
// reach of `nobody`, so the directory lands in /tmp.
//
// A test killed with SIGKILL cannot remove its directory, and outside
// TEST_TMPDIR nobody else would. So the name carries the creating process's
// pid (durable-server-<kind>-<pid>-XXXXXX), and Create() first removes the
// directories of processes that no longer exist. Their servers are gone too:
// a server dies with the process that started it (see ServerProcess).
//
// Only the process that created the directory removes it: a forked child that
// inherits a ScratchDir and exits leaves it to its parent.
#ifndef DURABLE_TESTING_SERVERS_SCRATCH_DIR_H_
#define DURABLE_TESTING_SERVERS_SCRATCH_DIR_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "testing/servers/server_user.h"

namespace durable::testing {

class ScratchDir {
 public:
  ScratchDir() = default;
  // Creates the directory, mode 0700, owned by `owner`. `kind` names the
  // server ("redis", "mariadb", "postgres").
  static absl::StatusOr<ScratchDir> Create(absl::string_view kind,
                                           const ServerUser& owner);

  ScratchDir(ScratchDir&& other) noexcept;
  ScratchDir& operator=(ScratchDir&& other) noexcept;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();

  // Empty when there is no directory (never created, or removed).
  const std::string& path() const { return path_; }

  // Removes the directory and everything in it. Idempotent.
  absl::Status Remove();

 private:
  std::string path_;
  pid_t creator_ = 0;
};

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_SCRATCH_DIR_H_
