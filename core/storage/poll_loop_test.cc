#include "core/storage/poll_loop.h"

#include <atomic>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/storage/change_notifier.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

// A wait the loop must not sit out: tests that pass return long before it.
constexpr absl::Duration kLong = absl::Seconds(30);
// How long a test may take in real time before it counts as "waited".
constexpr absl::Duration kPrompt = absl::Seconds(5);

class PollLoopTest : public ::testing::Test {
 protected:
  PollLoopOptions Options(absl::Duration recheck_interval) {
    PollLoopOptions options;
    options.clock = &clock_;
    options.notifier = &notifier_;
    options.recheck_interval = recheck_interval;
    return options;
  }

  ManualClock clock_{absl::FromUnixSeconds(1000)};
  ChangeNotifier notifier_;
};

TEST_F(PollLoopTest, ReturnsWhatTheFirstAttemptFinds) {
  int attempts = 0;
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() + kLong, nullptr,
                [&](absl::Time* next_due) -> absl::StatusOr<bool> {
                  EXPECT_EQ(*next_due, absl::InfiniteFuture());
                  ++attempts;
                  return true;
                });
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, PollOutcome::kFound);
  EXPECT_EQ(attempts, 1);
}

TEST_F(PollLoopTest, StopIsCheckedBeforeLooking) {
  std::atomic<bool> stop{true};
  int attempts = 0;
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() + kLong, &stop,
                [&](absl::Time*) -> absl::StatusOr<bool> {
                  ++attempts;
                  return true;
                });
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, PollOutcome::kStopped);
  EXPECT_EQ(attempts, 0);
}

TEST_F(PollLoopTest, PastDeadlineLooksOnceWithoutWaiting) {
  int attempts = 0;
  const absl::Time started = absl::Now();
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() - absl::Seconds(1), nullptr,
                [&](absl::Time*) -> absl::StatusOr<bool> {
                  ++attempts;
                  return false;
                });
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, PollOutcome::kDeadline);
  EXPECT_EQ(attempts, 1);
  EXPECT_LT(absl::Now() - started, kPrompt);
}

TEST_F(PollLoopTest, AnAttemptErrorEndsTheLoop) {
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() + kLong, nullptr,
                [&](absl::Time*) -> absl::StatusOr<bool> {
                  return absl::DataLossError("bad row");
                });
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kDataLoss);
}

// The deadline is a time of the store's clock, not of the wall.
TEST_F(PollLoopTest, DeadlineIsJudgedOnTheClock) {
  int attempts = 0;
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() + absl::Seconds(1), nullptr,
                [&](absl::Time*) -> absl::StatusOr<bool> {
                  ++attempts;
                  clock_.Advance(absl::Seconds(2));
                  return false;
                });
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, PollOutcome::kDeadline);
  EXPECT_EQ(attempts, 1);
}

// The generation is read before the look: a commit that lands while the
// attempt runs (after it looked) wakes the loop at once.
TEST_F(PollLoopTest, ANotificationDuringTheAttemptIsNotLost) {
  int attempts = 0;
  const absl::Time started = absl::Now();
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() + kLong, nullptr,
                [&](absl::Time*) -> absl::StatusOr<bool> {
                  if (++attempts == 1) {
                    notifier_.Notify();
                    return false;
                  }
                  return true;
                });
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, PollOutcome::kFound);
  EXPECT_EQ(attempts, 2);
  EXPECT_LT(absl::Now() - started, kPrompt);
}

// The generation is read anew before every look: once a notification woke
// the loop, its next wait blocks again until something else changes, instead
// of returning at once for the change it has already seen.
TEST_F(PollLoopTest, WaitsAgainAfterAWakeUp) {
  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0};
  std::thread stopper([&] {
    while (attempts.load() < 2) std::this_thread::yield();
    // A window in which a loop that does not wait would look again; a loop
    // that waits is still waiting when it closes.
    absl::SleepFor(absl::Milliseconds(200));
    stop.store(true);
    notifier_.Notify();
  });
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() + kLong, &stop,
                [&](absl::Time*) -> absl::StatusOr<bool> {
                  if (attempts.fetch_add(1) == 0) notifier_.Notify();
                  return false;
                });
  stopper.join();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, PollOutcome::kStopped);
  EXPECT_EQ(attempts.load(), 2) << "the loop looked again without a change";
}

TEST_F(PollLoopTest, WakesAtTheNextDueTime) {
  int attempts = 0;
  const absl::Time started = absl::Now();
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() + kLong, nullptr,
                [&](absl::Time* next_due) -> absl::StatusOr<bool> {
                  if (++attempts == 1) {
                    *next_due = clock_.Now() + absl::Milliseconds(20);
                    return false;
                  }
                  return true;
                });
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, PollOutcome::kFound);
  EXPECT_EQ(attempts, 2);
  EXPECT_LT(absl::Now() - started, kPrompt);
}

// Work committed by another process bumps no notifier of this one: the loop
// looks again after the re-check interval, even on a clock that stands
// still.
TEST_F(PollLoopTest, RechecksAfterTheInterval) {
  int attempts = 0;
  const absl::Time started = absl::Now();
  absl::StatusOr<PollOutcome> outcome = PollUntil(
      Options(absl::Milliseconds(10)), clock_.Now() + kLong, nullptr,
      [&](absl::Time*) -> absl::StatusOr<bool> { return ++attempts == 3; });
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, PollOutcome::kFound);
  EXPECT_EQ(attempts, 3);
  EXPECT_LT(absl::Now() - started, kPrompt);
}

// Store::Interrupt: set the stop flag, then bump the notifier.
TEST_F(PollLoopTest, InterruptStopsABlockedPoll) {
  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0};
  std::thread interrupter([&] {
    while (attempts.load() == 0) std::this_thread::yield();
    stop.store(true);
    notifier_.Notify();
  });
  const absl::Time started = absl::Now();
  absl::StatusOr<PollOutcome> outcome =
      PollUntil(Options(kLong), clock_.Now() + kLong, &stop,
                [&](absl::Time*) -> absl::StatusOr<bool> {
                  ++attempts;
                  return false;
                });
  interrupter.join();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, PollOutcome::kStopped);
  EXPECT_LT(absl::Now() - started, kPrompt);
}

}  // namespace
}  // namespace durable::core
