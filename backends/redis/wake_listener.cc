#include "backends/redis/wake_listener.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace durable::backends::redis {

WakeListener::WakeListener(RedisOptions options, std::string channel,
                           std::function<void(absl::string_view)> wake)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      wake_(std::move(wake)) {}

WakeListener::~WakeListener() {
  stopping_.store(true);
  {
    absl::MutexLock lock(&mu_);
    if (current_ != nullptr) current_->ShutdownSocket();
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::unique_ptr<Connection>> WakeListener::Subscribe() {
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options_);
  if (!connection.ok()) return connection.status();
  absl::StatusOr<Reply> reply = (*connection)->Command({"SUBSCRIBE", channel_});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) {
    return absl::UnavailableError(
        absl::StrCat("Redis at ", ServerAddress(options_),
                     " refused SUBSCRIBE: ", reply->str));
  }
  // Wait for messages for as long as it takes.
  (*connection)->SetTimeout(absl::ZeroDuration());
  return connection;
}

absl::Status WakeListener::Start() {
  absl::StatusOr<std::unique_ptr<Connection>> connection = Subscribe();
  if (!connection.ok()) return connection.status();
  thread_ = std::thread(
      [this, c = std::move(*connection)]() mutable { Run(std::move(c)); });
  return absl::OkStatus();
}

void WakeListener::Run(std::unique_ptr<Connection> connection) {
  absl::Duration backoff = absl::Milliseconds(50);
  while (!stopping_.load()) {
    if (connection == nullptr) {
      absl::StatusOr<std::unique_ptr<Connection>> again = Subscribe();
      if (!again.ok()) {
        std::cerr << "durable redis: wake-up listener cannot reconnect ("
                  << again.status().message() << "); retrying in "
                  << absl::FormatDuration(backoff) << std::endl;
        absl::SleepFor(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(2));
        continue;
      }
      std::cerr << "durable redis: wake-up listener reconnected to "
                << ServerAddress(options_) << std::endl;
      connection = std::move(*again);
      backoff = absl::Milliseconds(50);
      // Work committed while we were away was not heard: look again.
      wake_(kEverything);
    }
    {
      absl::MutexLock lock(&mu_);
      current_ = connection.get();
      if (stopping_.load()) break;
    }
    absl::StatusOr<Reply> message = connection->NextReply();
    if (!message.ok()) {
      {
        absl::MutexLock lock(&mu_);
        current_ = nullptr;
      }
      if (stopping_.load()) break;
      std::cerr << "durable redis: wake-up listener lost its connection ("
                << message.status().message() << "); reconnecting" << std::endl;
      connection.reset();
      wake_(kEverything);
      continue;
    }
    messages_.fetch_add(1);
    // ["message", channel, payload]
    if (message->type == Reply::Type::kArray && message->elements.size() == 3) {
      wake_(message->elements[2].str);
    } else {
      wake_(kEverything);
    }
  }
  absl::MutexLock lock(&mu_);
  current_ = nullptr;
}

}  // namespace durable::backends::redis
