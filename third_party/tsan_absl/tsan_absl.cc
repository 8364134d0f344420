// Makes ThreadSanitizer see Debian's prebuilt abseil synchronization.
//
// libabsl_synchronization.so from libabsl-dev is built without
// -fsanitize=thread, so the happens-before edges that absl::Mutex,
// absl::CondVar, absl::Notification and absl::BlockingCounter create
// (futexes and atomics inside the library) are invisible to TSan: every piece
// of data guarded by an absl::Mutex would be reported as a race.
//
// Under `--config=tsan` every binary that links @system_abseil//:abseil also
// links this file, and the linker is told `--wrap=<symbol>` for each entry
// point below (see BUILD.bazel): a call to `absl::Mutex::Lock()` from our
// code then lands in `__wrap_<mangled Lock>`, which tells TSan what happens
// around a call to the real function, `__real_<mangled Lock>`, through TSan's
// public API (<sanitizer/tsan_interface.h>): for mutexes the annotations an
// abseil built with TSan makes itself, for Notification and BlockingCounter a
// release before the signalling call and an acquire after the wait. Only
// calls from objects in the final link are redirected, hence
// `--dynamic_mode=off` in the tsan config.
//
// Each wrapper is an extern "C" function whose first parameter is `this`:
// on x86-64 a member function takes `this` as its first argument, and the
// other parameters have the same types as the member's, so the calling
// conventions match.
//
// The real call runs inside the ignore region that TSan's pre_/post_ mutex
// annotations open. abseil may evaluate a waiter's absl::Condition on another
// thread, inside that thread's Unlock, while the mutex is really held; TSan
// cannot tell, so those reads are not checked (an instrumented abseil checks
// them; this is what we give up).
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

// The mangled names in BUILD.bazel spell abseil's inline namespace; a
// different abseil fails here (and at link time: `__real_<name>` would not
// resolve) rather than silently unwrapped.
#define TSAN_ABSL_STR2(x) #x
#define TSAN_ABSL_STR(x) TSAN_ABSL_STR2(x)
static_assert(__builtin_strcmp(TSAN_ABSL_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME),
                               "debian3") == 0,
              "third_party/tsan_absl wraps abseil's debian3 symbols: update "
              "the mangled names in BUILD.bazel and here");

namespace {

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

// absl::Mutex is one word of state; a writer holding it has set kMuWriter.
// (The same test abseil's Await and CondVar::Wait make to learn how the
// caller holds the mutex.)
static_assert(sizeof(Mutex) == sizeof(std::atomic<intptr_t>));
constexpr intptr_t kMuWriter = 0x0008;

// How the calling thread holds `mu`, as TSan mutex flags: reader or writer.
unsigned HeldFlags(const Mutex* mu) {
  const auto* word = reinterpret_cast<const std::atomic<intptr_t>*>(mu);
  return (word->load(std::memory_order_relaxed) & kMuWriter) != 0
             ? 0
             : __tsan_mutex_read_lock;
}

// Notification is {Mutex mutex_; std::atomic<bool> notified_yet_;}. The
// inline HasBeenNotified() in our (instrumented) code does an acquire load of
// notified_yet_, so Notify releases on that very address: TSan then orders
// what the notifier did before Notify() before whatever follows a true
// HasBeenNotified(), as it would with an instrumented abseil.
struct NotificationLayout {
  Mutex mutex;
  std::atomic<bool> notified_yet;
};
static_assert(sizeof(NotificationLayout) == sizeof(Notification));

void* NotifiedFlag(const Notification* n) {
  return const_cast<char*>(reinterpret_cast<const char*>(n)) +
         offsetof(NotificationLayout, notified_yet);
}

// ReleasableMutexLock is {Mutex* mu_;}.
static_assert(sizeof(absl::ReleasableMutexLock) == sizeof(Mutex*));

// The caller holds `mu` (with `flags`); the real call releases it, waits and
// takes it again in the same mode.
template <typename Call>
auto ReleaseWaitReacquire(Mutex* mu, unsigned flags, Call call) {
  __tsan_mutex_pre_unlock(mu, flags);
  auto result = call();
  __tsan_mutex_post_unlock(mu, flags);
  __tsan_mutex_pre_lock(mu, flags);
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

}  // namespace

extern "C" {

// --- the real functions (resolved by the linker to abseil's) ---------------
void __real__ZN4absl7debian35Mutex4LockEv(Mutex*);
void __real__ZN4absl7debian35Mutex6UnlockEv(Mutex*);
void __real__ZN4absl7debian35Mutex10ReaderLockEv(Mutex*);
void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex*);
bool __real__ZN4absl7debian35Mutex7TryLockEv(Mutex*);
bool __real__ZN4absl7debian35Mutex13ReaderTryLockEv(Mutex*);
void __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(Mutex*,
                                                              const Condition&);
void __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    Mutex*, const Condition&);
bool __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex*, const Condition&, Duration);
bool __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex*, const Condition&, Time);
bool __real__ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex*, const Condition&, Duration);
bool __real__ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex*, const Condition&, Time);
bool __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex*,
                                                           const Condition&);
