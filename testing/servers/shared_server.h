// SharedServer<T>: one server of type T (RedisServer, MariaDbServer,
// PostgresServer) per test binary, started by the first test that asks for it
// and stopped when the binary exits.
//
// Starting a database costs seconds (MariaDB's and PostgreSQL's data
// directories are created from scratch), so the tests of one binary share a
// server; each test keeps out of the others' way with its own names (a key
// prefix, a table, a database). If the server cannot start, every test that
// asks gets the same error at once, instead of each waiting for a timeout.
//
//   absl::StatusOr<RedisServer*> redis = SharedServer<RedisServer>::Get();
//   ASSERT_TRUE(redis.ok()) << redis.status();
//   Connect((*redis)->uri());
//
// The server is stopped by a static destructor when the binary exits
// normally, and by the kernel when it is killed (ServerProcess). Call Get()
// from the test's main thread: the server's death-of-parent signal is tied to
// the thread that starts it. Thread-safe.
#ifndef DURABLE_TESTING_SERVERS_SHARED_SERVER_H_
#define DURABLE_TESTING_SERVERS_SHARED_SERVER_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace durable::testing {

template <typename T>
class SharedServer {
 public:
  static absl::StatusOr<T*> Get() {
    // Thread-safe static initialisation starts it once; the static's
    // destructor stops it at exit.
    static T server;
    static const absl::Status status = server.Start();
    if (!status.ok()) return status;
    return &server;
  }
};

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_SHARED_SERVER_H_
