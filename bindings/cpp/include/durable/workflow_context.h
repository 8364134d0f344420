// WorkflowContext: the workflow code's only window on the world.
//
//   durable::Task<int> Workflow1(durable::WorkflowContext& ctx,
//                                std::string input) {
//     absl::StatusOr<int> r1 = co_await ctx.ExecuteActivity(Activity1, 35, 12);
//     if (!r1.ok()) co_return r1.status();   // with Task<absl::StatusOr<int>>
//     ctx.Logf("Activity1 returned %d", *r1);
//     ...
//   }
//
// Workflow code is replayed: after a crash or a cache eviction the engine
// runs it again from the start and feeds it the recorded results, so it must
// be deterministic. Everything that could differ between runs — time,
// activity results, randomness, "is this a replay" — comes from the context:
//  - Now() is the workflow task's time, never the wall clock.
//  - ExecuteActivity() issues a command and returns a Future; the activity
//    runs (and is retried) elsewhere, and on replay the recorded outcome is
//    delivered instead of running it again.
//  - ScheduleTimer()/Sleep() start durable timers (see "Timers" below).
//  - SignalChannel<T>(name) receives signals (signal_channel.h);
//    SignalWorkflow() signals another instance (see "Signals" below).
//  - SideEffect(fn) runs fn once and replays its recorded result.
//  - RandomUint64()/RandomInt()/RandomDouble()/NewUuid() are deterministic.
//  - Go() starts another coroutine of the run; NewChannel() and
//    NewWaitGroup() synchronize them (channel.h, wait_group.h), and
//    durable::Select (select.h) waits for the first of several events.
//  - Log()/Logf() stay quiet while replaying, so each line is written once.
//  - CreateSubWorkflowInstance() starts a sub-workflow; ContinueAsNew()
//    restarts this workflow with an empty history; Patched() and
//    DeprecatePatch() let changed code replay old histories (see
//    "Orchestration" below and docs/orchestration.md).
//
// Timers: ScheduleTimer(d) issues StartTimer{seq, d} and returns a
// Future<void> that resolves OK when the engine fires the timer (workflow
// time then is at least start + d). Canceling the context the timer was
// created with, before it fires, issues CancelTimer{seq} and resolves the
// future with CANCELLED right away; the engine sends nothing back. A timer
// canceled in the activation that started it leaves no trace in history.
// d == 0 resolves at once without a command; d < 0 resolves with
// InvalidArgument. Durations are rounded up to whole microseconds.
//
// Signals: SignalWorkflow(id, name, value) issues SignalExternalWorkflow
// {seq} and returns a Future<void>. The signal is delivered to the active
// execution of instance `id` when this workflow task commits; a later
// activation (ResolveSignalExternal{seq}) resolves the future OK once the
// signal is in that execution's inbox, or with a non-retryable failure of
// type "InstanceNotFound" (IsInstanceNotFound, failure.h) when no
// execution of `id` is active (unknown or finished instance; the signal is
// dropped). Awaiting it is optional: code that does not await stays
// fire-and-forget and never sees the answer. A sub-workflow started in the same
// task can be signaled whichever call comes first: executions start before
// signals are delivered.
//
// Cancellation (go-workflows style): a WorkflowContext is also a
// cancellation scope. The context a workflow receives is canceled when the
// instance is canceled (Client::CancelWorkflowInstance, i.e. the
// CancelWorkflow job); WithCancel() and NewDisconnectedContext()
// (cancellation.h) derive contexts with their own scope. On a canceled
// context, ExecuteActivity/ScheduleTimer/Sleep and SignalWorkflow fail at
// once with a CANCELLED status (their futures are resolved) and issue no
// command. A signal already sent is not withdrawn: its future still
// resolves with the answer. Activities already
// scheduled are not interrupted: their results are still delivered. Timers
// still pending are canceled as described above. Other operations (Go,
// channels, signal channels, SideEffect) are not affected; the code decides
// how to finish, typically through Canceled(), Err() or Done().
//
// Orchestration:
//  - ExecuteActivity(options, fn, args...) takes ActivityOptions (options.h):
//    the queue, a retry policy (retries happen in the worker and cost no
//    workflow task; only the final outcome enters history) and the
//    start-to-close, schedule-to-close and heartbeat timeouts.
//  - CreateSubWorkflowInstance(options, fn, args...) issues
//    StartSubWorkflow and returns a Future of the sub-workflow's result; the
//    sub-workflow's failure arrives as a status carrying it (failure.h), a
//    sub-workflow that could not start because its id is active fails with type
//    "InstanceAlreadyExists". Canceling the context the sub-workflow was
//    started with (the workflow's own context is canceled with the instance)
//    asks the sub-workflow to cancel (CancelSubWorkflow): the future still
//    resolves with the sub-workflow's eventual outcome, typically the value it
//    returns after seeing its own context canceled. A sub-workflow canceled in
//    the activation that started it never runs: its future resolves CANCELLED
//    at once. On a canceled context no sub-workflow starts (CANCELLED at once).
//  - `co_return ctx.ContinueAsNew(args...)` ends this execution (state
//    continued-as-new) and starts the next one of the same instance with
//    `args`, an empty history and a new execution id; clients and parents
//    waiting on the instance get the final execution's result. It works in
//    workflows returning absl::Status or absl::StatusOr<T>: ContinueAsNew()
//    returns a special status that the facade turns into the ContinueAsNew
//    command when the workflow returns it (and that is an ordinary error of
//    type "ContinueAsNew" anywhere else). Signals buffered in the run and
//    not received yet go to the next execution, ahead of any that arrive
//    later, so continuing as new loses no signal.
//  - Patched(change_id) is true for code running for the first time (and
//    records a marker in history) and, on replay, true only if history has
//    the marker: `if (ctx.Patched("x")) new code; else old code;` keeps
//    instances started under the old code replaying. Once no instance runs
//    the old code, replace Patched with DeprecatePatch(change_id) (records
//    a deprecated marker that old histories may lack), then remove it.
//
// A WorkflowContext is a cheap handle: copies refer to the same run and the
// same cancellation scope, and stay valid while the run's coroutines are.
// It is not thread-safe: workflow code runs on one thread at a time. Its
// methods are const because they do not change the handle itself (so a
// context captured by value in a lambda can be used).
#ifndef DURABLE_WORKFLOW_CONTEXT_H_
#define DURABLE_WORKFLOW_CONTEXT_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/proto/protocol.pb.h"
#include "durable/activity_context.h"
#include "durable/channel.h"
#include "durable/future.h"
#include "durable/internal/scheduler.h"
#include "durable/options.h"
#include "durable/payload.h"
#include "durable/signal_channel.h"
#include "durable/task.h"
#include "durable/wait_group.h"

