#include "testing/servers/scratch_dir.h"

#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace durable::testing {
namespace {

constexpr absl::string_view kPrefix = "durable-server-";
// Leaves room for "/durable-server-postgres-4194304-XXXXXX/.s.PGSQL.65535"
// within the 107 bytes of a Unix socket path.
constexpr size_t kMaxBaseLength = 50;

int RemoveEntry(const char* path, const struct stat*, int type, FTW*) {
  // Errors are ignored so that as much as possible goes; RemoveTree reports
  // whether the directory itself is gone.
  if (type == FTW_DP) {
    rmdir(path);
  } else {
    unlink(path);
  }
  return 0;
}

absl::Status RemoveTree(const std::string& path) {
  nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  struct stat info;
  if (lstat(path.c_str(), &info) == 0) {
    return absl::InternalError(absl::StrCat("could not remove ", path));
  }
  return absl::OkStatus();
}

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

// Removes <base>/durable-server-<kind>-<pid>-XXXXXX of dead processes.
void RemoveAbandoned(const std::string& base) {
  DIR* dir = opendir(base.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> abandoned;
  while (dirent* entry = readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (!absl::StartsWith(name, kPrefix)) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(name, '-');
    // durable, server, kind, pid, XXXXXX
    int pid = 0;
    if (parts.size() != 5 || !absl::SimpleAtoi(parts[3], &pid) || pid <= 0) {
      continue;
    }
    if (!ProcessExists(pid)) abandoned.push_back(absl::StrCat(base, "/", name));
  }
  closedir(dir);
  for (const std::string& path : abandoned) RemoveTree(path).IgnoreError();
}

std::string ChooseBase(const ServerUser& owner) {
  for (const char* variable : {"TEST_TMPDIR", "TMPDIR"}) {
    const char* value = getenv(variable);
    if (value == nullptr || value[0] != '/') continue;
    std::string base = value;
    if (base.size() <= kMaxBaseLength && owner.CanWriteTo(base)) return base;
  }
  return "/tmp";
}

}  // namespace

absl::StatusOr<ScratchDir> ScratchDir::Create(absl::string_view kind,
                                              const ServerUser& owner) {
  std::string base = ChooseBase(owner);
  RemoveAbandoned(base);
  std::string path =
      absl::StrCat(base, "/", kPrefix, kind, "-", getpid(), "-XXXXXX");
  if (mkdtemp(path.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", path, ": ", strerror(errno)));
  }
  ScratchDir dir;
  dir.path_ = path;
  dir.creator_ = getpid();
  if (owner.switch_user && chown(path.c_str(), owner.uid, owner.gid) != 0) {
    std::string error = strerror(errno);
    dir.Remove().IgnoreError();
    return absl::InternalError(
        absl::StrCat("chown ", path, " to ", owner.name, ": ", error));
  }
  return dir;
}

ScratchDir::ScratchDir(ScratchDir&& other) noexcept
    : path_(std::exchange(other.path_, "")),
      creator_(std::exchange(other.creator_, 0)) {}

ScratchDir& ScratchDir::operator=(ScratchDir&& other) noexcept {
  if (this != &other) {
    Remove().IgnoreError();
    path_ = std::exchange(other.path_, "");
    creator_ = std::exchange(other.creator_, 0);
  }
  return *this;
}

ScratchDir::~ScratchDir() { Remove().IgnoreError(); }

absl::Status ScratchDir::Remove() {
  if (path_.empty()) return absl::OkStatus();
  std::string path = std::exchange(path_, "");
  if (getpid() != creator_) return absl::OkStatus();  // a forked child's copy
  return RemoveTree(path);
}

}  // namespace durable::testing
