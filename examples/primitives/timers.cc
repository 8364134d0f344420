// Timers: ScheduleTimer/Sleep, and canceling a timer through its context.
// Shown in docs/timers.md.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "durable/cancellation.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "examples/primitives/primitives.h"

namespace examples {
namespace {

// Sleeps, then reports how far workflow time moved meanwhile.
durable::Task<absl::StatusOr<int64_t>> SleepWorkflow(
    durable::WorkflowContext& ctx) {
  const absl::Time before = ctx.Now();
  absl::Status slept = co_await ctx.Sleep(absl::Milliseconds(300));
  if (!slept.ok()) co_return slept;
  co_return absl::ToInt64Milliseconds(ctx.Now() - before);
}

// Starts a day-long reminder and cancels it before it fires.
durable::Task<std::string> CancelTimerWorkflow(durable::WorkflowContext& ctx) {
  auto [reminder_ctx, cancel_reminder] = durable::WithCancel(ctx);
  durable::Future<void> reminder =
      reminder_ctx.ScheduleTimer(absl::Hours(24), "reminder");
  absl::Status slept = co_await ctx.Sleep(absl::Milliseconds(100));
  cancel_reminder();  // issues CancelTimer
  cancel_reminder();  // harmless
  absl::Status status = co_await reminder;
  co_return std::string(absl::StatusCodeToString(status.code()));  // CANCELLED
}

}  // namespace

absl::Status RunTimersExample(const durable::Backend& backend,
                              const durable::WorkerOptions& options) {
  durable::Registry registry;
  absl::Status status =
      registry.RegisterWorkflow("SleepWorkflow", SleepWorkflow);
  status.Update(
      registry.RegisterWorkflow("CancelTimerWorkflow", CancelTimerWorkflow));
  if (!status.ok()) return status;
  durable::Worker worker(backend, registry, options);
  if (status = worker.Start(); !status.ok()) return status;
  durable::Client client(backend, &registry);

  absl::StatusOr<durable::WorkflowInstance> sleeper =
      client.CreateWorkflowInstance({}, SleepWorkflow);
  if (!sleeper.ok()) return sleeper.status();
  absl::StatusOr<int64_t> elapsed_ms =
      client.GetWorkflowResult<int64_t>(sleeper->instance_id, kResultTimeout);
  if (!elapsed_ms.ok()) return elapsed_ms.status();
  if (*elapsed_ms < 300) {
    return absl::InternalError(absl::StrCat("workflow time advanced by ",
                                            *elapsed_ms, " ms, want >= 300"));
  }

  absl::StatusOr<durable::WorkflowInstance> canceler =
      client.CreateWorkflowInstance({}, CancelTimerWorkflow);
  if (!canceler.ok()) return canceler.status();
  status = Expect("canceled timer",
                  client.GetWorkflowResult<std::string>(canceler->instance_id,
                                                        kResultTimeout),
                  std::string("CANCELLED"));
  if (!status.ok()) return status;
  // History keeps the scheduled+canceled pair of the reminder.
  absl::StatusOr<std::vector<durable::v1::HistoryEvent>> history =
      client.GetWorkflowHistory(canceler->instance_id);
  if (!history.ok()) return history.status();
  int scheduled = 0, canceled = 0;
  for (const durable::v1::HistoryEvent& event : *history) {
    scheduled += event.has_timer_scheduled();
    canceled += event.has_timer_canceled();
  }
  if (scheduled != 2 || canceled != 1) {
    return absl::InternalError(
        absl::StrCat("history has ", scheduled, " TimerScheduled and ",
                     canceled, " TimerCanceled events, want 2 and 1"));
  }
  return worker.Stop();
}

}  // namespace examples