namespace durable {

class Registry;
class WorkflowContext;

namespace internal {

class WorkflowRun;
class RunState;
class CancelState;
struct CancellationAccess;

// A coroutine started with WorkflowContext::Go. The run owns it until the
// run ends.
class Coroutine {
 public:
  virtual ~Coroutine() = default;
  Task<void> task;
};

template <class F>
class CoroutineWith;

// The value type an activity returning R delivers to the workflow.
template <class R>
struct ActivityValue {
  using type = R;
};
template <class V>
struct ActivityValue<absl::StatusOr<V>> {
  using type = V;
};
template <>
struct ActivityValue<absl::Status> {
  using type = void;
};

// The value type a workflow returning Task<R> delivers to a parent.
template <class R>
using WorkflowValue = ActivityValue<R>;

// CreateSubWorkflowInstance<R>: R if given, else the sub-workflow's value type.
struct Deduced {};
template <class R, class W>
struct SubWorkflowValue {
  using type = R;
};
template <class W>
struct SubWorkflowValue<Deduced, W> {
  using type = typename WorkflowValue<W>::type;
};

// Identifies a registered function by its address.
using FunctionKey = std::uintptr_t;
template <class Fn>
FunctionKey KeyOf(Fn* fn) {
  return reinterpret_cast<FunctionKey>(fn);
}

// Encodes `args` as payloads, converting each to its parameter type P first so
// that the receiver decodes exactly what it declared.
template <class... P, class... A>
absl::StatusOr<std::vector<v1::Payload>> EncodeArguments(A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A));
  std::vector<v1::Payload> payloads;
  payloads.reserve(sizeof...(A));
  absl::Status status;
  [[maybe_unused]] auto encode_one = [&](auto encoded) {
    if (!status.ok()) return;
    if (encoded.ok()) {
      payloads.push_back(*std::move(encoded));
    } else {
      status = encoded.status();
    }
  };
  (encode_one(EncodePayload<std::decay_t<P>>(std::forward<A>(args))), ...);
  if (!status.ok()) return status;
  return payloads;
}

}  // namespace internal

