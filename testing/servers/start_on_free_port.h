// StartOnFreePort: launches a server on a free port of 127.0.0.1 and waits
// until a client can use it.
//
// PickFreePort's port is not reserved, so another process can take it before
// the server binds; when the server then exits saying "Address already in
// use", the launch is retried on a new port (a few times). Any other failure
// is returned at once: an error naming the binary, the last error the probe
// saw, and the tail of the server's log.
#ifndef DURABLE_TESTING_SERVERS_START_ON_FREE_PORT_H_
#define DURABLE_TESTING_SERVERS_START_ON_FREE_PORT_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testing/servers/server_process.h"

namespace durable::testing {

struct ListenSpec {
  // The command that serves on `port`.
  std::function<ProcessSpec(int port)> command;
  // Whether a client can use the server on `port` yet; may set `error` to
  // the reason it cannot (kept for the error message).
  std::function<bool(int port, std::string& error)> ready;
  absl::Duration timeout;
};

// Returns the port the server listens on. On failure `process` is stopped.
absl::StatusOr<int> StartOnFreePort(ServerProcess& process,
                                    const ListenSpec& spec);

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_START_ON_FREE_PORT_H_
