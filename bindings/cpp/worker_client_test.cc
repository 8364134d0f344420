// End to end through the C ABI: Worker and Client on an in-memory SQLite
// backend, with the run cache on and off (off replays every task from
// history, so it exercises determinism against the real engine).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/failure.h"
#include "durable/registry.h"
#include "durable/task.h"
#include "durable/worker.h"
#include "durable/workflow_context.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

int Add(ActivityContext& ctx, int a, int b) { return a + b; }
int Twelve(ActivityContext& ctx) { return 12; }
absl::Status Declined(ActivityContext& ctx) {
  return FailureStatus("PaymentDeclined", "card expired");
}
std::string Trace(ActivityContext& ctx) { return ctx.Metadata().at("trace"); }

Task<absl::StatusOr<int>> Sum(WorkflowContext& ctx, std::string input) {
  absl::StatusOr<int> r1 = co_await ctx.ExecuteActivity(Add, 35, 12);
  if (!r1.ok()) co_return r1.status();
  absl::StatusOr<int> r2 = co_await ctx.ExecuteActivity(Twelve);
  if (!r2.ok()) co_return r2.status();
  co_return *r1 + *r2;
}

Task<int> FanOut(WorkflowContext& ctx, int n) {
  std::vector<Future<int>> futures;
  for (int i = 0; i < n; ++i) futures.push_back(ctx.ExecuteActivity(Add, i, 1));
  int sum = 0;
  for (Future<int>& future : futures) sum += (co_await future).value();
  co_return sum;
}

Task<absl::Status> PropagatesFailure(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity(Declined);
}

Task<std::string> ByName(WorkflowContext& ctx) {
  absl::StatusOr<std::string> trace =
      co_await ctx.ExecuteActivity<std::string>("Trace");
  co_return trace.value_or("error");
}

class WorkerClientTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.RegisterActivity("Add", Add).ok());
    ASSERT_TRUE(registry_.RegisterActivity("Twelve", Twelve).ok());
    ASSERT_TRUE(registry_.RegisterActivity("Declined", Declined).ok());
    ASSERT_TRUE(registry_.RegisterActivity("Trace", Trace).ok());
    ASSERT_TRUE(registry_.RegisterWorkflow("Sum", Sum).ok());
    ASSERT_TRUE(registry_.RegisterWorkflow("FanOut", FanOut).ok());
    ASSERT_TRUE(
        registry_.RegisterWorkflow("PropagatesFailure", PropagatesFailure)
            .ok());
    ASSERT_TRUE(registry_.RegisterWorkflow("ByName", ByName).ok());
    absl::StatusOr<Backend> backend = Backend::Open("sqlite::memory:");
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_.emplace(*backend);
    worker_.emplace(*backend_, registry_,
                    WorkerOptions{.max_cached_workflows = GetParam()});
    ASSERT_TRUE(worker_->Start().ok());
    client_.emplace(*backend_, &registry_);
  }

  void TearDown() override {
    if (worker_.has_value()) {
      EXPECT_TRUE(worker_->Stop().ok());
    }
  }

  Registry registry_;
  std::optional<Backend> backend_;
  std::optional<Worker> worker_;
  std::optional<Client> client_;
};

TEST_P(WorkerClientTest, ActivityFailureReachesTheClient) {
  absl::StatusOr<WorkflowInstance> instance =
      client_->CreateWorkflowInstance({}, PropagatesFailure);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<nlohmann::json> result =
      client_->GetWorkflowResult<nlohmann::json>(instance->instance_id,
                                                 absl::Seconds(30));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(FailureType(result.status()), "PaymentDeclined");
  EXPECT_EQ(std::string(result.status().message()),
            "PaymentDeclined: card expired");
}

TEST_P(WorkerClientTest, MetadataAndByNameActivities) {
  absl::StatusOr<WorkflowInstance> instance = client_->CreateWorkflowInstance(
      {.instance_id = absl::StrCat("by-name-", GetParam()),
       .metadata = {{"trace", "t-42"}}},
      ByName);
  ASSERT_TRUE(instance.ok()) << instance.status();
  EXPECT_EQ(instance->instance_id, absl::StrCat("by-name-", GetParam()));
  absl::StatusOr<std::string> result = client_->GetWorkflowResult<std::string>(
      instance->instance_id, absl::Seconds(30));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "t-42");
}

TEST_P(WorkerClientTest, ClientErrors) {
  absl::StatusOr<int> result =
      client_->GetWorkflowResult<int>("no-such-instance", absl::Seconds(1));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);

  Client without_registry(*backend_);
  EXPECT_EQ(
      without_registry.CreateWorkflowInstance({}, Sum, "x").status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(BackendTest, BadUri) {
  absl::StatusOr<Backend> backend = Backend::Open("nosuch://x");
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(backend.status().message()), HasSubstr("nosuch"));
}

INSTANTIATE_TEST_SUITE_P(CacheSizes, WorkerClientTest,
                         ::testing::Values(128, 0), [](const auto& info) {
                           return absl::StrCat("cache", info.param);
                         });

}  // namespace
}  // namespace durable
