// PostgresServer: a private PostgreSQL 15 server for a test, on 127.0.0.1.
//
// Start() picks a free port, creates a ScratchDir, runs initdb into it
// (superuser `postgres`, trust authentication, UTF8, C locale), and runs
// Debian's postgres (package postgresql-15) listening on 127.0.0.1 only, with
// its Unix socket in the scratch dir. It returns once `postgres` can connect,
// after creating the database `durable_test`, at most `start_timeout` later;
// otherwise the error names the binary and ends with its log.
//
// Durability is relaxed for speed in a way a server crash cannot notice:
// fsync=off, so commits still reach the kernel (killing postgres loses
// nothing) but are not synced to disk; only an operating system crash could
// lose data, and the data is thrown away anyway. `extra_args` can turn it
// back on ({"-c", "fsync=on"}, as a benchmark does).
//
// PostgreSQL refuses to run as root, so when the test is root the server runs
// as `nobody` (see ServerUser), and it is killed by the kernel if the test
// dies; its backends notice their postmaster's death and exit. Stop() asks
// for a fast shutdown (SIGINT: disconnect clients, checkpoint; SIGTERM would
// wait for clients to leave), then SIGKILLs the server and its process group
// after a bound, and removes the scratch dir; the destructor calls it. For one
// server per test binary, use SharedServer<PostgresServer>.
#ifndef DURABLE_TESTING_SERVERS_POSTGRES_SERVER_H_
#define DURABLE_TESTING_SERVERS_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "testing/servers/scratch_dir.h"
#include "testing/servers/server_process.h"

namespace durable::testing {

class PostgresServer {
 public:
  struct Options {
    // Appended to postgres's command line after the launcher's settings, so
    // they win (e.g. {"-c", "fsync=on"}).
    std::vector<std::string> extra_args;
    // Bounds initdb and, separately, the wait for connections.
    absl::Duration start_timeout = absl::Seconds(120);
  };

  PostgresServer() : PostgresServer(Options()) {}
  explicit PostgresServer(Options options) : options_(std::move(options)) {}
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer();

  absl::Status Start();
  absl::Status Stop();

  // "postgres://postgres@127.0.0.1:PORT/durable_test"; valid after Start().
  // libpq's PQconnectdb accepts it as is.
  const std::string& uri() const { return uri_; }
  int port() const { return port_; }
  static constexpr char kUser[] = "postgres";
  static constexpr char kDatabase[] = "durable_test";
  // The directory holding the server's Unix socket (libpq's `host` for it).
  const std::string& socket_dir() const { return dir_.path(); }
  pid_t pid() const { return process_.pid(); }
  // The scratch directory (data directory, socket and logs).
  const std::string& dir() const { return dir_.path(); }

 private:
  Options options_;
  ScratchDir dir_;
  ServerProcess process_;
  int port_ = 0;
  std::string uri_;
};

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_POSTGRES_SERVER_H_
