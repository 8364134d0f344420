// Registry: the workflows and activities a worker can run, by name.
//
//   durable::Registry registry;
//   absl::Status status = registry.RegisterWorkflow("Workflow1", Workflow1);
//   status.Update(registry.RegisterActivity("Activity1", Activity1));
//
// Names are what history records and what other languages use to call these
// functions, so they must stay stable across deployments. The function
// pointer identifies the function inside C++ (ExecuteActivity(fn, ...),
// Client::CreateWorkflowInstance(fn, ...)).
//
// Workflows: `Task<R> fn(WorkflowContext&, P...)` with R a value type,
// absl::StatusOr<V>, absl::Status or void. Activities: `R fn(ActivityContext&,
// P...)` with R a value type, absl::StatusOr<V>, absl::Status or void.
// Parameters and values must be convertible with nlohmann::json.
//
// The registration wrappers decode arguments and report bad input as
// non-retryable failures of type "InvalidArgument" (`activity "Activity1"
// expects 2 argument(s), got 1`; `activity "Activity1" argument 2 of 2:
// cannot decode payload as int: ...`) -- no retry can fix the arguments, so
// retry policies never retry them -- turn a non-OK status into a failure
// (see failure.h) and a thrown exception into type "panic", so nothing
// unwinds into the engine.
//
// Register everything before a Worker starts; afterwards the registry is only
// read (from several threads) and must outlive the workers and clients using
// it.
#ifndef DURABLE_REGISTRY_H_
#define DURABLE_REGISTRY_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "core/proto/common.pb.h"
#include "durable/activity_context.h"
#include "durable/failure.h"
#include "durable/payload.h"
#include "durable/task.h"
#include "durable/workflow_context.h"
#include "google/protobuf/repeated_field.h"

