// RedisServer: a private redis-server for a test, on 127.0.0.1.
//
// Start() picks a free port, creates a ScratchDir, and runs Debian's
// redis-server (package redis-server) bound to 127.0.0.1 only, with
// persistence off (no RDB snapshots, no append-only file) and its working
// directory in the scratch dir, so nothing it writes outlives the test. It
// returns once the server answers PING, at most `start_timeout` later;
// otherwise the error names the binary and ends with its log.
//
// The server runs as a ServerProcess: as `nobody` when the test is root, and
// killed by the kernel if the test dies. Stop() shuts it down (SIGTERM, then
// SIGKILL after a bound) and removes the scratch dir; the destructor calls it.
// For one server per test binary, use SharedServer<RedisServer>.
#ifndef DURABLE_TESTING_SERVERS_REDIS_SERVER_H_
#define DURABLE_TESTING_SERVERS_REDIS_SERVER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "testing/servers/scratch_dir.h"
#include "testing/servers/server_process.h"

namespace durable::testing {

class RedisServer {
 public:
  struct Options {
    // Appended to redis-server's command line after the launcher's own
    // settings, so they win (e.g. {"--appendonly", "yes", "--appendfsync",
    // "always"} for a benchmark of durable writes).
    std::vector<std::string> extra_args;
    absl::Duration start_timeout = absl::Seconds(60);
  };

  RedisServer() : RedisServer(Options()) {}
  explicit RedisServer(Options options) : options_(std::move(options)) {}
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();

  absl::Status Start();
  absl::Status Stop();
  // Stops the server (SIGTERM, so it shuts down cleanly) and starts it again
  // on the same port with the same directory, returning once it answers
  // PING: what clients see when a server restarts. Data survives only when
  // `extra_args` turned persistence on (e.g. --appendonly yes). `down` is
  // how long it stays stopped.
  absl::Status Restart(absl::Duration down = absl::ZeroDuration());

  // "redis://127.0.0.1:PORT"; valid after Start().
  const std::string& uri() const { return uri_; }
  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  // The scratch directory (the server's working directory and log).
  const std::string& dir() const { return dir_.path(); }

 private:
  Options options_;
  ScratchDir dir_;
  ServerProcess process_;
  int port_ = 0;
  std::string uri_;
  // The command line it runs on port_, for Restart().
  ProcessSpec spec_;
};

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_REDIS_SERVER_H_