class WorkflowContext {
 public:
  WorkflowContext(const WorkflowContext&) = default;
  WorkflowContext& operator=(const WorkflowContext&) = default;

  // ---- Activities ----------------------------------------------------------

  // Schedules the registered activity `fn` with `args` (converted to fn's
  // parameter types) and returns the future of its result. R is the value the
  // activity produces: ExecuteActivity<int>(fn, ...) works for fns returning
  // int and absl::StatusOr<int>. If fn is not registered with the worker's
  // Registry, no command is issued and the future is already failed with
  // type "ActivityNotRegistered"; if this context is canceled, it is already
  // failed with CANCELLED.
  template <class R, class... P, class... A>
  Future<R> ExecuteActivity(absl::StatusOr<R> (*fn)(ActivityContext&, P...),
                            A&&... args) const {
    static_assert(sizeof...(P) == sizeof...(A),
                  "ExecuteActivity: the number of arguments must match the "
                  "activity's parameters (after ActivityContext&)");
    return ExecuteByPointer<R, P...>(internal::KeyOf(fn),
                                     std::forward<A>(args)...);
  }
  // The same for activities returning a plain value, absl::Status or void
  // (the last two give Future<void>).
  template <class R, class... P, class... A>
  Future<typename internal::ActivityValue<R>::type> ExecuteActivity(
      R (*fn)(ActivityContext&, P...), A&&... args) const {
    static_assert(sizeof...(P) == sizeof...(A),
                  "ExecuteActivity: the number of arguments must match the "
                  "activity's parameters (after ActivityContext&)");
    return ExecuteByPointer<typename internal::ActivityValue<R>::type, P...>(
        internal::KeyOf(fn), std::forward<A>(args)...);
  }

  // Schedules the activity registered as `name` by any worker in any
  // language; each argument is encoded as its own type, and the result is
  // decoded as R when the future resolves.
  template <class R, class... A>
  Future<R> ExecuteActivity(std::string_view name, A&&... args) const {
    return ExecuteActivity<R>(ActivityOptions{}, name,
                              std::forward<A>(args)...);
  }

