#include "core/retry_policy.h"

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

}  // namespace
}  // namespace durable::core
