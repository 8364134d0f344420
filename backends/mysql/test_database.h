// TestDatabase: a fresh, empty database for one test on the test binary's
// shared MariaDB server (testing/servers/shared_server.h), so that tests
// sharing the server never see each other's rows.
#ifndef DURABLE_BACKENDS_MYSQL_TEST_DATABASE_H_
#define DURABLE_BACKENDS_MYSQL_TEST_DATABASE_H_

#include "absl/status/statusor.h"
#include "backends/mysql/connection.h"

namespace durable::backends::mysql {

// Starts the shared server on first use (call from the main thread), creates
// a database with a name of its own (dropping one left from an earlier run)
// and returns options that connect to it as root.
absl::StatusOr<ConnectOptions> FreshTestDatabase();

}  // namespace durable::backends::mysql

#endif  // DURABLE_BACKENDS_MYSQL_TEST_DATABASE_H_