  // The same three with ActivityOptions (options.h): queue, retry policy,
  // timeouts. The activity's final failure (after retries) arrives as a
  // status: IsTimeout(), IsNonRetryable() etc. classify it (failure.h).
  template <class R, class... P, class... A>
  Future<R> ExecuteActivity(const ActivityOptions& options,
                            absl::StatusOr<R> (*fn)(ActivityContext&, P...),
                            A&&... args) const {
    static_assert(sizeof...(P) == sizeof...(A),
                  "ExecuteActivity: the number of arguments must match the "
                  "activity's parameters (after ActivityContext&)");
    return ExecuteByPointer<R, P...>(options, internal::KeyOf(fn),
                                     std::forward<A>(args)...);
  }
  template <class R, class... P, class... A>
  Future<typename internal::ActivityValue<R>::type> ExecuteActivity(
      const ActivityOptions& options, R (*fn)(ActivityContext&, P...),
      A&&... args) const {
    static_assert(sizeof...(P) == sizeof...(A),
                  "ExecuteActivity: the number of arguments must match the "
                  "activity's parameters (after ActivityContext&)");
    return ExecuteByPointer<typename internal::ActivityValue<R>::type, P...>(
        options, internal::KeyOf(fn), std::forward<A>(args)...);
  }
  template <class R, class... A>
  Future<R> ExecuteActivity(const ActivityOptions& options,
                            std::string_view name, A&&... args) const {
    absl::StatusOr<std::vector<v1::Payload>> payloads =
        internal::EncodeArguments<std::decay_t<A>...>(std::forward<A>(args)...);
    auto state = NewFutureState<R>();
    Schedule(options, std::string(name), std::move(payloads), state);
    return Future<R>(std::move(state));
  }

  // ---- Sub-workflows (see "Orchestration" above) ---------------------------

  // Starts the registered workflow `fn` as a sub-workflow with `args`
  // (converted to fn's parameter types) and returns the future of its result:
  // for a sub-workflow returning Task<int> or Task<absl::StatusOr<int>>, a
  // Future<int> (Future<void> for absl::Status/void). R may be given to decode
  // the result as another type. If fn is not registered with the worker's
  // Registry, no command is issued and the future fails with type
  // "WorkflowNotRegistered"; on a canceled context, with CANCELLED.
  template <class R = internal::Deduced, class W, class... P, class... A>
  Future<typename internal::SubWorkflowValue<R, W>::type>
  CreateSubWorkflowInstance(const SubWorkflowOptions& options,
                            Task<W> (*fn)(WorkflowContext&, P...),
                            A&&... args) const {
    static_assert(sizeof...(P) == sizeof...(A),
                  "CreateSubWorkflowInstance: the number of arguments must "
                  "match the workflow's parameters (after WorkflowContext&)");
    using V = typename internal::SubWorkflowValue<R, W>::type;
    auto state = NewFutureState<V>();
    std::optional<std::string> name =
        WorkflowNameOf(internal::KeyOf(fn), state);
    if (name.has_value()) {
      StartSubWorkflow(
          options, *std::move(name),
          internal::EncodeArguments<P...>(std::forward<A>(args)...), state);
    }
    return Future<V>(std::move(state));
  }
  // Starts the workflow registered as `name` by any worker in any language
  // as a sub-workflow; each argument is encoded as its own type and the result
  // is decoded as R.
  template <class R, class... A>
  Future<R> CreateSubWorkflowInstance(const SubWorkflowOptions& options,
                                      std::string_view name,
                                      A&&... args) const {
    auto state = NewFutureState<R>();
    StartSubWorkflow(
        options, std::string(name),
        internal::EncodeArguments<std::decay_t<A>...>(std::forward<A>(args)...),
        state);
    return Future<R>(std::move(state));
  }

  // ---- Continue-as-new (see "Orchestration" above) -------------------------

  // `co_return ctx.ContinueAsNew(args...);` restarts this workflow with
  // `args` (each encoded as its own type, decoded by the workflow's
  // parameters) in a new execution with an empty history. The returned
  // status only has that effect when the workflow returns it; it is an
  // error of type "ContinueAsNew" (InvalidArgument if `args` do not
  // encode).
  template <class... A>
  requires(!std::is_same_v<std::decay_t<A>, ContinueAsNewOptions> &&
           ...) absl::Status ContinueAsNew(A&&... args)
  const {
    return ContinueAsNewStatus(ContinueAsNewOptions{},
                               internal::EncodeArguments<std::decay_t<A>...>(
                                   std::forward<A>(args)...));
  }
  // The same with options: another workflow to continue as, and whether to
  // delete the instance's earlier executions.
  template <class... A>
  absl::Status ContinueAsNew(const ContinueAsNewOptions& options,
                             A&&... args) const {
    return ContinueAsNewStatus(options,
                               internal::EncodeArguments<std::decay_t<A>...>(
                                   std::forward<A>(args)...));
  }

