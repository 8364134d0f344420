// Channel<T>: passes values between the coroutines of one workflow run, like
// a Go channel (see WorkflowContext::Go).
//
//   durable::Channel<int> numbers = ctx.NewChannel<int>(/*capacity=*/2);
//   ctx.Go([numbers](durable::WorkflowContext& ctx) mutable
//              -> durable::Task<void> {
//     for (int i = 1; i <= 3; ++i) co_await numbers.Send(i);
//     numbers.Close();
//   });
//   while (std::optional<int> n = co_await numbers.Receive()) sum += *n;
//
// Contract:
//  - NewChannel<T>(capacity) buffers up to `capacity` values; capacity 0 (the
//    default) makes an unbuffered channel, whose Send completes only once a
//    receiver took the value.
//  - `co_await channel.Send(v)` yields true once the value is buffered or
//    taken, false (value dropped) if the channel is or gets closed first.
//    Go panics instead; a bool is friendlier in a workflow, where a panic
//    fails the whole run.
//  - `co_await channel.Receive()` yields the oldest value, or std::nullopt
//    once the channel is closed and drained. Buffered values are delivered
//    before pending sends, in send order.
//  - Close() is idempotent; pending and later sends yield false.
//  - Blocked coroutines are woken in the order they blocked and resumed by
//    the run's scheduler, so the interleaving is the same on every replay.
//  - Values never leave the process: a channel is not durable. On replay the
//    coroutines re-create the same sends and receives.
//  - Channels are cheap handles; copies share one channel. Use them only in
//    coroutines of the run that created them.
#ifndef DURABLE_CHANNEL_H_
#define DURABLE_CHANNEL_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "durable/internal/scheduler.h"
#include "durable/task.h"

namespace durable {

class Select;
class WorkflowContext;

namespace internal {

template <class T>
class ChannelState {
 public:
  ChannelState(Scheduler* scheduler, size_t capacity)
      : capacity_(capacity), receivers_(scheduler) {}

  // A send waiting for buffer space or (unbuffered) for a receiver.
  struct PendingSend {
    explicit PendingSend(Scheduler* scheduler, T value)
        : value(std::move(value)), waiters(scheduler) {}
    T value;
    enum { kPending, kDelivered, kDropped } state = kPending;
    WaitList waiters;
  };

  bool closed() const { return closed_; }

  // True if Receive would not block (a value, or closed).
  bool CanReceive() const {
    return !buffer_.empty() || !pending_.empty() || closed_;
  }

  // The next value, if one is available without blocking.
  std::optional<T> TryTake() {
    std::optional<T> value;
    if (!buffer_.empty()) {
      value.emplace(std::move(buffer_.front()));
      buffer_.pop_front();
      // The oldest pending send takes the freed slot.
      if (!pending_.empty()) buffer_.push_back(Deliver());
    } else if (!pending_.empty()) {
      value.emplace(Deliver());
    }
    return value;
  }

  void AddReceiver(std::shared_ptr<Waiter> waiter) {
    receivers_.Add(std::move(waiter));
  }

  static Task<bool> Send(std::shared_ptr<ChannelState> self, T value) {
    if (self->closed_) co_return false;
    if (self->pending_.empty() && self->buffer_.size() < self->capacity_) {
      self->buffer_.push_back(std::move(value));
      self->receivers_.WakeAll();
      co_return true;
    }
    auto send = std::make_shared<PendingSend>(self->receivers_.scheduler(),
                                              std::move(value));
    self->pending_.push_back(send);
    self->receivers_.WakeAll();
    while (send->state == PendingSend::kPending) {
      co_await WaitOn{send->waiters};
    }
    co_return send->state == PendingSend::kDelivered;
  }

  static Task<std::optional<T>> Receive(std::shared_ptr<ChannelState> self) {
    while (true) {
      if (std::optional<T> value = self->TryTake()) co_return value;
      if (self->closed_) co_return std::nullopt;
      co_await WaitOn{self->receivers_};
    }
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    for (const std::shared_ptr<PendingSend>& send : pending_) {
      send->state = PendingSend::kDropped;
      send->waiters.WakeAll();
    }
    pending_.clear();
    receivers_.WakeAll();
  }

 private:
  // Completes the oldest pending send and returns its value.
  T Deliver() {
    std::shared_ptr<PendingSend> send = std::move(pending_.front());
    pending_.pop_front();
    send->state = PendingSend::kDelivered;
    send->waiters.WakeAll();
    return std::move(send->value);
  }

  const size_t capacity_;
  std::deque<T> buffer_;
  std::deque<std::shared_ptr<PendingSend>> pending_;
  WaitList receivers_;
  bool closed_ = false;
};

}  // namespace internal

template <class T>
class Channel {
 public:
  // Awaitable: yields true once sent, false if the channel was closed.
  Task<bool> Send(T value) const {
    return internal::ChannelState<T>::Send(state_, std::move(value));
  }
  // Awaitable: yields the next value, std::nullopt once closed and drained.
  Task<std::optional<T>> Receive() const {
    return internal::ChannelState<T>::Receive(state_);
  }
  void Close() const { state_->Close(); }
  bool Closed() const { return state_->closed(); }

 private:
  friend class Select;
  friend class WorkflowContext;

  Channel(internal::Scheduler* scheduler, size_t capacity)
      : state_(
            std::make_shared<internal::ChannelState<T>>(scheduler, capacity)) {}

  std::shared_ptr<internal::ChannelState<T>> state_;
};

}  // namespace durable

#endif  // DURABLE_CHANNEL_H_
