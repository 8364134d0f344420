// Connection: one blocking hiredis connection to the Redis server of a
// store, and Reply, a reply copied out of hiredis's memory.
//
// Open connects (bounded by RedisOptions::connect_timeout), authenticates
// and selects the database; its errors name the server as host:port:
// UNAVAILABLE when it cannot be reached, UNAUTHENTICATED when it refuses the
// credentials (or wants some and got none), INVALID_ARGUMENT when it refuses
// the database number. Command sends one command (arguments are binary-safe)
// and waits for its reply; a broken connection is UNAVAILABLE and stays
// broken (`broken()`), so a pool drops it. A reply of type error is returned
// as a Reply, not as a status: callers decide what it means.
//
// Not thread-safe: one caller at a time (the store's pool hands each
// connection to one caller).
#ifndef DURABLE_BACKENDS_REDIS_CONNECTION_H_
#define DURABLE_BACKENDS_REDIS_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backends/redis/redis_uri.h"

struct redisContext;

namespace durable::backends::redis {

struct Reply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  // kString, kStatus, kError.
  std::string str;
  int64_t integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::kError; }
};

class Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const RedisOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  absl::StatusOr<Reply> Command(const std::vector<std::string>& args);
  // Waits for the next reply without sending anything (for SUBSCRIBE).
  absl::StatusOr<Reply> NextReply();
  // Sets how long a command may wait for its reply; zero: forever.
  void SetTimeout(absl::Duration timeout);
  // Makes a call blocked in Command/NextReply return (from another thread).
  void ShutdownSocket();

  bool broken() const { return broken_; }
  const std::string& address() const { return address_; }

 private:
  Connection(redisContext* context, std::string address)
      : context_(context), address_(std::move(address)) {}
  absl::Status Broken(absl::string_view doing);

  redisContext* context_;
  std::string address_;
  bool broken_ = false;
};

}  // namespace durable::backends::redis

#endif  // DURABLE_BACKENDS_REDIS_CONNECTION_H_
