#include "testing/servers/server_process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace durable::testing {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

// What the child needs, prepared before fork(): between fork and exec only
// async-signal-safe calls are allowed (the test may have other threads whose
// locks a forked child would inherit held), so nothing may allocate.
struct ChildPlan {
  const char* binary;
  char* const* argv;
  char* const* envp;
  const char* working_dir;
  int log_fd;
  int null_fd;
  pid_t parent;
  bool switch_user;
  uid_t uid;
  gid_t gid;
};

// Writes "server launcher: <what>: errno <n>\n" to the log and exits.
[[noreturn]] void ChildFail(int log_fd, const char* what, int exit_code) {
  int error = errno;
  char digits[16];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + error % 10);
    error /= 10;
  } while (error > 0 && n < 15);
  char message[256];
  size_t length = 0;
  auto append = [&](const char* text, size_t size) {
    for (size_t i = 0; i < size && length < sizeof(message); ++i) {
      message[length++] = text[i];
    }
  };
  append("server launcher: ", 17);
  append(what, strlen(what));
  append(": errno ", 8);
  while (n > 0) append(&digits[--n], 1);
  append("\n", 1);
  if (write(log_fd, message, length) < 0) {
    // Nothing more to do: the exit code still says what failed.
  }
  _exit(exit_code);
}

[[noreturn]] void RunChild(const ChildPlan& plan) {
  // Its own process group, so Stop() can reach the server's children.
  setpgid(0, 0);
  if (plan.switch_user) {
    if (setgroups(0, nullptr) != 0 || setgid(plan.gid) != 0 ||
        setuid(plan.uid) != 0) {
      ChildFail(plan.log_fd, "cannot switch to the server user", 126);
    }
  }
  // After the user switch, which clears it.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    ChildFail(plan.log_fd, "prctl(PR_SET_PDEATHSIG)", 126);
  }
  // The parent may have died before the request took effect.
  if (getppid() != plan.parent) _exit(125);
  // Ignored signals and the signal mask survive exec; the server expects
  // the defaults (SIGTERM must stop it, SIGPIPE must be its own business).
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) {
    sigaction(signal, &default_action, nullptr);  // EINVAL for some: fine
  }
  if (dup2(plan.null_fd, STDIN_FILENO) < 0 ||
      dup2(plan.log_fd, STDOUT_FILENO) < 0 ||
      dup2(plan.log_fd, STDERR_FILENO) < 0) {
    ChildFail(plan.log_fd, "dup2", 126);
  }
  close_range(3, ~0U, 0);
  if (chdir(plan.working_dir) != 0) {
    ChildFail(STDERR_FILENO, "chdir to the working directory", 126);
  }
  execve(plan.binary, plan.argv, plan.envp);
  ChildFail(STDERR_FILENO, "execve", 127);
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const std::string& s : strings) {
    pointers.push_back(const_cast<char*>(s.c_str()));
  }
  pointers.push_back(nullptr);
  return pointers;
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

absl::Status RequireInstalled(absl::string_view binary,
                              absl::string_view package) {
  std::string path(binary);
  if (access(path.c_str(), X_OK) == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      Basename(path), " is not installed (no executable ", path,
      "): the tests need it; `tools/setup.sh --test` (run by `make test`) "
      "installs the Debian package ",
      package));
}

std::vector<std::string> ServerEnvironment(const std::string& home) {
  return {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "TZ=UTC",
          absl::StrCat("HOME=", home), absl::StrCat("TMPDIR=", home)};
}

ServerProcess::~ServerProcess() {
  Stop(SIGKILL, absl::ZeroDuration()).IgnoreError();
}

absl::Status ServerProcess::Start(const ProcessSpec& spec) {
  if (pid_ > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(), " is already running"));
  }
  binary_ = spec.binary;
  log_path_ = spec.log_path;
  exited_ = false;
  exit_code_ = 0;
  exit_signal_ = 0;

  int log_fd = open(spec.log_path.c_str(),
                    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", spec.log_path, ": ", strerror(errno)));
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    close(log_fd);
    return absl::InternalError(
        absl::StrCat("open /dev/null: ", strerror(errno)));
  }
  std::vector<std::string> argv_strings = {spec.binary};
  argv_strings.insert(argv_strings.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(spec.env);
  ChildPlan plan{
      .binary = spec.binary.c_str(),
      .argv = argv.data(),
      .envp = envp.data(),
      .working_dir = spec.working_dir.c_str(),
      .log_fd = log_fd,
      .null_fd = null_fd,
      .parent = getpid(),
      .switch_user = spec.user.switch_user,
      .uid = spec.user.uid,
      .gid = spec.user.gid,
  };

  pid_t pid = fork();
  if (pid == 0) RunChild(plan);
  int fork_errno = errno;
  close(log_fd);
  close(null_fd);
  if (pid < 0) {
    return absl::InternalError(
        absl::StrCat("fork for ", spec.binary, ": ", strerror(fork_errno)));
  }
  // Also done by the child; doing it here too means the group exists before
  // Start() returns, whichever runs first.
  setpgid(pid, pid);
  pid_ = pid;
  starter_ = getpid();
  return absl::OkStatus();
}