  // ---- Versioning (see "Orchestration" above) ------------------------------

  // True if the code behind this change runs: always when the code runs
  // live (a SetPatchMarker command records it, once per change id), and on
  // replay only if history has the marker. The first answer for a change id
  // sticks for the rest of the run, so every call site agrees.
  bool Patched(std::string_view change_id) const;
  // Declares that every instance that could take the old branch is gone:
  // records a deprecated marker (once per change id) that histories
  // written before or after Patched(change_id) replay against alike.
  void DeprecatePatch(std::string_view change_id) const;

  // ---- Timers (see the top comment) ----------------------------------------

  // A durable timer that fires after `duration` of workflow time, canceled
  // with this context. `name` only shows in history, for diagnostics.
  Future<void> ScheduleTimer(absl::Duration duration,
                             absl::string_view name = "") const;
  // `co_await ctx.Sleep(d)` yields OK after `d`, or CANCELLED if this
  // context is canceled first.
  Future<void> Sleep(absl::Duration duration) const {
    return ScheduleTimer(duration);
  }

  // ---- Signals -------------------------------------------------------------

  // The channel of the signals named `name` sent to this instance, decoded
  // as T (see signal_channel.h). Signals are buffered from the start of the
  // run, so asking late loses nothing.
  template <class T>
  durable::SignalChannel<T> SignalChannel(std::string_view name) const {
    return durable::SignalChannel<T>(std::string(name), SignalBufferOf(name));
  }

  // Signals the active execution of `instance_id` (a SignalExternalWorkflow
  // command; see "Signals" in the top comment): the future resolves OK once
  // the signal was delivered, or with type "InstanceNotFound" if the
  // instance is unknown or finished. Not awaiting it is fire-and-forget.
  // Already failed (no command) with CANCELLED on a canceled context and
  // with InvalidArgument if `value` does not encode.
  //
  //   absl::Status sent = co_await ctx.SignalWorkflow(id, "approval", who);
  //   if (durable::IsInstanceNotFound(sent)) ...
  template <class T>
  Future<void> SignalWorkflow(std::string_view instance_id,
                              std::string_view signal_name,
                              const T& value) const {
    return SignalExternal(instance_id, signal_name, EncodePayload(value));
  }

  // ---- Side effects --------------------------------------------------------

  // Runs `fn` (a callable returning a JSON-encodable value) once and records
  // its result in history (RecordSideEffect{seq}); on replay it returns the
  // recorded value without calling fn, and records it again so history
  // matches. For non-deterministic reads (a config value, a random token)
  // that need no retries; anything that can fail or take long belongs in an
  // activity. The value returned is always the decoded record, so a live run
  // and its replays see exactly the same value. Errors: the result does not
  // encode (nothing recorded) or the record does not decode as T.
  template <class F>
  absl::StatusOr<std::decay_t<std::invoke_result_t<F&>>> SideEffect(
      F&& fn) const {
    using T = std::decay_t<std::invoke_result_t<F&>>;
    const uint32_t seq = NextSideEffectSeq();
    std::optional<v1::Payload> recorded = TakeRecordedSideEffect(seq);
    if (!recorded.has_value()) {
      absl::StatusOr<v1::Payload> encoded = EncodePayload<T>(fn());
      if (!encoded.ok()) return encoded.status();
      recorded = *std::move(encoded);
    }
    RecordSideEffect(seq, *recorded);
    return DecodePayload<T>(*recorded);
  }

  // ---- Deterministic helpers -----------------------------------------------

  // The workflow time: when the current workflow task started. Use it
  // instead of the wall clock.
  absl::Time Now() const;

