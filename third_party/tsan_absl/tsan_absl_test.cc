// ThreadSanitizer sees abseil's synchronization through
// //third_party/tsan_absl.
//
// Each test shares plain (non-atomic) data between threads, ordered only by
// one abseil primitive. Debian's abseil is not built with TSan, so without
// the wrappers TSan reports these accesses as data races and the test binary
// exits with TSan's status 66: the test fails. The RaceStillReported tests
// run scenarios that really race in a child process and check that TSan
// still reports them: the wrappers must not hide races.
#if !defined(__SANITIZE_THREAD__)
#error "tsan_absl_test is built with --config=tsan only (//tools:tsan_tests)"
#endif

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

extern char** environ;

namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 200;

void RunThreads(int n, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(body, i);
  for (std::thread& t : threads) t.join();
}

TEST(TsanAbsl, MutexLockGuardsData) {
  absl::Mutex mu;
  int counter = 0;
  RunThreads(kThreads, [&](int) {
    for (int i = 0; i < kRounds; ++i) {
      absl::MutexLock lock(&mu);
      ++counter;
    }
  });
  EXPECT_EQ(counter, kThreads * kRounds);
}

TEST(TsanAbsl, ReaderLockSeesWriterData) {
  absl::Mutex mu;
  std::string value = "start";
  std::atomic<int> reads{0};
  RunThreads(kThreads, [&](int id) {
    for (int i = 0; i < kRounds; ++i) {
      if (id == 0) {
        absl::WriterMutexLock lock(&mu);
        value = "round " + std::to_string(i);
      } else {
        absl::ReaderMutexLock lock(&mu);
        if (!value.empty()) reads.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
  EXPECT_EQ(reads.load(), (kThreads - 1) * kRounds);
}

TEST(TsanAbsl, TryLockGuardsData) {
  absl::Mutex mu;
  int counter = 0;
  RunThreads(kThreads, [&](int id) {
    for (int i = 0; i < kRounds; ++i) {
      if (id % 2 == 0) {
        while (!mu.TryLock()) std::this_thread::yield();
        ++counter;
        mu.Unlock();
      } else {
        while (!mu.ReaderTryLock()) std::this_thread::yield();
        mu.ReaderUnlock();
        absl::MutexLock lock(&mu);
        ++counter;
      }
    }
  });
  EXPECT_EQ(counter, kThreads * kRounds);
}

TEST(TsanAbsl, ReleasableMutexLockReleaseUnlocks) {
  absl::Mutex mu;
  int counter = 0;
  RunThreads(kThreads, [&](int id) {
    for (int i = 0; i < kRounds; ++i) {
      absl::ReleasableMutexLock lock(&mu);
      ++counter;
      lock.Release();
    }
  });
  EXPECT_EQ(counter, kThreads * kRounds);
}

// One producer hands values to the consumer through `ready`; the consumer
// waits with the primitive under test.
void HandOver(const std::function<void(absl::Mutex&, bool&)>& wait_ready) {
  absl::Mutex mu;
  bool ready = false;
  std::vector<int> data;
  std::thread producer([&] {
    data.assign(100, 7);  // written before the lock, ordered by it
    absl::MutexLock lock(&mu);
    ready = true;
  });
  wait_ready(mu, ready);  // returns holding mu
  EXPECT_EQ(data.size(), 100u);
  mu.Unlock();
  producer.join();
}

TEST(TsanAbsl, LockWhenAndAwait) {
  HandOver([](absl::Mutex& mu, bool& ready) {
    mu.LockWhen(absl::Condition(&ready));
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    mu.ReaderLockWhen(absl::Condition(&ready));
    mu.ReaderUnlock();
    mu.Lock();
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    EXPECT_TRUE(
        mu.LockWhenWithTimeout(absl::Condition(&ready), absl::Seconds(60)));
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    EXPECT_TRUE(mu.LockWhenWithDeadline(absl::Condition(&ready),
                                        absl::Now() + absl::Seconds(60)));
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    EXPECT_TRUE(mu.ReaderLockWhenWithTimeout(absl::Condition(&ready),
                                             absl::Seconds(60)));
    mu.ReaderUnlock();
    mu.Lock();
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    EXPECT_TRUE(mu.ReaderLockWhenWithDeadline(absl::Condition(&ready),
                                              absl::Now() + absl::Seconds(60)));
    mu.ReaderUnlock();
    mu.Lock();
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    mu.Lock();
    mu.Await(absl::Condition(&ready));
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    mu.Lock();
    EXPECT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(60)));
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    mu.Lock();
    EXPECT_TRUE(mu.AwaitWithDeadline(absl::Condition(&ready),
                                     absl::Now() + absl::Seconds(60)));
  });
  HandOver([](absl::Mutex& mu, bool& ready) {
    mu.ReaderLock();  // Await in reader mode
    mu.Await(absl::Condition(&ready));
    mu.ReaderUnlock();
    mu.Lock();
  });
}

TEST(TsanAbsl, CondVarWait) {
  for (int variant = 0; variant < 3; ++variant) {
    absl::Mutex mu;
    absl::CondVar cv;
    bool ready = false;
    std::vector<int> data;
    std::thread producer([&] {
      data.assign(100, 7);
      absl::MutexLock lock(&mu);
      ready = true;
      if (variant == 0) {
        cv.Signal();
      } else {
        cv.SignalAll();
      }
    });
    {
      absl::MutexLock lock(&mu);
      while (!ready) {
        if (variant == 0) cv.Wait(&mu);
        if (variant == 1) cv.WaitWithTimeout(&mu, absl::Seconds(60));
        if (variant == 2) {
          cv.WaitWithDeadline(&mu, absl::Now() + absl::Seconds(60));
        }
      }
      EXPECT_EQ(data.size(), 100u);
    }
    producer.join();
  }
}

TEST(TsanAbsl, NotificationOrdersNotifierBeforeWaiter) {
  for (int variant = 0; variant < 4; ++variant) {
    absl::Notification done;
    std::vector<int> data;
    std::thread producer([&] {
      data.assign(100, 7);
      done.Notify();
    });
    if (variant == 0) done.WaitForNotification();
    if (variant == 1) {
      EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(60)));
    }
    if (variant == 2) {
      EXPECT_TRUE(done.WaitForNotificationWithDeadline(absl::Now() +
                                                       absl::Seconds(60)));
    }
    if (variant == 3) {
      while (!done.HasBeenNotified()) std::this_thread::yield();
    }
    EXPECT_EQ(data.size(), 100u);
    producer.join();
  }
}

