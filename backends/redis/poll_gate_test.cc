#include "backends/redis/poll_gate.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace durable::backends::redis {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1000);

// A poll that counts its calls and answers `found`, due at `due`.
struct FakePoll {
  int calls = 0;
  bool found = false;
  absl::Time due = absl::InfiniteFuture();
  absl::StatusOr<bool> operator()(absl::Time* next_due) {
    ++calls;
    if (!found) *next_due = due;
    return found;
  }
};

absl::StatusOr<bool> Ask(PollGate& gate, FakePoll& poll, uint64_t generation,
                         absl::Time now, const std::string& key = "k") {
  absl::Time next_due = absl::InfiniteFuture();
  return gate.Poll(key, generation, now, &next_due,
                   [&](absl::Time* due) { return poll(due); });
}

TEST(PollGateTest, EmptyAnswerStandsUntilSomethingIsCommitted) {
  PollGate gate(absl::Hours(1));
  FakePoll poll;
  EXPECT_FALSE(*Ask(gate, poll, 1, kNow));
  EXPECT_FALSE(*Ask(gate, poll, 1, kNow));
  EXPECT_EQ(poll.calls, 1);
  EXPECT_EQ(gate.skipped(), 1);
  EXPECT_FALSE(*Ask(gate, poll, 2, kNow));  // A commit: ask again.
  EXPECT_EQ(poll.calls, 2);
  EXPECT_FALSE(*Ask(gate, poll, 2, kNow, "other"));  // Another question.
  EXPECT_EQ(poll.calls, 3);
}

TEST(PollGateTest, EmptyAnswerEndsAtItsDueTime) {
  PollGate gate(absl::Hours(1));
  FakePoll poll;
  poll.due = kNow + absl::Seconds(5);
  absl::Time next_due = absl::InfiniteFuture();
  EXPECT_FALSE(*gate.Poll("k", 1, kNow, &next_due,
                          [&](absl::Time* due) { return poll(due); }));
  EXPECT_EQ(next_due, kNow + absl::Seconds(5));
  next_due = absl::InfiniteFuture();
  EXPECT_FALSE(*gate.Poll("k", 1, kNow + absl::Seconds(4), &next_due,
                          [&](absl::Time* due) { return poll(due); }));
  EXPECT_EQ(next_due, kNow + absl::Seconds(5));  // From the kept answer.
  EXPECT_EQ(poll.calls, 1);
  EXPECT_FALSE(*Ask(gate, poll, 1, kNow + absl::Seconds(5)));
  EXPECT_EQ(poll.calls, 2);
}

TEST(PollGateTest, FoundTaskIsNotAnAnswerForOthers) {
  PollGate gate(absl::Hours(1));
  FakePoll poll;
  poll.found = true;
  EXPECT_TRUE(*Ask(gate, poll, 1, kNow));
  EXPECT_TRUE(*Ask(gate, poll, 1, kNow));
  EXPECT_EQ(poll.calls, 2);
}

TEST(PollGateTest, EmptyAnswerExpiresAfterMaxAge) {
  PollGate gate(absl::ZeroDuration());
  FakePoll poll;
  EXPECT_FALSE(*Ask(gate, poll, 1, kNow));
  EXPECT_FALSE(*Ask(gate, poll, 1, kNow));
  EXPECT_EQ(poll.calls, 2);
}

TEST(PollGateTest, ErrorsAreNotKept) {
  PollGate gate(absl::Hours(1));
  int calls = 0;
  absl::Time next_due = absl::InfiniteFuture();
  auto failing = [&](absl::Time*) -> absl::StatusOr<bool> {
    ++calls;
    return absl::UnavailableError("down");
  };
  EXPECT_FALSE(gate.Poll("k", 1, kNow, &next_due, failing).ok());
  EXPECT_FALSE(gate.Poll("k", 1, kNow, &next_due, failing).ok());
  EXPECT_EQ(calls, 2);
}

// A poller asking the question another is asking waits for its answer.
TEST(PollGateTest, ConcurrentPollersShareOneAnswer) {
  PollGate gate(absl::Hours(1));
  std::atomic<int> calls = 0;
  absl::Notification entered;
  absl::Notification release;
  std::thread first([&] {
    absl::Time next_due = absl::InfiniteFuture();
    EXPECT_FALSE(*gate.Poll("k", 1, kNow, &next_due,
                            [&](absl::Time*) -> absl::StatusOr<bool> {
                              ++calls;
                              entered.Notify();
                              release.WaitForNotification();
                              return false;
                            }));
  });
  entered.WaitForNotification();
  std::thread second([&] {
    absl::Time next_due = absl::InfiniteFuture();
    EXPECT_FALSE(*gate.Poll("k", 1, kNow, &next_due,
                            [&](absl::Time*) -> absl::StatusOr<bool> {
                              ++calls;
                              return false;
                            }));
  });
  absl::SleepFor(absl::Milliseconds(50));  // Most likely waiting by now.
  release.Notify();
  first.join();
  second.join();
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace durable::backends::redis
