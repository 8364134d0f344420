// ServerUser: the account the test servers run as.
//
// PostgreSQL refuses to run as root, and MariaDB does so only when told to.
// `make test` runs as root on a fresh machine, so when the test process is
// root the servers run as `nobody` (present on every Debian system, so nothing
// needs creating); otherwise they run as the test's own user and no switch
// happens. The switch is done by ServerProcess in the forked child, with
// setgroups/setgid/setuid before exec: no PAM, no runuser, nothing that needs
// a login shell or the network.
#ifndef DURABLE_TESTING_SERVERS_SERVER_USER_H_
#define DURABLE_TESTING_SERVERS_SERVER_USER_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace durable::testing {

struct ServerUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  // True when the child must switch to uid/gid before exec (the test is root).
  bool switch_user = false;

  // `nobody` when this process is root, else the current user.
  static absl::StatusOr<ServerUser> ForServers();

  // Whether this user can create files in `dir`. Checked as the user, in a
  // short-lived child process, because the answer depends on every parent
  // directory (Bazel's TEST_TMPDIR lies under /root, which is 0700).
  bool CanWriteTo(const std::string& dir) const;
};

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_SERVER_USER_H_
