#include "testing/servers/mariadb_server.h"

#include <mariadb/mysql.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "testing/servers/server_user.h"
#include "testing/servers/start_on_free_port.h"

namespace durable::testing {
namespace {

constexpr char kMariaDbd[] = "/usr/sbin/mariadbd";
constexpr char kInstallDb[] = "/usr/bin/mariadb-install-db";
constexpr char kPackage[] = "mariadb-server";
// InnoDB shuts down cleanly in a second or two; allow for a loaded machine.
constexpr absl::Duration kStopGrace = absl::Seconds(20);

// Settings for both the initialisation and the server. The temp dir must be
// private: at startup mariadbd deletes every "#sql*" file in its temp dir, so
// with a shared /tmp one server starting up deletes the temporary tables of
// another one being initialised ("Unknown table 'mysql.tmp_user_sys'"). The
// rest keeps the server small (a test's data is tiny, and two servers may
// share a 2-core machine with other tests) and quick to create.
std::vector<std::string> CommonSettings(const std::string& scratch_dir) {
  return {absl::StrCat("--tmpdir=", scratch_dir),
          "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
          "--skip-log-bin"};
}

// Connects as root over TCP; nullptr (and `error`) when that fails.
MYSQL* Connect(int port, std::string& error) {
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) {
    error = "mysql_init failed";
    return nullptr;
  }
  unsigned int timeout_seconds = 2;
  mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_seconds);
  if (mysql_real_connect(mysql, "127.0.0.1", MariaDbServer::kUser, "", nullptr,
                         port, nullptr, 0) == nullptr) {
    error = mysql_error(mysql);
    mysql_close(mysql);
    return nullptr;
  }
  return mysql;
}

bool AcceptsRoot(int port, std::string& error) {
  MYSQL* mysql = Connect(port, error);
  if (mysql == nullptr) return false;
  mysql_close(mysql);
  return true;
}

absl::Status CreateDatabase(int port) {
  std::string error;
  MYSQL* mysql = Connect(port, error);
  if (mysql == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "mariadbd on 127.0.0.1:", port, " stopped accepting root: ", error));
  }
  std::string statement =
      absl::StrCat("CREATE DATABASE IF NOT EXISTS ", MariaDbServer::kDatabase);
  absl::Status status = absl::OkStatus();
  if (mysql_query(mysql, statement.c_str()) != 0) {
    status = absl::InternalError(
        absl::StrCat(statement, " failed: ", mysql_error(mysql)));
  }
  mysql_close(mysql);
  return status;
}

}  // namespace

MariaDbServer::~MariaDbServer() { Stop().IgnoreError(); }

std::string MariaDbServer::socket_path() const {
  return absl::StrCat(dir_.path(), "/mysqld.sock");
}

absl::Status MariaDbServer::Start() {
  if (process_.pid() > 0) {
    return absl::FailedPreconditionError("MariaDbServer already started");
  }
  for (const char* binary : {kMariaDbd, kInstallDb}) {
    absl::Status installed = RequireInstalled(binary, kPackage);
    if (!installed.ok()) return installed;
  }
  absl::StatusOr<ServerUser> user = ServerUser::ForServers();
  if (!user.ok()) return user.status();
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create("mariadb", *user);
  if (!dir.ok()) return dir.status();
  dir_ = std::move(*dir);
  std::string data_dir = absl::StrCat(dir_.path(), "/data");

  // The system tables. `normal` gives root a (empty) password instead of
  // unix_socket authentication, which would tie root to the OS user root;
  // the accounts include root@127.0.0.1, which TCP clients are with
  // --skip-name-resolve.
  ProcessSpec install;
  install.binary = kInstallDb;
  install.args = {"--no-defaults",  // must come first
                  absl::StrCat("--datadir=", data_dir),
                  "--auth-root-authentication-method=normal", "--skip-test-db",
                  "--skip-name-resolve"};
  for (std::string& setting : CommonSettings(dir_.path())) {
    install.args.push_back(std::move(setting));
  }
  install.env = ServerEnvironment(dir_.path());
  install.working_dir = dir_.path();
  install.log_path = absl::StrCat(dir_.path(), "/install.log");
  install.user = *user;
  absl::Status installed = process_.Start(install);
  if (installed.ok()) {
    installed = process_.WaitForSuccess(options_.start_timeout);
  }
  if (!installed.ok()) {
    dir_.Remove().IgnoreError();
    return installed;
  }

  ListenSpec listen;
  listen.command = [&](int port) {
    ProcessSpec spec;
    spec.binary = kMariaDbd;
    spec.args = {"--no-defaults",  // must come first
                 absl::StrCat("--datadir=", data_dir),
                 absl::StrCat("--port=", port), "--bind-address=127.0.0.1",
                 absl::StrCat("--socket=", socket_path()),
                 absl::StrCat("--pid-file=", dir_.path(), "/mysqld.pid"),
                 "--skip-name-resolve", "--performance-schema=OFF",
                 // See the header: survives a killed server, not an OS crash.
                 "--innodb-flush-log-at-trx-commit=2"};
    for (std::string& setting : CommonSettings(dir_.path())) {
      spec.args.push_back(std::move(setting));
    }
    spec.args.insert(spec.args.end(), options_.extra_args.begin(),
                     options_.extra_args.end());
    spec.env = ServerEnvironment(dir_.path());
    spec.working_dir = dir_.path();
    spec.log_path = absl::StrCat(dir_.path(), "/mariadbd.log");
    spec.user = *user;
    return spec;
  };
  listen.ready = AcceptsRoot;
  listen.timeout = options_.start_timeout;
  absl::StatusOr<int> port = StartOnFreePort(process_, listen);
  absl::Status created = port.ok() ? CreateDatabase(*port) : port.status();
  if (!created.ok()) {
    process_.Stop(SIGKILL, absl::ZeroDuration()).IgnoreError();
    dir_.Remove().IgnoreError();
    return created;
  }
  port_ = *port;
  uri_ = absl::StrCat("mysql://", kUser, "@127.0.0.1:", port_, "/", kDatabase);
  return absl::OkStatus();
}

absl::Status MariaDbServer::Stop() {
  absl::Status stopped = process_.Stop(SIGTERM, kStopGrace);
  absl::Status removed = dir_.Remove();
  port_ = 0;
  uri_.clear();
  return stopped.ok() ? removed : stopped;
}

}  // namespace durable::testing
