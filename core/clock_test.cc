#include "core/clock.h"

#include "gtest/gtest.h"

namespace durable::core {
namespace {

TEST(ClockTest, RealClockFollowsAbslNow) {
  const absl::Time before = absl::Now();
  const absl::Time read = Clock::Real().Now();
  EXPECT_LE(before, read);
  EXPECT_LE(read, absl::Now());
  EXPECT_EQ(&Clock::Real(), &Clock::Real());
}

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  const absl::Time start = absl::FromUnixSeconds(1'700'000'000);
  ManualClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(absl::Hours(24));
  EXPECT_EQ(clock.Now(), start + absl::Hours(24));
  clock.Set(start - absl::Seconds(1));
  EXPECT_EQ(clock.Now(), start - absl::Seconds(1));
}

}  // namespace
}  // namespace durable::core