bool __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex*, const Condition&, Duration);
bool __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex*, const Condition&, Time);
void __real__ZN4absl7debian35MutexD1Ev(Mutex*);
void __real__ZN4absl7debian319ReleasableMutexLock7ReleaseEv(
    absl::ReleasableMutexLock*);
void __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar*, Mutex*);
bool __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar*, Mutex*, Duration);
bool __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    CondVar*, Mutex*, Time);
void __real__ZN4absl7debian37CondVar6SignalEv(CondVar*);
void __real__ZN4absl7debian37CondVar9SignalAllEv(CondVar*);
void __real__ZN4absl7debian312Notification6NotifyEv(Notification*);
void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const Notification*);
bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification*, Duration);
bool __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const Notification*, Time);
void __real__ZN4absl7debian315BlockingCounter14DecrementCountEv(
    absl::BlockingCounter*);
void __real__ZN4absl7debian315BlockingCounter4WaitEv(absl::BlockingCounter*);

// --- Mutex: lock and unlock --------------------------------------------------

void __wrap__ZN4absl7debian35Mutex4LockEv(Mutex* mu) {
  __tsan_mutex_pre_lock(mu, 0);
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  __tsan_mutex_post_lock(mu, 0, 0);
}

void __wrap__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
  __tsan_mutex_post_unlock(mu, 0);
}

void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_read_lock);
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  __tsan_mutex_post_lock(mu, __tsan_mutex_read_lock, 0);
}

void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, __tsan_mutex_read_lock);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
  __tsan_mutex_post_unlock(mu, __tsan_mutex_read_lock);
}

bool __wrap__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_try_lock);
  const bool locked = __real__ZN4absl7debian35Mutex7TryLockEv(mu);
  __tsan_mutex_post_lock(
      mu, locked ? __tsan_mutex_try_lock : __tsan_mutex_try_lock_failed, 0);
  return locked;
}

bool __wrap__ZN4absl7debian35Mutex13ReaderTryLockEv(Mutex* mu) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_try_read_lock);
  const bool locked = __real__ZN4absl7debian35Mutex13ReaderTryLockEv(mu);
  __tsan_mutex_post_lock(
      mu,
      locked ? __tsan_mutex_try_read_lock : __tsan_mutex_try_read_lock_failed,
      0);
  return locked;
}

// --- Mutex: lock when a condition holds (always returns holding it) --------

void __wrap__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  __tsan_mutex_pre_lock(mu, 0);
  __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(mu, cond);
  __tsan_mutex_post_lock(mu, 0, 0);
}

void __wrap__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_read_lock);
  __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(mu, cond);
  __tsan_mutex_post_lock(mu, __tsan_mutex_read_lock, 0);
}

bool __wrap__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  __tsan_mutex_pre_lock(mu, 0);
  const bool met =
      __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, cond, timeout);
  __tsan_mutex_post_lock(mu, 0, 0);
  return met;
}

bool __wrap__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  __tsan_mutex_pre_lock(mu, 0);
  const bool met =
      __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
          mu, cond, deadline);
  __tsan_mutex_post_lock(mu, 0, 0);
  return met;
}

bool __wrap__ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_read_lock);
  const bool met =
      __real__ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, cond, timeout);
  __tsan_mutex_post_lock(mu, __tsan_mutex_read_lock, 0);
  return met;
}

bool __wrap__ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_read_lock);
  const bool met =
      __real__ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
          mu, cond, deadline);
  __tsan_mutex_post_lock(mu, __tsan_mutex_read_lock, 0);
  return met;
}

