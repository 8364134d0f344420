// Starts a private PostgreSQL server and talks to it with libpq, the client
// library of the PostgreSQL backend: a query, and the LISTEN/NOTIFY round trip
// the backend's cross-process wake-ups rely on. Checks the launcher's
// lifecycle guarantees, including that a fast shutdown with a client still
// connected leaves no backend process behind.
#include "testing/servers/postgres_server.h"

#include <poll.h>
#include <postgresql/libpq-fe.h>

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/servers/lifecycle_checks.h"
#include "testing/servers/process_table.h"
#include "testing/servers/shared_server.h"

namespace durable::testing {
namespace {

struct ConnectionFinish {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnectionFinish>;

Connection Connect(const std::string& uri) {
  Connection connection(PQconnectdb(uri.c_str()));
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "connect to " << uri << ": "
                  << PQerrorMessage(connection.get());
    return nullptr;
  }
  return connection;
}

// The single value `query` returns ("" on error, which is reported).
std::string QueryValue(PGconn* connection, const std::string& query) {
  PGresult* result = PQexec(connection, query.c_str());
  std::string value;
  if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1) {
    value = PQgetvalue(result, 0, 0);
  } else {
    ADD_FAILURE() << query << ": " << PQresultErrorMessage(result);
  }
  PQclear(result);
  return value;
}

void Execute(PGconn* connection, const std::string& statement) {
  PGresult* result = PQexec(connection, statement.c_str());
  EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK)
      << statement << ": " << PQresultErrorMessage(result);
  PQclear(result);
}

PostgresServer* Shared() {
  absl::Time start = absl::Now();
  absl::StatusOr<PostgresServer*> server = SharedServer<PostgresServer>::Get();
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return nullptr;
  }
  static bool first = true;  // later calls find it running
  if (std::exchange(first, false)) {
    std::cout << "[timing] shared postgres ready in "
              << absl::FormatDuration(absl::Now() - start) << std::endl;
  }
  return *server;
}

TEST(PostgresServerTest, AnswersSelectOneInTheTestDatabase) {
  PostgresServer* server = Shared();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->uri(), absl::StrCat("postgres://postgres@127.0.0.1:",
                                        server->port(), "/durable_test"));
  Connection connection = Connect(server->uri());
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(QueryValue(connection.get(), "SELECT 1"), "1");
  EXPECT_EQ(QueryValue(connection.get(), "SELECT current_database()"),
            "durable_test");
  EXPECT_EQ(QueryValue(connection.get(), "SHOW listen_addresses"), "127.0.0.1");
  EXPECT_GE(PQserverVersion(connection.get()), 150000);
}

// One connection listens, another notifies; the listener's socket becomes
// readable and the notification carries the channel and payload. This is how
// a worker will block for work committed by another process.
TEST(PostgresServerTest, ListenNotifyRoundTrip) {
  PostgresServer* server = Shared();
  ASSERT_NE(server, nullptr);
  Connection listener = Connect(server->uri());
  Connection notifier = Connect(server->uri());
  ASSERT_NE(listener, nullptr);
  ASSERT_NE(notifier, nullptr);
  Execute(listener.get(), "LISTEN durable_wakeup");
  absl::Time sent = absl::Now();
  Execute(notifier.get(), "NOTIFY durable_wakeup, 'queue-1'");

  PGnotify* notify = nullptr;
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (notify == nullptr && absl::Now() < deadline) {
    pollfd readable{PQsocket(listener.get()), POLLIN, 0};
    poll(&readable, 1, 100);
    ASSERT_EQ(PQconsumeInput(listener.get()), 1)
        << PQerrorMessage(listener.get());
    notify = PQnotifies(listener.get());
  }
  ASSERT_NE(notify, nullptr) << "no notification within 5s";
  std::cout << "[timing] NOTIFY delivered in "
            << absl::FormatDuration(absl::Now() - sent) << std::endl;
  EXPECT_STREQ(notify->relname, "durable_wakeup");
  EXPECT_STREQ(notify->extra, "queue-1");
  EXPECT_NE(notify->be_pid, PQbackendPID(listener.get()));
  PQfreemem(notify);
}

// With a client connected the server has a backend process; Stop() must not
// wait for the client, and must leave no backend behind.
TEST(PostgresServerTest, StopLeavesNoProcessAndNoDirectory) {
  Connection client;
  ExpectStopLeavesNothing<PostgresServer>(
      "postgres", [&client](PostgresServer& server) {
        client = Connect(server.uri());
        ASSERT_NE(client, nullptr);
        EXPECT_EQ(QueryValue(client.get(), "SELECT 1"), "1");
        // The client's backend is one of the server's processes.
        pid_t backend = PQbackendPID(client.get());
        bool found = false;
        for (const ProcessRef& process : ProcessTree(server.pid())) {
          found |= process.pid == backend;
        }
        EXPECT_TRUE(found) << "backend " << backend;
      });
}

TEST(PostgresServerTest, DiesWithTheProcessThatStartedIt) {
  ExpectServerDiesWithItsParent<PostgresServer>("postgres");
}

}  // namespace
}  // namespace durable::testing
