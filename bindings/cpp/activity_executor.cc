#include "durable/internal/activity_executor.h"

#include <exception>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "durable/activity_context.h"
#include "durable/failure.h"

namespace durable::internal {

v1::ActivityTaskResult ExecuteActivityTask(
    const Registry& registry, const v1::ActivityTask& task,
    ActivityContext::HeartbeatFn heartbeat) {
  v1::ActivityTaskResult result;
  result.set_task_token(task.task_token());
  absl::StatusOr<v1::Payload> outcome;
  if (const Registry::ActivityInvoker* invoke =
          registry.FindActivity(task.activity_name())) {
    ActivityContext ctx(task, std::move(heartbeat));
    try {
      outcome = (*invoke)(ctx, task.arguments());
    } catch (const std::exception& e) {
      // The wrappers catch user exceptions; this guards the wrapper itself
      // (std::bad_alloc, say): nothing may unwind into the engine.
      outcome = PanicStatus(e);
    } catch (...) {
      outcome = UnknownPanicStatus();
    }
  } else {
    std::vector<std::string> names = registry.ActivityNames();
    // No retry can make it appear here: final, whatever the policy says.
    outcome = NonRetryableFailureStatus(
        kActivityNotRegisteredFailure,
        absl::StrCat("activity \"", task.activity_name(),
                     "\" is not registered with this worker (registered: ",
                     names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  if (outcome.ok()) {
    *result.mutable_completed() = *std::move(outcome);
  } else {
    *result.mutable_failed() = *FailureFromStatus(outcome.status());
  }
  return result;
}

}  // namespace durable::internal