  // Deterministic pseudo-random numbers: a splitmix64 sequence seeded with
  // StartWorkflow.randomness_seed, shared by all contexts and coroutines of
  // the run, so a replay draws the same numbers in the same order. The
  // algorithm is frozen: changing it (or how the functions below use it)
  // would break the replay of every running workflow.
  uint64_t RandomUint64() const;
  // Uniform in [lo, hi) (rejection sampling over RandomUint64()); lo if
  // hi <= lo.
  int64_t RandomInt(int64_t lo, int64_t hi) const;
  // Uniform in [0, 1): the top 53 bits of RandomUint64().
  double RandomDouble() const;
  // A version 4 UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lowercase)
  // made from two RandomUint64() draws.
  std::string NewUuid() const;

  // True while the code re-creates steps already in history.
  bool IsReplaying() const;
  const std::string& InstanceId() const;
  const std::string& ExecutionId() const;
  const std::string& WorkflowName() const;
  const std::string& Queue() const;
  // Metadata given when the instance was created.
  const std::map<std::string, std::string>& Metadata() const;

  // Writes "[durable] workflow <instance id>: <message>" to stderr, unless
  // replaying (the line was written when the step first ran).
  void Log(absl::string_view message) const;
  template <class... Args>
  void Logf(const absl::FormatSpec<Args...>& format,
            const Args&... args) const {
    if (!IsReplaying()) Log(absl::StrFormat(format, args...));
  }

  // ---- Coroutines ----------------------------------------------------------

  // Starts `fn` as another coroutine of this run, like Go's `go`. fn is a
  // callable returning a durable::Task, taking this context (as
  // WorkflowContext& or by value) or nothing; a lambda coroutine is typical.
  // The run keeps fn alive as long as the coroutine, so its captures by
  // value are safe (captures by reference must outlive the coroutine, as
  // always). The coroutine first runs once the current one blocks, after
  // the coroutines already runnable: the scheduler runs coroutines in the
  // order they became runnable, so the interleaving is deterministic. An
  // exception escaping it fails the workflow with type "panic". The
  // workflow ends when its main coroutine returns, whatever the others do.
  template <class F>
  void Go(F fn) const {
    auto coroutine =
        std::make_unique<internal::CoroutineWith<F>>(std::move(fn), *this);
    coroutine->task = RunCoroutine(coroutine->fn, coroutine->ctx);
    StartCoroutine(std::move(coroutine));
  }

  // A channel between the coroutines of this run; capacity 0 makes it
  // unbuffered (see channel.h).
  template <class T>
  Channel<T> NewChannel(size_t capacity = 0) const {
    return Channel<T>(scheduler(), capacity);
  }

  // A wait group for coroutines of this run (see wait_group.h).
  WaitGroup NewWaitGroup() const { return WaitGroup(scheduler()); }

  // ---- Cancellation (see the top comment and cancellation.h) ---------------

  // True once this context is canceled.
  bool Canceled() const;
  // OK while live; afterwards the CANCELLED status that operations on this
  // context fail with ("workflow canceled: <reason>" for the instance's
  // cancellation, "context canceled" for a CancelFunc).
  absl::Status Err() const;
  // Resolves with Err() once this context is canceled; await it, or use it
  // in a Select to stop waiting for something else.
  Future<void> Done() const;

 private:
  friend class internal::WorkflowRun;
  friend struct internal::CancellationAccess;

  WorkflowContext(internal::RunState* run,
                  std::shared_ptr<internal::CancelState> scope);

  internal::Scheduler* scheduler() const;

  template <class T>
  std::shared_ptr<internal::FutureState<T>> NewFutureState() const {
    return std::make_shared<internal::FutureState<T>>(scheduler());
  }

