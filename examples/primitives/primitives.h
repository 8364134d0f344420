// The workflow primitives examples of docs/{timers,signals,side_effects,
// select,coroutines,cancellation}.md, runnable end to end.
//
// Each Run*Example registers its workflows and activities in a fresh
// Registry, runs a Worker with `options` on `backend`, starts instances with
// a Client and checks what they return; any mismatch is an error status
// saying what differed. primitives_test.cc runs them on sqlite::memory:
// with the workflow cache on and off.
#ifndef DURABLE_EXAMPLES_PRIMITIVES_PRIMITIVES_H_
#define DURABLE_EXAMPLES_PRIMITIVES_PRIMITIVES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "durable/backend.h"
#include "durable/worker.h"

namespace examples {

absl::Status RunTimersExample(const durable::Backend& backend,
                              const durable::WorkerOptions& options);
absl::Status RunSignalsExample(const durable::Backend& backend,
                               const durable::WorkerOptions& options);
absl::Status RunSideEffectsExample(const durable::Backend& backend,
                                   const durable::WorkerOptions& options);
absl::Status RunSelectExample(const durable::Backend& backend,
                              const durable::WorkerOptions& options);
absl::Status RunCoroutinesExample(const durable::Backend& backend,
                                  const durable::WorkerOptions& options);
absl::Status RunCancellationExample(const durable::Backend& backend,
                                    const durable::WorkerOptions& options);

// How long the examples wait for a workflow result.
inline constexpr absl::Duration kResultTimeout = absl::Seconds(30);

// OK if `actual` is `expected`, otherwise an error naming `what`.
template <class T>
absl::Status Expect(const char* what, const absl::StatusOr<T>& actual,
                    const T& expected) {
  if (!actual.ok()) {
    return absl::InternalError(
        absl::StrCat(what, ": ", actual.status().ToString()));
  }
  if (!(*actual == expected)) {
    return absl::InternalError(
        absl::StrCat(what, ": got ", *actual, ", want ", expected));
  }
  return absl::OkStatus();
}

}  // namespace examples

#endif  // DURABLE_EXAMPLES_PRIMITIVES_PRIMITIVES_H_
