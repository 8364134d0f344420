#include "core/retry_policy.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

v1::Failure Failure(const std::string& type, bool non_retryable = false) {
  v1::Failure failure;
  failure.set_type(type);
  failure.set_non_retryable(non_retryable);
  return failure;
}

TEST(RetryPolicyTest, NoPolicyMeansNoRetry) {
  EXPECT_FALSE(NextRetryDelay({}, 0, Failure("x"), kT0, kT0).has_value());
}

TEST(RetryPolicyTest, ExponentialBackoffCappedByMaximumInterval) {
  v1::RetryPolicy policy;
  policy.set_maximum_attempts(10);
  policy.set_initial_interval_us(100'000);
  policy.set_backoff_coefficient(3);
  policy.set_maximum_interval_us(1'000'000);
  EXPECT_EQ(*NextRetryDelay(policy, 0, Failure("x"), kT0, kT0),
            absl::Milliseconds(100));
  EXPECT_EQ(*NextRetryDelay(policy, 1, Failure("x"), kT0, kT0),
            absl::Milliseconds(300));
  EXPECT_EQ(*NextRetryDelay(policy, 2, Failure("x"), kT0, kT0),
            absl::Milliseconds(900));
  EXPECT_EQ(*NextRetryDelay(policy, 3, Failure("x"), kT0, kT0),
            absl::Seconds(1));
}

TEST(RetryPolicyTest, AttemptsRunOut) {
  v1::RetryPolicy policy;
  policy.set_maximum_attempts(3);
  EXPECT_TRUE(NextRetryDelay(policy, 1, Failure("x"), kT0, kT0).has_value());
  EXPECT_FALSE(NextRetryDelay(policy, 2, Failure("x"), kT0, kT0).has_value());
}

TEST(RetryPolicyTest, NonRetryableFailuresAreFinal) {
  v1::RetryPolicy policy;
  policy.set_maximum_attempts(5);
  policy.add_non_retryable_error_types("PaymentDeclined");
  EXPECT_FALSE(NextRetryDelay(policy, 0, Failure("PaymentDeclined"), kT0, kT0));
  EXPECT_FALSE(NextRetryDelay(policy, 0, Failure("x", true), kT0, kT0));
  EXPECT_TRUE(NextRetryDelay(policy, 0, Failure("Flaky"), kT0, kT0));
}

TEST(RetryPolicyTest, OverallTimeoutStopsRetries) {
  v1::RetryPolicy policy;
  policy.set_maximum_attempts(100);
  policy.set_initial_interval_us(1'000'000);
  policy.set_timeout_us(5'000'000);
  EXPECT_TRUE(
      NextRetryDelay(policy, 0, Failure("x"), kT0, kT0 + absl::Seconds(3)));
  EXPECT_FALSE(NextRetryDelay(policy, 0, Failure("x"), kT0,
                              kT0 + absl::Seconds(4) + absl::Milliseconds(1)));
}

TEST(RetryPolicyTest, DelaysNeverOverflowPastTheMaximumInterval) {
  v1::RetryPolicy policy;
  policy.set_maximum_attempts(1'000);
  policy.set_initial_interval_us(1'000);
  policy.set_backoff_coefficient(10);
  // No maximum interval: delays stop at 100 initial intervals.
  EXPECT_EQ(*NextRetryDelay(policy, 1, Failure("x"), kT0, kT0),
            absl::Milliseconds(10));
  EXPECT_EQ(*NextRetryDelay(policy, 2, Failure("x"), kT0, kT0),
            absl::Milliseconds(100));
  EXPECT_EQ(*NextRetryDelay(policy, 900, Failure("x"), kT0, kT0),
            absl::Milliseconds(100));
  policy.set_maximum_interval_us(5'000'000);
  EXPECT_EQ(*NextRetryDelay(policy, 900, Failure("x"), kT0, kT0),
            absl::Seconds(5));
  // A coefficient that slipped past validation saturates too.
  policy.set_backoff_coefficient(std::numeric_limits<double>::infinity());
  EXPECT_EQ(*NextRetryDelay(policy, 1, Failure("x"), kT0, kT0),
            absl::Seconds(5));
  policy.set_backoff_coefficient(std::nan(""));
  EXPECT_EQ(*NextRetryDelay(policy, 1, Failure("x"), kT0, kT0),
            absl::Seconds(5));
}

TEST(RetryPolicyTest, ValidationNamesTheField) {
  v1::RetryPolicy policy;
  EXPECT_TRUE(ValidateRetryPolicy(policy, "retry_policy").ok());
  policy.set_backoff_coefficient(0.5);  // Below 1: the default.
  EXPECT_TRUE(ValidateRetryPolicy(policy, "retry_policy").ok());

  policy.set_backoff_coefficient(std::numeric_limits<double>::infinity());
  absl::Status inf = ValidateRetryPolicy(policy, "retry_policy");
  EXPECT_EQ(inf.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(inf.message(),
            "retry_policy.backoff_coefficient is inf; it must be a finite "
            "number of at least 1 (0 means the default, 2)");
  policy.set_backoff_coefficient(std::nan(""));
  EXPECT_THAT(std::string(ValidateRetryPolicy(policy, "p").message()),
              ::testing::StartsWith("p.backoff_coefficient is NaN;"));

  policy.set_backoff_coefficient(2);
  policy.set_maximum_attempts(-1);
  EXPECT_THAT(std::string(ValidateRetryPolicy(policy, "p").message()),
              ::testing::StartsWith("p.maximum_attempts is -1;"));
  policy.set_maximum_attempts(3);
  policy.set_maximum_interval_us(-5);
  EXPECT_THAT(std::string(ValidateRetryPolicy(policy, "p").message()),
              ::testing::StartsWith("p.maximum_interval_us is -5;"));
}

}  // namespace
}  // namespace durable::core
