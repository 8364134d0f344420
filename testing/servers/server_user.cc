#include "testing/servers/server_user.h"

#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace durable::testing {
namespace {

constexpr char kUnprivilegedUser[] = "nobody";

absl::StatusOr<ServerUser> LookUp(const char* name) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? size : 16384);
  passwd entry{};
  passwd* found = nullptr;
  int rc = getpwnam_r(name, &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("test servers run as user '", name,
                     "' when the test is root, but it does not exist"));
  }
  ServerUser user;
  user.name = found->pw_name;
  user.uid = found->pw_uid;
  user.gid = found->pw_gid;
  return user;
}

}  // namespace

absl::StatusOr<ServerUser> ServerUser::ForServers() {
  if (geteuid() != 0) {
    ServerUser user;
    user.uid = geteuid();
    user.gid = getegid();
    passwd* entry = getpwuid(user.uid);
    user.name = entry != nullptr ? entry->pw_name : absl::StrCat(user.uid);
    return user;
  }
  absl::StatusOr<ServerUser> user = LookUp(kUnprivilegedUser);
  if (user.ok()) user->switch_user = true;
  return user;
}

bool ServerUser::CanWriteTo(const std::string& dir) const {
  if (!switch_user) return access(dir.c_str(), W_OK | X_OK) == 0;
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // Only async-signal-safe calls: the parent may have other threads.
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
      _exit(2);
    }
    _exit(access(dir.c_str(), W_OK | X_OK) == 0 ? 0 : 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace durable::testing
