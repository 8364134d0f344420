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
// activity results, "is this a replay" — comes from the context:
//  - Now() is the workflow task's time, never the wall clock.
//  - ExecuteActivity() issues a command and returns a Future; the activity
//    runs (and is retried) elsewhere, and on replay the recorded outcome is
//    delivered instead of running it again.
//  - Log()/Logf() stay quiet while replaying, so each line is written once.
//
// One context exists per workflow run; it is owned by the engine and valid
// while the run's coroutines are. It is not thread-safe: workflow code runs
// on one thread at a time.
#ifndef DURABLE_WORKFLOW_CONTEXT_H_
#define DURABLE_WORKFLOW_CONTEXT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/proto/protocol.pb.h"
#include "durable/activity_context.h"
#include "durable/future.h"
#include "durable/payload.h"

namespace durable {

class Registry;

namespace internal {

class WorkflowRun;

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
  WorkflowContext(const WorkflowContext&) = delete;
  WorkflowContext& operator=(const WorkflowContext&) = delete;

  // Schedules the registered activity `fn` with `args` (converted to fn's
  // parameter types) and returns the future of its result. R is the value the
  // activity produces: ExecuteActivity<int>(fn, ...) works for fns returning
  // int and absl::StatusOr<int>. If fn is not registered with the worker's
  // Registry, no command is issued and the future is already failed with
  // type "ActivityNotRegistered".
  template <class R, class... P, class... A>
  Future<R> ExecuteActivity(absl::StatusOr<R> (*fn)(ActivityContext&, P...),
                            A&&... args) {
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
      R (*fn)(ActivityContext&, P...), A&&... args) {
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
  Future<R> ExecuteActivity(std::string_view name, A&&... args) {
    absl::StatusOr<std::vector<v1::Payload>> payloads =
        internal::EncodeArguments<std::decay_t<A>...>(std::forward<A>(args)...);
    auto state = std::make_shared<internal::FutureState<R>>();
    Schedule(std::string(name), std::move(payloads), state);
    return Future<R>(std::move(state));
  }

  // The workflow time: when the current workflow task started. Use it
  // instead of the wall clock.
  absl::Time Now() const { return now_; }
  // True while the code re-creates steps already in history.
  bool IsReplaying() const { return replaying_; }
  const std::string& InstanceId() const { return instance_id_; }
  const std::string& RunId() const { return run_id_; }
  const std::string& WorkflowName() const { return workflow_name_; }
  const std::string& Queue() const { return queue_; }
  // Metadata given when the instance was created.
  const std::map<std::string, std::string>& Metadata() const {
    return metadata_;
  }

  // Writes "[durable] workflow <instance id>: <message>" to stderr, unless
  // replaying (the line was written when the step first ran).
  void Log(absl::string_view message) const;
  template <class... Args>
  void Logf(const absl::FormatSpec<Args...>& format,
            const Args&... args) const {
    if (!replaying_) Log(absl::StrFormat(format, args...));
  }

 private:
  friend class internal::WorkflowRun;

  WorkflowContext(const Registry& registry, std::string run_id);

  template <class R, class... P, class... A>
  Future<R> ExecuteByPointer(internal::FunctionKey key, A&&... args) {
    auto state = std::make_shared<internal::FutureState<R>>();
    std::optional<std::string> name = ActivityNameOf(key, state);
    if (name.has_value()) {
      Schedule(*std::move(name),
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
  // remembers `state` for its resolution. Arguments that failed to encode
  // fail `state` instead.
  void Schedule(std::string name,
                absl::StatusOr<std::vector<v1::Payload>> arguments,
                std::shared_ptr<internal::FutureStateBase> state);

  const Registry& registry_;
  const std::string run_id_;
  std::string instance_id_;
  std::string workflow_name_;
  std::string queue_;
  std::map<std::string, std::string> metadata_;
  absl::Time now_ = absl::UnixEpoch();
  bool replaying_ = false;

  uint32_t next_activity_seq_ = 1;
  absl::flat_hash_map<uint32_t, std::shared_ptr<internal::FutureStateBase>>
      pending_activities_;
  // Commands issued since the activation began, in issue order.
  std::vector<v1::WorkflowCommand> commands_;
};

}  // namespace durable

#endif  // DURABLE_WORKFLOW_CONTEXT_H_
