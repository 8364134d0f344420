// The launcher's process handling, with small shell commands instead of
// database servers: user switch, inherited descriptors, errors that carry the
// log, Stop()'s escalation to SIGKILL of the whole group, and forked copies
// that must not stop their parent's server.
#include "testing/servers/server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/servers/free_port.h"
#include "testing/servers/process_table.h"
#include "testing/servers/scratch_dir.h"
#include "testing/servers/server_user.h"

namespace durable::testing {
namespace {

class ServerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<ServerUser> user = ServerUser::ForServers();
    ASSERT_TRUE(user.ok()) << user.status();
    user_ = *user;
    absl::StatusOr<ScratchDir> dir = ScratchDir::Create("selftest", user_);
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
  }

  ProcessSpec Shell(const std::string& script) {
    ProcessSpec spec;
    spec.binary = "/bin/sh";
    spec.args = {"-c", script};
    spec.env = ServerEnvironment(dir_.path());
    spec.working_dir = dir_.path();
    spec.log_path = absl::StrCat(dir_.path(), "/log");
    spec.user = user_;
    return spec;
  }

  std::string Log() {
    std::ifstream in(absl::StrCat(dir_.path(), "/log"));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  ServerUser user_;
  ScratchDir dir_;
};

TEST(RequireInstalledTest, NamesThePackageAndTheSetupCommand) {
  EXPECT_TRUE(RequireInstalled("/bin/sh", "dash").ok());
  absl::Status missing =
      RequireInstalled("/nonexistent/redis-server", "redis-server");
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(missing.message(), "tools/setup.sh --test"))
      << missing;
  EXPECT_TRUE(
      absl::StrContains(missing.message(), "Debian package redis-server"))
      << missing;
}

TEST(PickFreePortTest, ReturnsAPortNobodyListensOn) {
  absl::StatusOr<int> port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_GT(*port, 0);
  EXPECT_LT(*port, 65536);
}

TEST_F(ServerProcessTest, RunsAsTheServerUserWithOnlyStandardDescriptors) {
  // A descriptor without close-on-exec that a careless launcher would pass on.
  int leaked[2];
  ASSERT_EQ(pipe(leaked), 0);
  ServerProcess process;
  ASSERT_TRUE(
      process.Start(Shell("id -u; ls /proc/self/fd | tr '\\n' ' '")).ok());
  EXPECT_TRUE(process.WaitForSuccess(absl::Seconds(30)).ok()) << Log();
  close(leaked[0]);
  close(leaked[1]);
  // ls itself opens one descriptor (3) to read the directory.
  EXPECT_EQ(Log(), absl::StrCat(user_.uid, "\n0 1 2 3 "));
  if (geteuid() == 0) {
    EXPECT_NE(user_.uid, 0u);
  }
}

TEST_F(ServerProcessTest, AnEarlyExitIsAnErrorWithTheLogTail) {
  ServerProcess process;
  ASSERT_TRUE(process
                  .Start(Shell("echo cannot open data directory >&2; "
                               "exit 3"))
                  .ok());
  absl::Status ready = process.WaitUntil([] { return false; },
                                         absl::Seconds(30), "become ready");
  EXPECT_EQ(ready.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(ready.message(), "sh (/bin/sh, pid")) << ready;
  EXPECT_TRUE(absl::StrContains(ready.message(), "exited with status 3"))
      << ready;
  EXPECT_TRUE(absl::StrContains(ready.message(), "cannot open data directory"))
      << ready;
  // Stop() reports the earlier failure, and reaps.
  EXPECT_FALSE(process.Stop(SIGTERM, absl::Seconds(1)).ok());
  EXPECT_EQ(process.pid(), -1);
}

TEST_F(ServerProcessTest, ReadinessIsBounded) {
  ServerProcess process;
  ASSERT_TRUE(process.Start(Shell("exec sleep 300")).ok());
  absl::Time start = absl::Now();
  absl::Status ready = process.WaitUntil(
      [] { return false; }, absl::Milliseconds(300), "accept connections");
  EXPECT_EQ(ready.code(), absl::StatusCode::kDeadlineExceeded) << ready;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(process.Stop(SIGTERM, absl::Seconds(5)).ok());
}

// A server that ignores the stop signal is killed after the grace period,
// and so is what it forked (its process group).
TEST_F(ServerProcessTest, StopEscalatesToSigkillOfTheGroup) {
  ServerProcess process;
  ASSERT_TRUE(process
                  .Start(Shell("trap '' TERM; sleep 300 & echo $! > child; "
                               "wait"))
                  .ok());
  std::string child_path = absl::StrCat(dir_.path(), "/child");
  int child = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       absl::Now() < deadline && child == 0;
       absl::SleepFor(absl::Milliseconds(10))) {
    std::ifstream in(child_path);
    std::string text;
    std::getline(in, text);
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &child)) child = 0;
  }
  ASSERT_GT(child, 0);
  std::optional<ProcessInfo> child_info = ReadProcess(child);
  ASSERT_TRUE(child_info.has_value());
  pid_t pid = process.pid();

  absl::Status stopped = process.Stop(SIGTERM, absl::Milliseconds(300));
  EXPECT_EQ(stopped.code(), absl::StatusCode::kDeadlineExceeded) << stopped;
  EXPECT_TRUE(absl::StrContains(stopped.message(), "was killed")) << stopped;
  EXPECT_FALSE(ReadProcess(pid).has_value());
  EXPECT_TRUE(
      WaitUntilAllGone({{child, child_info->start_ticks}}, absl::Seconds(5))
          .empty());
}

// gtest death tests and multi-process tests fork; a child that exits must not
// stop the server its parent started.
TEST_F(ServerProcessTest, AForkedCopyDoesNotStopTheServer) {
  ServerProcess process;
  ASSERT_TRUE(process.Start(Shell("exec sleep 300")).ok());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    process.Stop(SIGKILL, absl::ZeroDuration()).IgnoreError();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(process.Running());
  EXPECT_TRUE(process.Stop(SIGTERM, absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace durable::testing
