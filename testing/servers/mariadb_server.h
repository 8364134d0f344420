// MariaDbServer: a private MariaDB server for a test, on 127.0.0.1.
//
// Start() picks a free port, creates a ScratchDir, initialises a data
// directory in it with mariadb-install-db, and runs Debian's mariadbd
// (package mariadb-server) bound to 127.0.0.1 only, with its own Unix socket,
// pid file and temp dir in the scratch dir and no binary log. `root` has no
// password and may connect from 127.0.0.1. It returns once root can log in,
// after creating the database `durable_test`, at most `start_timeout` later;
// otherwise the error names the binary and ends with its log.
//
// Durability is relaxed for speed in a way a server crash cannot notice: the
// redo log is written at every commit but synced once a second
// (innodb_flush_log_at_trx_commit=2), so killing mariadbd loses nothing; only
// an operating system crash could, and the data is thrown away anyway.
// `extra_args` can restore =1 (a benchmark does).
//
// The server runs as a ServerProcess: as `nobody` when the test is root (the
// launcher switches user itself, rather than `mariadbd --user`, so the
// death-of-parent signal survives), and killed by the kernel if the test
// dies. Stop() shuts it down (SIGTERM, then SIGKILL after a bound) and
// removes the scratch dir; the destructor calls it. For one server per test
// binary, use SharedServer<MariaDbServer>.
#ifndef DURABLE_TESTING_SERVERS_MARIADB_SERVER_H_
#define DURABLE_TESTING_SERVERS_MARIADB_SERVER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "testing/servers/scratch_dir.h"
#include "testing/servers/server_process.h"

namespace durable::testing {

class MariaDbServer {
 public:
  struct Options {
    // Appended to mariadbd's command line after the launcher's settings, so
    // they win (e.g. "--innodb-flush-log-at-trx-commit=1").
    std::vector<std::string> extra_args;
    // Bounds the data directory's initialisation and, separately, the wait
    // for the server to accept connections.
    absl::Duration start_timeout = absl::Seconds(120);
  };

  MariaDbServer() : MariaDbServer(Options()) {}
  explicit MariaDbServer(Options options) : options_(std::move(options)) {}
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;
  ~MariaDbServer();

  absl::Status Start();
  absl::Status Stop();

  // "mysql://root@127.0.0.1:PORT/durable_test"; valid after Start().
  const std::string& uri() const { return uri_; }
  int port() const { return port_; }
  static constexpr char kUser[] = "root";
  static constexpr char kDatabase[] = "durable_test";
  // The server's Unix socket (an alternative to TCP).
  std::string socket_path() const;
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

#endif  // DURABLE_TESTING_SERVERS_MARIADB_SERVER_H_