bool ServerProcess::Exited() {
  if (exited_ || pid_ <= 0) return true;
  siginfo_t info{};
  int rc;
  do {
    rc = waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT);
  } while (rc < 0 && errno == EINTR);
  if (rc != 0) {
    // ECHILD: not our child any more (reaped elsewhere). Treat it as gone.
    exited_ = true;
    exit_code_ = -1;
    return true;
  }
  if (info.si_pid == 0) return false;
  exited_ = true;
  if (info.si_code == CLD_EXITED) {
    exit_code_ = info.si_status;
  } else {
    exit_signal_ = info.si_status;
  }
  return true;
}

bool ServerProcess::Running() { return pid_ > 0 && !Exited(); }

absl::Status ServerProcess::WaitUntil(const std::function<bool()>& ready,
                                      absl::Duration timeout,
                                      absl::string_view what) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (Exited()) {
      return absl::UnavailableError(
          absl::StrCat(Describe(), " ", ExitDescription(), " before it would ",
                       what, "; last lines of ", log_path_, ":\n", LogTail()));
    }
    if (ready()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(Describe(), " did not ", what, " within ",
                       absl::FormatDuration(timeout), "; last lines of ",
                       log_path_, ":\n", LogTail()));
    }
    absl::SleepFor(kPollInterval);
  }
}

absl::Status ServerProcess::WaitForSuccess(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!Exited() && absl::Now() < deadline) absl::SleepFor(kPollInterval);
  if (!Exited()) {
    std::string description = Describe();
    Stop(SIGKILL, absl::ZeroDuration()).IgnoreError();
    return absl::DeadlineExceededError(absl::StrCat(
        description, " did not finish within ", absl::FormatDuration(timeout),
        "; last lines of ", log_path_, ":\n", LogTail()));
  }
  std::string description = Describe();
  bool success = exit_code_ == 0 && exit_signal_ == 0;
  std::string exit = ExitDescription();
  Stop(SIGKILL, absl::ZeroDuration()).IgnoreError();  // reaps
  if (success) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(description, " failed: ", exit,
                                          "; last lines of ", log_path_, ":\n",
                                          LogTail()));
}

absl::Status ServerProcess::Stop(int signal, absl::Duration grace) {
  if (pid_ <= 0) return absl::OkStatus();
  if (getpid() != starter_) {
    // A forked child's copy: the server belongs to the process that started
    // it, which stops it.
    pid_ = -1;
    return absl::OkStatus();
  }
  absl::Status result = absl::OkStatus();
  bool reaped_elsewhere = false;
  if (Exited()) {
    reaped_elsewhere = exit_code_ == -1;
    if (exit_code_ != 0 || exit_signal_ != 0) {
      result = absl::InternalError(
          absl::StrCat(Describe(), " had ", ExitDescription(),
                       " before it was stopped; last lines of ", log_path_,
                       ":\n", LogTail()));
    }
  } else {
    kill(pid_, signal);
    absl::Time deadline = absl::Now() + grace;
    while (!Exited() && absl::Now() < deadline) absl::SleepFor(kPollInterval);
    if (!Exited()) {
      kill(pid_, SIGKILL);
      siginfo_t info{};
      while (waitid(P_PID, pid_, &info, WEXITED | WNOWAIT) < 0 &&
             errno == EINTR) {
      }
      if (signal != SIGKILL) {
        result = absl::DeadlineExceededError(absl::StrCat(
            Describe(), " did not stop within ", absl::FormatDuration(grace),
            " of signal ", signal, " and was killed; last lines of ", log_path_,
            ":\n", LogTail()));
      }
    } else if (exit_code_ != 0 ||
               (exit_signal_ != 0 && exit_signal_ != signal)) {
      result = absl::InternalError(absl::StrCat(
          Describe(), " ", ExitDescription(), " when asked to stop"));
    }
  }
  if (!reaped_elsewhere) {
    // The leader is an unreaped zombie, so its group id is still ours: this
    // reaches only what the server forked and left behind.
    kill(-pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  return result;
}

bool ServerProcess::LogShowsPortConflict() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return absl::StrContains(text.str(), "Address already in use");
}

std::string ServerProcess::LogTail(int lines) const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> all =
      absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
  if (all.empty()) return "(empty log)";
  size_t first =
      all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  // A server's last lines can be boilerplate (mariadb-install-db ends with
  // twenty lines of advice), so the error lines before them come first.
  std::vector<std::string> shown;
  for (size_t i = 0; i < first && shown.size() < 10; ++i) {
    if (absl::StrContains(all[i], "ERROR") ||
        absl::StrContains(all[i], "FATAL") ||
        absl::StrContains(all[i], "PANIC")) {
      shown.push_back(all[i]);
    }
  }
  if (!shown.empty()) shown.push_back("...");
  shown.insert(shown.end(), all.begin() + first, all.end());
  return absl::StrJoin(shown, "\n");
}

std::string ServerProcess::Describe() const {
  return absl::StrCat(Basename(binary_), " (", binary_, ", pid ", pid_, ")");
}

std::string ServerProcess::ExitDescription() const {
  if (exit_signal_ != 0) {
    return absl::StrCat("was killed by signal ", exit_signal_, " (",
                        strsignal(exit_signal_), ")");
  }
  if (exit_code_ == -1) return "was reaped by someone else";
  return absl::StrCat("exited with status ", exit_code_);
}

}  // namespace durable::testing
