// Bad input through the facade: answers the C ABI refuses are turned into
// failures instead of being dropped, and instance ids are passed whole.
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
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

absl::Status BadMessage(ActivityContext& ctx) {
  return FailureStatus("DiskFull", "cannot write /tmp/\xff");
}

Task<absl::Status> CallsBadMessage(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity(BadMessage);
}

Task<absl::Status> FailsWithBadMessage(WorkflowContext& ctx) {
  co_return absl::InternalError("broken \xc3");
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.RegisterActivity("BadMessage", BadMessage).ok());
    ASSERT_TRUE(
        registry_.RegisterWorkflow("CallsBadMessage", CallsBadMessage).ok());
    ASSERT_TRUE(
        registry_.RegisterWorkflow("FailsWithBadMessage", FailsWithBadMessage)
            .ok());
    absl::StatusOr<Backend> backend = Backend::Open("sqlite::memory:");
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_.emplace(*backend);
    worker_.emplace(*backend_, registry_, WorkerOptions{});
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

// Refused, the activity's result used to be dropped: its lease was renewed
// forever and the workflow never finished.
TEST_F(BadInputTest, RefusedActivityResultFailsTheActivity) {
  absl::StatusOr<WorkflowInstance> instance =
      client_->CreateWorkflowInstance({}, CallsBadMessage);
  ASSERT_TRUE(instance.ok()) << instance.status();
  absl::StatusOr<nlohmann::json> result =
      client_->GetWorkflowResult<nlohmann::json>(instance->instance_id,
                                                 absl::Seconds(30));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(FailureType(result.status()), kInvalidArgumentFailure);
  EXPECT_TRUE(IsNonRetryable(result.status()));
  EXPECT_EQ(std::string(result.status().message()),
            "InvalidArgument: durable refused the result of activity "
            "\"BadMessage\": ActivityTaskResult.failed.message: not valid "
            "UTF-8 (byte 0xff at offset 28)");
}

// Refused, the workflow's completion used to be dropped the same way; now
// the workflow task fails with the reason (and is retried later).
TEST_F(BadInputTest, RefusedCompletionFailsTheWorkflowTask) {
  absl::StatusOr<WorkflowInstance> instance =
      client_->CreateWorkflowInstance({}, FailsWithBadMessage);
  ASSERT_TRUE(instance.ok()) << instance.status();
  std::string failure;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (failure.empty() && absl::Now() < deadline) {
    absl::StatusOr<v1::WorkflowInstanceState> state =
        client_->GetWorkflowInstanceState(instance->instance_id);
    ASSERT_TRUE(state.ok()) << state.status();
    failure = state->last_task_failure().message();
    if (failure.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(failure,
              HasSubstr("durable refused the workflow's completion: "
                        "WorkflowActivationCompletion.successful.commands[0]"
                        ".fail_workflow.failure.message: not valid UTF-8 "
                        "(byte 0xc3 at offset 7)"));
}

TEST_F(BadInputTest, InstanceIdsArePassedWhole) {
  const std::string nul_id("a\0b", 3);
  absl::StatusOr<WorkflowInstance> created = client_->CreateWorkflowInstance(
      {.instance_id = nul_id}, FailsWithBadMessage);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(created.status().message()),
            "CreateWorkflowInstanceRequest.instance_id: an instance id cannot "
            "contain NUL (found at offset 1)");
  ASSERT_TRUE(
      client_->CreateWorkflowInstance({.instance_id = "a"}, FailsWithBadMessage)
          .ok());
  // "a\0b" used to reach the instance "a".
  for (absl::Status status :
       {client_->GetWorkflowInstanceState(nul_id).status(),
        client_->CancelWorkflowInstance(nul_id, "why"),
        client_->GetWorkflowHistory(nul_id).status(),
        client_->ListWorkflowExecutions(nul_id).status(),
        client_->WaitForWorkflowResult(nul_id, absl::ZeroDuration())
            .status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(std::string(status.message()),
              "instance_id: an instance id cannot contain NUL (found at "
              "offset 1)");
  }
  // And a cancel reason is passed whole too (NUL is valid text).
  EXPECT_TRUE(
      client_->CancelWorkflowInstance("a", std::string("x\0y", 3)).ok());
}

}  // namespace
}  // namespace durable