TEST(TsanAbsl, BlockingCounter) {
  std::vector<int> slots(kThreads, 0);
  absl::BlockingCounter counter(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      slots[i] = i + 1;
      counter.DecrementCount();
    });
  }
  counter.Wait();
  int sum = 0;
  for (int v : slots) sum += v;
  EXPECT_EQ(sum, kThreads * (kThreads + 1) / 2);
  for (std::thread& t : threads) t.join();
}

// --- races the wrappers must not hide (run in a child process) -------------

// Relaxed atomics order nothing for TSan: they only make the interleaving
// below deterministic. The racy int lives alone on the heap: TSan keeps four
// accesses per 8 bytes of memory, and neighbours' accesses could evict the
// first write of the race.
void WaitFor(const std::atomic<bool>& flag) {
  while (!flag.load(std::memory_order_relaxed)) std::this_thread::yield();
}

// One thread writes under the mutex, the other without it.
void UnguardedWrite() {
  absl::Mutex mu;
  auto value = std::make_unique<int>(0);
  std::atomic<bool> written{false};
  std::thread t([&] {
    absl::MutexLock lock(&mu);
    *value = 1;
    written.store(true, std::memory_order_relaxed);
  });
  WaitFor(written);
  *value = 2;
  t.join();
}

// A write after ReleasableMutexLock::Release is no longer guarded.
void WriteAfterRelease() {
  absl::Mutex mu;
  auto value = std::make_unique<int>(0);
  std::atomic<bool> written{false};
  std::thread t([&] {
    absl::ReleasableMutexLock lock(&mu);
    lock.Release();
    *value = 1;
    written.store(true, std::memory_order_relaxed);
  });
  WaitFor(written);
  {
    absl::MutexLock lock(&mu);
    *value = 2;
  }
  t.join();
}

// Data written after Notify() is not ordered before the waiter.
void WriteAfterNotify() {
  absl::Notification done;
  auto value = std::make_unique<int>(0);
  std::atomic<bool> written{false};
  std::thread t([&] {
    done.Notify();
    *value = 1;
    written.store(true, std::memory_order_relaxed);
  });
  done.WaitForNotification();
  WaitFor(written);
  *value = 2;
  t.join();
}

// Two threads each lock a different mutex: nothing orders their writes.
void DifferentMutexes() {
  absl::Mutex a, b;
  auto value = std::make_unique<int>(0);
  std::atomic<bool> written{false};
  std::thread t([&] {
    absl::MutexLock lock(&a);
    *value = 1;
    written.store(true, std::memory_order_relaxed);
  });
  WaitFor(written);
  {
    absl::MutexLock lock(&b);
    *value = 2;
  }
  t.join();
}

const std::map<std::string, void (*)()>& RacyScenarios() {
  static const auto* scenarios = new std::map<std::string, void (*)()>{
      {"UnguardedWrite", UnguardedWrite},
      {"WriteAfterRelease", WriteAfterRelease},
      {"WriteAfterNotify", WriteAfterNotify},
      {"DifferentMutexes", DifferentMutexes},
  };
  return *scenarios;
}

// Runs this binary as `--race=<scenario>` and returns its stderr and status.
std::string RunChild(const std::string& scenario, int* status) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string log =
      std::string(tmp ? tmp : "/tmp") + "/tsan_absl_" + scenario + ".log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string arg = "--race=" + scenario;
  char self[] = "/proc/self/exe";
  char* argv[] = {self, const_cast<char*>(arg.c_str()), nullptr};
  pid_t pid;
  int rc = posix_spawn(&pid, self, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn: " << std::strerror(rc);
    return "";
  }
  waitpid(pid, status, 0);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(TsanAbsl, RaceStillReported) {
  for (const auto& [name, run] : RacyScenarios()) {
    int status = 0;
    std::string report = RunChild(name, &status);
    EXPECT_NE(report.find("WARNING: ThreadSanitizer: data race"),
              std::string::npos)
        << name << " was not reported; its stderr:\n"
        << report;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0)
        << name << " exited cleanly";
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--race=", 0) == 0) {
      auto it = RacyScenarios().find(arg.substr(7));
      if (it == RacyScenarios().end()) return 2;
      it->second();
      return 0;  // TSan turns a reported race into exit status 66
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