// --- Mutex: await (held on entry; released while waiting; held on return) --

bool __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  return ReleaseWaitReacquire(mu, HeldFlags(mu), [&] {
    return __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, cond);
  });
}

bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  return ReleaseWaitReacquire(mu, HeldFlags(mu), [&] {
    return __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
        mu, cond, timeout);
  });
}

bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  return ReleaseWaitReacquire(mu, HeldFlags(mu), [&] {
    return __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
        mu, cond, deadline);
  });
}

// --- Mutex: destruction
// ------------------------------------------------------- abseil's inline
// constructor (in mutex.h, so compiled with TSan) already announces each mutex
// with __tsan_mutex_create(this, not_static). Destroying one that is still
// held, or that another thread may still be using, is reported; the address
// then starts afresh for TSan.
void __wrap__ZN4absl7debian35MutexD1Ev(Mutex* mu) {
  __tsan_mutex_destroy(mu, __tsan_mutex_not_static);
  __real__ZN4absl7debian35MutexD1Ev(mu);
}

// --- ReleasableMutexLock::Release: unlocks inside abseil ---------------------
void __wrap__ZN4absl7debian319ReleasableMutexLock7ReleaseEv(
    absl::ReleasableMutexLock* lock) {
  Mutex* mu = *reinterpret_cast<Mutex**>(lock);
  __tsan_mutex_pre_unlock(mu, 0);
  __real__ZN4absl7debian319ReleasableMutexLock7ReleaseEv(lock);
  __tsan_mutex_post_unlock(mu, 0);
}

// --- CondVar -----------------------------------------------------------------

void __wrap__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu) {
  ReleaseWaitReacquire(mu, HeldFlags(mu), [&] {
    __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(cv, mu);
    return true;
  });
}

bool __wrap__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout) {
  return ReleaseWaitReacquire(mu, HeldFlags(mu), [&] {
    return __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
        cv, mu, timeout);
  });
}

bool __wrap__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    CondVar* cv, Mutex* mu, Time deadline) {
  return ReleaseWaitReacquire(mu, HeldFlags(mu), [&] {
    return __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
        cv, mu, deadline);
  });
}

// Signalling creates no happens-before edge of its own (the mutex does, as
// with pthreads); like an instrumented abseil, TSan only ignores what the
// call does inside.
void __wrap__ZN4absl7debian37CondVar6SignalEv(CondVar* cv) {
  __tsan_mutex_pre_signal(cv, 0);
  __real__ZN4absl7debian37CondVar6SignalEv(cv);
  __tsan_mutex_post_signal(cv, 0);
}

void __wrap__ZN4absl7debian37CondVar9SignalAllEv(CondVar* cv) {
  __tsan_mutex_pre_signal(cv, 0);
  __real__ZN4absl7debian37CondVar9SignalAllEv(cv);
  __tsan_mutex_post_signal(cv, 0);
}

// --- Notification: Notify happens before every wait that returns true -------

void __wrap__ZN4absl7debian312Notification6NotifyEv(Notification* n) {
  __tsan_release(NotifiedFlag(n));
  __real__ZN4absl7debian312Notification6NotifyEv(n);
}

void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const Notification* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  __tsan_acquire(NotifiedFlag(n));
}

bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout) {
  const bool notified =
      __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
          n, timeout);
  if (notified) __tsan_acquire(NotifiedFlag(n));
  return notified;
}

bool __wrap__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const Notification* n, Time deadline) {
  const bool notified =
      __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
          n, deadline);
  if (notified) __tsan_acquire(NotifiedFlag(n));
  return notified;
}

// --- BlockingCounter: every DecrementCount happens before Wait returns -----
// (absl::Barrier is not wrapped: durable does not use it, and the thread that
// deletes a barrier may free it before the others could acquire from it.)

void __wrap__ZN4absl7debian315BlockingCounter14DecrementCountEv(
    absl::BlockingCounter* counter) {
  __tsan_release(counter);
  __real__ZN4absl7debian315BlockingCounter14DecrementCountEv(counter);
}

void __wrap__ZN4absl7debian315BlockingCounter4WaitEv(
    absl::BlockingCounter* counter) {
  __real__ZN4absl7debian315BlockingCounter4WaitEv(counter);
  __tsan_acquire(counter);
}

}  // extern "C"
