// PickFreePort: a TCP port on 127.0.0.1 that nothing listens on right now.
//
// The kernel chooses it (bind to port 0), so concurrent tests on one machine
// get different ports without coordinating. The port is not reserved: another
// process may take it before the server binds it, so the launchers retry with
// a new port when a server exits with "Address already in use".
#ifndef DURABLE_TESTING_SERVERS_FREE_PORT_H_
#define DURABLE_TESTING_SERVERS_FREE_PORT_H_

#include "absl/status/statusor.h"

namespace durable::testing {

absl::StatusOr<int> PickFreePort();

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SERVERS_FREE_PORT_H_
