#include "testing/servers/start_on_free_port.h"

#include <signal.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "testing/servers/free_port.h"

namespace durable::testing {
namespace {

constexpr int kPortAttempts = 3;

}  // namespace

absl::StatusOr<int> StartOnFreePort(ServerProcess& process,
                                    const ListenSpec& spec) {
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    absl::Status started = process.Start(spec.command(*port));
    if (!started.ok()) return started;
    std::string last_error;
    int chosen = *port;
    absl::Status ready = process.WaitUntil(
        [&] { return spec.ready(chosen, last_error); }, spec.timeout,
        absl::StrCat("accept connections on 127.0.0.1:", chosen));
    if (ready.ok()) return chosen;
    bool port_taken = process.LogShowsPortConflict();
    process.Stop(SIGKILL, absl::ZeroDuration()).IgnoreError();
    if (!port_taken || attempt == kPortAttempts) {
      if (last_error.empty()) return ready;
      return absl::Status(
          ready.code(), absl::StrCat(ready.message(), "\n(last client error: ",
                                     last_error, ")"));
    }
  }
}

}  // namespace durable::testing
