// SignalChannel<T>: receives the signals sent to this workflow instance under
// one name (Client::SignalWorkflow, or WorkflowContext::SignalWorkflow from
// another workflow).
//
//   durable::SignalChannel<std::string> approvals =
//       ctx.SignalChannel<std::string>("approval");
//   absl::StatusOr<std::string> approver = co_await approvals.Receive();
//
// Contract:
//  - Signals are SignalWorkflow jobs. The run buffers them per name, in
//    arrival order (the order they were sent), until code receives them,
//    whether or not a channel for the name exists yet: a signal sent before
//    the workflow asked for the channel is not lost.
//  - `co_await channel.Receive()` yields the oldest buffered signal of the
//    name, blocking until one arrives; TryReceive() returns it or
//    std::nullopt without blocking. Either decodes the payload as T; a
//    payload that does not decode yields the decoding error (the signal is
//    consumed all the same).
//  - Channels for the same name share one buffer: each signal is received
//    once, by whichever coroutine asks first.
//  - A signal channel never closes. To stop waiting on cancellation or a
//    timeout, use durable::Select with ctx.Done() or a timer.
//  - Signals are recorded in history, so replay delivers the same signals
//    at the same points.
#ifndef DURABLE_SIGNAL_CHANNEL_H_
#define DURABLE_SIGNAL_CHANNEL_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "core/proto/common.pb.h"
#include "durable/internal/scheduler.h"
#include "durable/payload.h"
#include "durable/task.h"

namespace durable {

class Select;
class WorkflowContext;

namespace internal {

// The signals of one name not received yet.
struct SignalBuffer {
  explicit SignalBuffer(Scheduler* scheduler) : receivers(scheduler) {}

  // `arrival` numbers the run's signals of every name in arrival order.
  void Push(v1::Payload input, uint64_t arrival) {
    pending.push_back(std::move(input));
    arrivals.push_back(arrival);
    receivers.WakeAll();
  }
  v1::Payload Pop() {
    v1::Payload input = std::move(pending.front());
    pending.pop_front();
    arrivals.pop_front();
    return input;
  }

  std::deque<v1::Payload> pending;
  // The arrival number of each pending signal (continuing as new hands the
  // unreceived signals of every name to the next execution in this order).
  std::deque<uint64_t> arrivals;
  WaitList receivers;
};

}  // namespace internal

template <class T>
class SignalChannel {
 public:
  const std::string& name() const { return name_; }

  // Awaitable: the next signal, decoded.
  Task<absl::StatusOr<T>> Receive() const { return ReceiveFrom(buffer_); }

  // The next signal if one is buffered.
  std::optional<absl::StatusOr<T>> TryReceive() const {
    if (buffer_->pending.empty()) return std::nullopt;
    return DecodePayload<T>(buffer_->Pop());
  }

 private:
  friend class Select;
  friend class WorkflowContext;

  SignalChannel(std::string name,
                std::shared_ptr<internal::SignalBuffer> buffer)
      : name_(std::move(name)), buffer_(std::move(buffer)) {}

  static Task<absl::StatusOr<T>> ReceiveFrom(
      std::shared_ptr<internal::SignalBuffer> buffer) {
    while (buffer->pending.empty()) {
      co_await internal::WaitOn{buffer->receivers};
    }
    co_return DecodePayload<T>(buffer->Pop());
  }

  std::string name_;
  std::shared_ptr<internal::SignalBuffer> buffer_;
};

}  // namespace durable

#endif  // DURABLE_SIGNAL_CHANNEL_H_
