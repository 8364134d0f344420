// A C++ worker process for the Python binding's cross-language tests.
//
//   cpp_peer <backend-uri>
//
// Opens the backend and runs two C++ facade workers until stdin is closed
// (the test keeps a pipe open and closes it to stop the peer):
//  - on queue "cpp": the classic C++ Workflow1 with Activity1/Activity2 (so a
//    test can compare its history with the Python version's) and the
//    activities CppAdd and CppFail, which Python workflows call by name;
//  - on queue "mixed", workflow tasks only: CppCallsPython, a C++ workflow
//    that calls the Python activity "py_multiply" by name. Its activity task
//    is placed on "mixed" too, where only a Python activity worker polls;
//  - on queue "shared", beside a Python worker that runs other names: the
//    workflow CppShared, which calls the Python activity
//    "py_shared_activity", and the activity CppSharedActivity, which the
//    Python workflow on that queue calls.
// Prints "ready" once both workers run.
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "durable/activity_context.h"
#include "durable/backend.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"

namespace {

int Activity1(durable::ActivityContext&, int a, int b) { return a + b; }
int Activity2(durable::ActivityContext&) { return 12; }

durable::Task<absl::StatusOr<int>> Workflow1(durable::WorkflowContext& ctx,
                                             std::string input) {
  absl::StatusOr<int> r1 = co_await ctx.ExecuteActivity(Activity1, 35, 12);
  if (!r1.ok()) co_return r1.status();
  absl::StatusOr<int> r2 = co_await ctx.ExecuteActivity(Activity2);
  if (!r2.ok()) co_return r2.status();
  co_return *r1 + *r2;
}

int CppAdd(durable::ActivityContext&, int a, int b) { return a + b; }

absl::StatusOr<int> CppFail(durable::ActivityContext&, std::string why) {
  return absl::InvalidArgumentError("CppFail: " + why);
}

// Calls the Python activity py_multiply(a, b) and adds one.
durable::Task<absl::StatusOr<int>> CppCallsPython(durable::WorkflowContext& ctx,
                                                  int a, int b) {
  absl::StatusOr<int> product =
      co_await ctx.ExecuteActivity<int>("py_multiply", a, b);
  if (!product.ok()) co_return product.status();
  co_return *product + 1;
}

durable::Task<absl::StatusOr<std::string>> CppShared(
    durable::WorkflowContext& ctx) {
  absl::StatusOr<std::string> python =
      co_await ctx.ExecuteActivity<std::string>("py_shared_activity");
  if (!python.ok()) co_return python.status();
  co_return "cpp+" + *python;
}

std::string CppSharedActivity(durable::ActivityContext&) { return "cpp"; }

absl::Status Run(const std::string& uri) {
  absl::StatusOr<durable::Backend> backend = durable::Backend::Open(uri);
  if (!backend.ok()) return backend.status();

  durable::Registry cpp_registry;
  absl::Status status = cpp_registry.RegisterWorkflow("Workflow1", Workflow1);
  status.Update(cpp_registry.RegisterActivity("Activity1", Activity1));
  status.Update(cpp_registry.RegisterActivity("Activity2", Activity2));
  status.Update(cpp_registry.RegisterActivity("CppAdd", CppAdd));
  status.Update(cpp_registry.RegisterActivity("CppFail", CppFail));
  durable::Registry mixed_registry;
  status.Update(
      mixed_registry.RegisterWorkflow("CppCallsPython", CppCallsPython));
  durable::Registry shared_registry;
  status.Update(shared_registry.RegisterWorkflow("CppShared", CppShared));
  status.Update(
      shared_registry.RegisterActivity("CppSharedActivity", CppSharedActivity));
  if (!status.ok()) return status;

  durable::WorkerOptions cpp_options;
  cpp_options.queues = {"cpp"};
  durable::Worker cpp_worker(*backend, cpp_registry, cpp_options);
  if (status = cpp_worker.Start(); !status.ok()) return status;

  durable::WorkerOptions mixed_options;
  mixed_options.queues = {"mixed"};
  mixed_options.activity_pollers = 0;
  durable::Worker mixed_worker(*backend, mixed_registry, mixed_options);
  if (status = mixed_worker.Start(); !status.ok()) return status;

  durable::WorkerOptions shared_options;
  shared_options.queues = {"shared"};
  durable::Worker shared_worker(*backend, shared_registry, shared_options);
  if (status = shared_worker.Start(); !status.ok()) return status;

  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  status = shared_worker.Stop();
  status.Update(mixed_worker.Stop());
  status.Update(cpp_worker.Stop());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cpp_peer <backend-uri>" << std::endl;
    return 2;
  }
  if (absl::Status status = Run(argv[1]); !status.ok()) {
    std::cerr << "cpp_peer: " << status << std::endl;
    return 1;
  }
  return 0;
}
