#include "testing/servers/postgres_server.h"

#include <postgresql/libpq-fe.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "testing/servers/server_user.h"
#include "testing/servers/start_on_free_port.h"

namespace durable::testing {
namespace {

// Debian installs each major version side by side; the project uses 15.
constexpr char kPostgres[] = "/usr/lib/postgresql/15/bin/postgres";
constexpr char kInitDb[] = "/usr/lib/postgresql/15/bin/initdb";
constexpr char kPackage[] = "postgresql-15";
constexpr absl::Duration kStopGrace = absl::Seconds(20);

std::string ConnInfo(int port, const char* database) {
  return absl::StrCat("host=127.0.0.1 port=", port,
                      " user=", PostgresServer::kUser, " dbname=", database,
                      " connect_timeout=2");
}

// Whether `postgres` can log in (not just connect: during startup and
// recovery the server accepts the TCP connection and then refuses).
bool AcceptsSuperuser(int port, std::string& error) {
  PGconn* connection = PQconnectdb(ConnInfo(port, "postgres").c_str());
  bool ok = PQstatus(connection) == CONNECTION_OK;
  if (!ok) error = PQerrorMessage(connection);
  PQfinish(connection);
  return ok;
}

absl::Status CreateDatabase(int port) {
  PGconn* connection = PQconnectdb(ConnInfo(port, "postgres").c_str());
  absl::Status status = absl::OkStatus();
  if (PQstatus(connection) != CONNECTION_OK) {
    status = absl::UnavailableError(absl::StrCat(
        "postgres on 127.0.0.1:", port,
        " stopped accepting connections: ", PQerrorMessage(connection)));
  } else {
    std::string statement =
        absl::StrCat("CREATE DATABASE ", PostgresServer::kDatabase);
    PGresult* result = PQexec(connection, statement.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      status = absl::InternalError(
          absl::StrCat(statement, " failed: ", PQresultErrorMessage(result)));
    }
    PQclear(result);
  }
  PQfinish(connection);
  return status;
}

}  // namespace

PostgresServer::~PostgresServer() { Stop().IgnoreError(); }

absl::Status PostgresServer::Start() {
  if (process_.pid() > 0) {
    return absl::FailedPreconditionError("PostgresServer already started");
  }
  for (const char* binary : {kPostgres, kInitDb}) {
    absl::Status installed = RequireInstalled(binary, kPackage);
    if (!installed.ok()) return installed;
  }
  absl::StatusOr<ServerUser> user = ServerUser::ForServers();
  if (!user.ok()) return user.status();
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create("postgres", *user);
  if (!dir.ok()) return dir.status();
  dir_ = std::move(*dir);
  std::string data_dir = absl::StrCat(dir_.path(), "/data");

  // --no-sync: the directory is thrown away, so there is nothing to make
  // crash-safe, and syncing ~40 MB costs seconds on a busy disk.
  ProcessSpec init;
  init.binary = kInitDb;
  init.args = {"-D",         data_dir,       "-U",
               kUser,        "--auth=trust", "--encoding=UTF8",
               "--locale=C", "--no-sync",    "--no-instructions"};
  init.env = ServerEnvironment(dir_.path());
  init.working_dir = dir_.path();
  init.log_path = absl::StrCat(dir_.path(), "/initdb.log");
  init.user = *user;
  absl::Status initialized = process_.Start(init);
  if (initialized.ok()) {
    initialized = process_.WaitForSuccess(options_.start_timeout);
  }
  if (!initialized.ok()) {
    dir_.Remove().IgnoreError();
    return initialized;
  }

  ListenSpec listen;
  listen.command = [&](int port) {
    ProcessSpec spec;
    spec.binary = kPostgres;
    spec.args = {"-D", data_dir, "-p", absl::StrCat(port), "-c",
                 "listen_addresses=127.0.0.1", "-c",
                 absl::StrCat("unix_socket_directories=", dir_.path()),
                 // See the header: survives a killed server, not an OS crash.
                 "-c", "fsync=off"};
    spec.args.insert(spec.args.end(), options_.extra_args.begin(),
                     options_.extra_args.end());
    spec.env = ServerEnvironment(dir_.path());
    spec.working_dir = dir_.path();
    spec.log_path = absl::StrCat(dir_.path(), "/postgres.log");
    spec.user = *user;
    return spec;
  };
  listen.ready = AcceptsSuperuser;
  listen.timeout = options_.start_timeout;
  absl::StatusOr<int> port = StartOnFreePort(process_, listen);
  absl::Status created = port.ok() ? CreateDatabase(*port) : port.status();
  if (!created.ok()) {
    process_.Stop(SIGKILL, absl::ZeroDuration()).IgnoreError();
    dir_.Remove().IgnoreError();
    return created;
  }
  port_ = *port;
  uri_ =
      absl::StrCat("postgres://", kUser, "@127.0.0.1:", port_, "/", kDatabase);
  return absl::OkStatus();
}

absl::Status PostgresServer::Stop() {
  // SIGINT is PostgreSQL's fast shutdown (see the header).
  absl::Status stopped = process_.Stop(SIGINT, kStopGrace);
  absl::Status removed = dir_.Remove();
  port_ = 0;
  uri_.clear();
  return stopped.ok() ? removed : stopped;
}

}  // namespace durable::testing