  template <class R, class... P, class... A>
  Future<R> ExecuteByPointer(internal::FunctionKey key, A&&... args) const {
    return ExecuteByPointer<R, P...>(ActivityOptions{}, key,
                                     std::forward<A>(args)...);
  }
  template <class R, class... P, class... A>
  Future<R> ExecuteByPointer(const ActivityOptions& options,
                             internal::FunctionKey key, A&&... args) const {
    auto state = NewFutureState<R>();
    std::optional<std::string> name = ActivityNameOf(key, state);
    if (name.has_value()) {
      Schedule(options, *std::move(name),
               internal::EncodeArguments<P...>(std::forward<A>(args)...),
               state);
    }
    return Future<R>(std::move(state));
  }

  // The registered name of the activity at `key`; nullopt (and `state`
  // failed with ActivityNotRegistered) if there is none.
  std::optional<std::string> ActivityNameOf(
      internal::FunctionKey key,
      const std::shared_ptr<internal::FutureStateBase>& state) const;

  // Issues a ScheduleActivity command with the next sequence number and
  // remembers `state` for its resolution. Arguments that failed to encode,
  // or a canceled context, fail `state` instead.
  void Schedule(const ActivityOptions& options, std::string name,
                absl::StatusOr<std::vector<v1::Payload>> arguments,
                std::shared_ptr<internal::FutureStateBase> state) const;

  // The registered name of the workflow at `key`; nullopt (and `state`
  // failed with WorkflowNotRegistered) if there is none.
  // Resolves `state` and returns true when nothing may be issued: the
  // context is canceled, or the arguments could not be encoded.
  bool RejectBeforeIssuing(
      absl::string_view what, const std::string& name,
      const absl::StatusOr<std::vector<v1::Payload>>& arguments,
      internal::FutureStateBase& state) const;
  std::optional<std::string> WorkflowNameOf(
      internal::FunctionKey key,
      const std::shared_ptr<internal::FutureStateBase>& state) const;
  // Issues StartSubWorkflow with the next sub-workflow sequence number and ties
  // the sub-workflow to this context's scope; failures resolve `state` instead.
  void StartSubWorkflow(const SubWorkflowOptions& options, std::string name,
                        absl::StatusOr<std::vector<v1::Payload>> arguments,
                        std::shared_ptr<internal::FutureStateBase> state) const;
  absl::Status ContinueAsNewStatus(
      const ContinueAsNewOptions& options,
      absl::StatusOr<std::vector<v1::Payload>> arguments) const;

  std::shared_ptr<internal::SignalBuffer> SignalBufferOf(
      std::string_view name) const;
  Future<void> SignalExternal(std::string_view instance_id,
                              std::string_view signal_name,
                              absl::StatusOr<v1::Payload> input) const;

  uint32_t NextSideEffectSeq() const;
  std::optional<v1::Payload> TakeRecordedSideEffect(uint32_t seq) const;
  void RecordSideEffect(uint32_t seq, const v1::Payload& result) const;

  void StartCoroutine(std::unique_ptr<internal::Coroutine> coroutine) const;
  // Fails the workflow with the exception as a "panic".
  void ReportPanic(std::exception_ptr exception) const;

  template <class F>
  static Task<void> RunCoroutine(F& fn, WorkflowContext& ctx) {
    try {
      if constexpr (std::is_invocable_v<F&, WorkflowContext&>) {
        (void)co_await fn(ctx);
      } else {
        (void)co_await fn();
      }
    } catch (...) {
      ctx.ReportPanic(std::current_exception());
    }
  }

  internal::RunState* run_;
  std::shared_ptr<internal::CancelState> scope_;
};

namespace internal {

template <class F>
class CoroutineWith final : public Coroutine {
 public:
  CoroutineWith(F fn, WorkflowContext ctx)
      : fn(std::move(fn)), ctx(std::move(ctx)) {}
  // The coroutine frame refers to fn and ctx, so it goes first.
  ~CoroutineWith() override { task = Task<void>(); }

  F fn;
  WorkflowContext ctx;
};

}  // namespace internal
}  // namespace durable

#endif  // DURABLE_WORKFLOW_CONTEXT_H_