namespace durable {
namespace internal {

using Payloads = google::protobuf::RepeatedPtrField<v1::Payload>;

// Decodes one payload per parameter type D, checking the count first.
// `what` is e.g. `activity "Activity1"`.
template <class... D, size_t... I>
absl::StatusOr<std::tuple<D...>> DecodeArgumentsImpl(
    absl::string_view what, const Payloads& payloads,
    std::index_sequence<I...>) {
  [[maybe_unused]] std::tuple<absl::StatusOr<D>...> decoded(
      DecodePayload<D>(payloads[I])...);
  absl::Status error;
  [[maybe_unused]] auto check = [&](size_t index, const absl::Status& status) {
    if (error.ok() && !status.ok()) {
      error = NonRetryableFailureStatus(
          kInvalidArgumentFailure,
          absl::StrFormat("%s argument %d of %d: %s", what, index + 1,
                          sizeof...(D), status.message()));
    }
  };
  (check(I, std::get<I>(decoded).status()), ...);
  if (!error.ok()) return error;
  return std::tuple<D...>(*std::move(std::get<I>(decoded))...);
}

template <class... D>
absl::StatusOr<std::tuple<D...>> DecodeArguments(absl::string_view what,
                                                 const Payloads& payloads) {
  if (payloads.size() != static_cast<int>(sizeof...(D))) {
    return NonRetryableFailureStatus(
        kInvalidArgumentFailure,
        absl::StrFormat("%s expects %d argument(s), got %d", what, sizeof...(D),
                        payloads.size()));
  }
  return DecodeArgumentsImpl<D...>(what, payloads,
                                   std::index_sequence_for<D...>());
}

template <class T>
struct IsStatusOr : std::false_type {};
template <class V>
struct IsStatusOr<absl::StatusOr<V>> : std::true_type {};

// Turns what user code returned into the payload or failure the engine
// records.
template <class R>
absl::StatusOr<v1::Payload> EncodeResult(R&& result) {
  using T = std::decay_t<R>;
  if constexpr (std::is_same_v<T, absl::Status>) {
    if (!result.ok()) return result;
    return NullPayload();
  } else if constexpr (IsStatusOr<T>::value) {
    if (!result.ok()) return result.status();
    return EncodePayload(*result);
  } else {
    return EncodePayload(result);
  }
}

absl::Status PanicStatus(const std::exception& e);
absl::Status UnknownPanicStatus();

// Runs a registered workflow: decode, run the user's coroutine, encode.
template <class R, class... P>
Task<absl::StatusOr<v1::Payload>> RunWorkflow(
    std::string what, Task<R> (*fn)(WorkflowContext&, P...),
    WorkflowContext& ctx, Payloads arguments) {
  absl::StatusOr<std::tuple<std::decay_t<P>...>> decoded =
      DecodeArguments<std::decay_t<P>...>(what, arguments);
  if (!decoded.ok()) co_return decoded.status();
  // The decoded values live in this frame, so parameters taken by reference
  // stay valid while the user's coroutine runs.
  auto call = [&](std::decay_t<P>&... values) {
    return fn(ctx, static_cast<P&&>(values)...);
  };
  try {
    if constexpr (std::is_void_v<R>) {
      co_await std::apply(call, *decoded);
      co_return NullPayload();
    } else {
      co_return EncodeResult(co_await std::apply(call, *decoded));
    }
  } catch (const std::exception& e) {
    co_return PanicStatus(e);
  } catch (...) {
    co_return UnknownPanicStatus();
  }
}

// Runs a registered activity: decode, call, encode.
template <class R, class... P>
absl::StatusOr<v1::Payload> RunActivity(const std::string& what,
                                        R (*fn)(ActivityContext&, P...),
                                        ActivityContext& ctx,
                                        const Payloads& arguments) {
  absl::StatusOr<std::tuple<std::decay_t<P>...>> decoded =
      DecodeArguments<std::decay_t<P>...>(what, arguments);
  if (!decoded.ok()) return decoded.status();
  auto call = [&](std::decay_t<P>&... values) {
    return fn(ctx, static_cast<P&&>(values)...);
  };
  try {
    if constexpr (std::is_void_v<R>) {
      std::apply(call, *decoded);
      return NullPayload();
    } else {
      return EncodeResult(std::apply(call, *decoded));
    }
  } catch (const std::exception& e) {
    return PanicStatus(e);
  } catch (...) {
    return UnknownPanicStatus();
  }
}

}  // namespace internal

class Registry {
 public:
  // Starts the root coroutine of a workflow run.
  using WorkflowFactory = std::function<Task<absl::StatusOr<v1::Payload>>(
      WorkflowContext&, const internal::Payloads&)>;
  // Runs one activity attempt.
  using ActivityInvoker = std::function<absl::StatusOr<v1::Payload>(
      ActivityContext&, const internal::Payloads&)>;

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // AlreadyExists if the name is taken; InvalidArgument if it is empty.
  template <class R, class... P>
  absl::Status RegisterWorkflow(std::string name,
                                Task<R> (*fn)(WorkflowContext&, P...)) {
    std::string what = absl::StrFormat("workflow \"%s\"", name);
    return AddWorkflow(
        std::move(name), internal::KeyOf(fn),
        [what, fn](WorkflowContext& ctx, const internal::Payloads& arguments) {
          return internal::RunWorkflow(what, fn, ctx, arguments);
        });
  }

  template <class R, class... P>
  absl::Status RegisterActivity(std::string name,
                                R (*fn)(ActivityContext&, P...)) {
    std::string what = absl::StrFormat("activity \"%s\"", name);
    return AddActivity(
        std::move(name), internal::KeyOf(fn),
        [what, fn](ActivityContext& ctx, const internal::Payloads& arguments) {
          return internal::RunActivity(what, fn, ctx, arguments);
        });
  }

  // nullptr if `name` is not registered.
  const WorkflowFactory* FindWorkflow(absl::string_view name) const;
  const ActivityInvoker* FindActivity(absl::string_view name) const;

  // The name a function was registered under.
  std::optional<std::string> WorkflowName(internal::FunctionKey fn) const;
  std::optional<std::string> ActivityName(internal::FunctionKey fn) const;

  // Registered names, sorted.
  std::vector<std::string> WorkflowNames() const;
  std::vector<std::string> ActivityNames() const;

 private:
  absl::Status AddWorkflow(std::string name, internal::FunctionKey key,
                           WorkflowFactory factory);
  absl::Status AddActivity(std::string name, internal::FunctionKey key,
                           ActivityInvoker invoker);

  absl::flat_hash_map<std::string, WorkflowFactory> workflows_;
  absl::flat_hash_map<std::string, ActivityInvoker> activities_;
  absl::flat_hash_map<internal::FunctionKey, std::string> workflow_names_;
  absl::flat_hash_map<internal::FunctionKey, std::string> activity_names_;
};

}  // namespace durable

#endif  // DURABLE_REGISTRY_H_
