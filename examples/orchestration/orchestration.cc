// The examples of docs/orchestration.md: sub-workflows, continue-as-new,
// retries, heartbeats, queues, typed errors, versioning and history limits,
// runnable end to end (orchestration_test.cc).
#include "examples/orchestration/orchestration.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "durable/activity_context.h"
#include "durable/cancellation.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/options.h"
#include "durable/payload.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"

namespace examples {
namespace {

// --- sub-workflows -----------------------------------------------------------

durable::Task<int> SleepySubWorkflow(durable::WorkflowContext& ctx, int value) {
  absl::Status slept = co_await ctx.Sleep(absl::Seconds(10));
  co_return durable::IsCanceled(slept) ? value * 10 : value;
}

durable::Task<absl::StatusOr<int>> ParentWorkflow(durable::WorkflowContext& ctx,
                                                  std::string prefix) {
  durable::Future<int> a = ctx.CreateSubWorkflowInstance(
      {.instance_id = prefix + "-a"}, SleepySubWorkflow, 1);
  durable::Future<int> b = ctx.CreateSubWorkflowInstance(
      {.instance_id = prefix + "-b"}, SleepySubWorkflow, 2);
  absl::StatusOr<int> ra = co_await a;
  if (!ra.ok()) co_return ra.status();
  absl::StatusOr<int> rb = co_await b;
  if (!rb.ok()) co_return rb.status();
  co_return *ra + *rb;
}

durable::Task<absl::StatusOr<bool>> CancelsSubWorkflowAtOnce(
    durable::WorkflowContext& ctx) {
  auto [child_ctx, cancel] = durable::WithCancel(ctx);
  durable::Future<int> sub_workflow = child_ctx.CreateSubWorkflowInstance(
      {.instance_id = "never-runs"}, SleepySubWorkflow, 1);
  cancel();
  absl::StatusOr<int> result = co_await sub_workflow;
  co_return durable::IsCanceled(result.status());
}

// --- continue-as-new
// -----------------------------------------------------------

durable::Task<absl::StatusOr<int>> Countdown(durable::WorkflowContext& ctx,
                                             int n, int total) {
  if (n > 0) {
    co_return ctx.ContinueAsNew({.remove_previous_executions = true}, n - 1,
                                total + n);
  }
  co_return total;
}

// --- retries and heartbeats
// ------------------------------------------------------

absl::StatusOr<int> Flaky(durable::ActivityContext& ctx) {
  if (ctx.Attempt() < 2) {
    return durable::FailureStatus("Flaky",
                                  absl::StrCat("attempt ", ctx.Attempt()));
  }
  return ctx.Attempt();
}

durable::Task<absl::StatusOr<int>> RetryWorkflow(
    durable::WorkflowContext& ctx) {
  const durable::ActivityOptions options{
      .retry_policy = {.maximum_attempts = 4,
                       .initial_interval = absl::Milliseconds(10),
                       .backoff_coefficient = 2.0,
                       .non_retryable_error_types = {"PaymentDeclined"}}};
  co_return co_await ctx.ExecuteActivity(options, Flaky);
}

absl::StatusOr<int> Train(durable::ActivityContext& ctx, int epochs) {
  for (int epoch = 0; epoch < epochs; ++epoch) {
    absl::SleepFor(absl::Milliseconds(20));  // one epoch of work
    if (absl::Status s = ctx.Heartbeat(epoch); !s.ok()) return s;
  }
  return epochs;
}

durable::Task<absl::StatusOr<int>> TrainWorkflow(durable::WorkflowContext& ctx,
                                                 int epochs) {
  const durable::ActivityOptions options{
      .queue = "gpu",
      .retry_policy = {.maximum_attempts = 3},
      .start_to_close_timeout = absl::Minutes(10),
      .heartbeat_timeout = absl::Milliseconds(500)};
  absl::StatusOr<int> trained =
      co_await ctx.ExecuteActivity(options, Train, epochs);
  if (durable::IsTimeout(trained.status())) {
    ctx.Logf("training timed out: %s", trained.status().message());
  }
  co_return trained;
}

// --- typed errors
// ------------------------------------------------------------------

absl::Status Charge(durable::ActivityContext&, int cents) {
  return durable::FailureStatus(
      "PaymentDeclined", absl::StrCat("card expired (", cents, " cents)"));
}

durable::Task<absl::Status> OrderWorkflow(durable::WorkflowContext& ctx) {
  absl::Status charged = co_await ctx.ExecuteActivity(Charge, 250);
  if (durable::IsTimeout(charged) || durable::IsCanceled(charged)) {
    co_return charged;
  }
  if (durable::FailureType(charged) == "PaymentDeclined") {
    co_return durable::FailureStatus("OrderFailed", "could not charge",
                                     durable::JsonPayload(R"({"order":7})"),
                                     charged);
  }
  co_return charged;
}

// --- versioning
// ----------------------------------------------------------------------

int Add(durable::ActivityContext&, int a, int b) { return a + b; }

durable::Task<absl::StatusOr<int>> VersionedWorkflow(
    durable::WorkflowContext& ctx) {
  int extra = 0;
  if (ctx.Patched("extra-activity")) {
    absl::StatusOr<int> e = co_await ctx.ExecuteActivity(Add, 100, 0);
    if (!e.ok()) co_return e.status();
    extra = *e;
  }
  absl::StatusOr<int> a = co_await ctx.ExecuteActivity(Add, 1, 2);
  if (!a.ok()) co_return a.status();
  co_return *a + extra;
}

// --- limits
// --------------------------------------------------------------------------

durable::Task<absl::StatusOr<int>> Runaway(durable::WorkflowContext& ctx) {
  int total = 0;
  while (true) {
    absl::StatusOr<int> r = co_await ctx.ExecuteActivity(Add, total, 1);
    if (!r.ok()) co_return r.status();
    total = *r;
  }
}

absl::Status Register(durable::Registry& registry) {
  absl::Status status =
      registry.RegisterWorkflow("SleepySubWorkflow", SleepySubWorkflow);
  status.Update(registry.RegisterWorkflow("ParentWorkflow", ParentWorkflow));
  status.Update(registry.RegisterWorkflow("CancelsSubWorkflowAtOnce",
                                          CancelsSubWorkflowAtOnce));
  status.Update(registry.RegisterWorkflow("Countdown", Countdown));
  status.Update(registry.RegisterActivity("Flaky", Flaky));
  status.Update(registry.RegisterWorkflow("RetryWorkflow", RetryWorkflow));
  status.Update(registry.RegisterActivity("Train", Train));
  status.Update(registry.RegisterWorkflow("TrainWorkflow", TrainWorkflow));
  status.Update(registry.RegisterActivity("Charge", Charge));
  status.Update(registry.RegisterWorkflow("OrderWorkflow", OrderWorkflow));
  status.Update(registry.RegisterActivity("Add", Add));
  status.Update(
      registry.RegisterWorkflow("VersionedWorkflow", VersionedWorkflow));
  status.Update(registry.RegisterWorkflow("Runaway", Runaway));
  return status;
}

template <class T>
absl::Status Expect(const char* what, const absl::StatusOr<T>& actual,
                    const T& expected) {
  if (!actual.ok())
    return absl::InternalError(
        absl::StrCat(what, ": ", actual.status().ToString()));
  if (*actual != expected) {
    return absl::InternalError(absl::StrCat(what, ": unexpected result"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunOrchestrationExample(const durable::Backend& backend,
                                     durable::WorkerOptions options) {
  durable::Registry registry;
  if (absl::Status s = Register(registry); !s.ok()) return s;
  options.queues = {"default", "gpu"};
  options.max_history_length = 40;
  durable::Worker worker(backend, registry, options);
  if (absl::Status s = worker.Start(); !s.ok()) return s;
  durable::Client client(backend, &registry);
  const absl::Duration timeout = absl::Seconds(30);

  // Sub-workflows: cancel the parent once both sub-workflows sleep.
  absl::StatusOr<durable::WorkflowInstance> parent =
      client.CreateWorkflowInstance({.instance_id = "parent"}, ParentWorkflow,
                                    "sleeper");
  if (!parent.ok()) return parent.status();
  for (absl::Time deadline = absl::Now() + timeout; absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(10))) {
    absl::StatusOr<std::vector<durable::v1::HistoryEvent>> b =
        client.GetWorkflowHistory("sleeper-b");
    if (b.ok() && b->size() >= 3) break;
  }
  if (absl::Status s = client.CancelWorkflowInstance("parent"); !s.ok()) {
    return s;
  }
  absl::Status status =
      Expect("parent", client.GetWorkflowResult<int>("parent", timeout), 30);

  auto run = [&](const char* what, auto workflow, auto expected, auto... args) {
    absl::StatusOr<durable::WorkflowInstance> instance =
        client.CreateWorkflowInstance({}, workflow, args...);
    if (!instance.ok()) return instance.status();
    return Expect(what,
                  client.GetWorkflowResult<decltype(expected)>(
                      instance->instance_id, timeout),
                  expected);
  };
  status.Update(
      run("CancelsSubWorkflowAtOnce", CancelsSubWorkflowAtOnce, true));
  status.Update(run("Countdown", Countdown, 6, 3, 0));
  status.Update(run("RetryWorkflow", RetryWorkflow, 2));
  status.Update(run("TrainWorkflow", TrainWorkflow, 5, 5));
  status.Update(run("VersionedWorkflow", VersionedWorkflow, 103));

  absl::StatusOr<durable::WorkflowInstance> order =
      client.CreateWorkflowInstance({}, OrderWorkflow);
  if (!order.ok()) return order.status();
  absl::StatusOr<durable::v1::Payload> failed =
      client.WaitForWorkflowResult(order->instance_id, timeout);
  std::optional<durable::v1::Failure> failure =
      durable::FailureFromStatus(failed.status());
  if (!failure || failure->type() != "OrderFailed" ||
      failure->cause().type() != "PaymentDeclined") {
    status.Update(absl::InternalError(
        absl::StrCat("OrderWorkflow: ", failed.status().ToString())));
  }

  absl::StatusOr<durable::WorkflowInstance> runaway =
      client.CreateWorkflowInstance({}, Runaway);
  if (!runaway.ok()) return runaway.status();
  absl::StatusOr<int> limited =
      client.GetWorkflowResult<int>(runaway->instance_id, timeout);
  if (durable::FailureType(limited.status()) != "HistoryLimitExceeded") {
    status.Update(absl::InternalError(
        absl::StrCat("Runaway: ", limited.status().ToString())));
  }
  status.Update(worker.Stop());
  return status;
}

}  // namespace examples
