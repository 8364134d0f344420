#include "backends/redis/connection.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace durable::backends::redis {
namespace {

timeval TimevalOf(absl::Duration d) { return absl::ToTimeval(d); }

Reply Copy(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(Copy(r->element[i]));
      }
      break;
    default:
      out.type = Reply::Type::kNil;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const RedisOptions& options) {
  const std::string address = ServerAddress(options);
  redisContext* context = redisConnectWithTimeout(
      options.host.c_str(), options.port, TimevalOf(options.connect_timeout));
  if (context == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot connect to Redis at ", address, ": out of memory"));
  }
  if (context->err != 0) {
    absl::Status status = absl::UnavailableError(absl::StrCat(
        "cannot connect to Redis at ", address, ": ", context->errstr));
    redisFree(context);
    return status;
  }
  std::unique_ptr<Connection> connection(new Connection(context, address));
  // Authentication and SELECT are bounded like the connect itself.
  connection->SetTimeout(options.connect_timeout);
  if (options.password.has_value()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options.user.empty()) auth.push_back(options.user);
    auth.push_back(*options.password);
    absl::StatusOr<Reply> reply = connection->Command(auth);
    if (!reply.ok()) return reply.status();
    if (reply->is_error()) {
      return absl::UnauthenticatedError(
          absl::StrCat("Redis at ", address, " refused the credentials",
                       options.user.empty()
                           ? ""
                           : absl::StrCat(" of user \"", options.user, "\""),
                       ": ", reply->str));
    }
  }
  absl::StatusOr<Reply> selected =
      connection->Command({"SELECT", absl::StrCat(options.db)});
  if (!selected.ok()) return selected.status();
  if (selected->is_error()) {
    if (absl::StartsWith(selected->str, "NOAUTH")) {
      return absl::UnauthenticatedError(
          absl::StrCat("Redis at ", address,
                       " needs a password (redis://user:password@host:port): ",
                       selected->str));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("Redis at ", address, " refused database ", options.db,
                     ": ", selected->str));
  }
  // Scripts that append long histories may take a while; a dead server is
  // noticed by the socket, not by this bound.
  connection->SetTimeout(absl::Seconds(120));
  return connection;
}

Connection::~Connection() {
  if (context_ != nullptr) redisFree(context_);
}

void Connection::SetTimeout(absl::Duration timeout) {
  redisSetTimeout(context_, TimevalOf(timeout));
}

void Connection::ShutdownSocket() {
  if (context_ != nullptr && context_->fd >= 0) {
    shutdown(context_->fd, SHUT_RDWR);
  }
}

absl::Status Connection::Broken(absl::string_view doing) {
  broken_ = true;
  return absl::UnavailableError(absl::StrCat(
      "Redis at ", address_, ": ", doing, ": ",
      context_->errstr[0] != '\0' ? context_->errstr : "connection lost"));
}

absl::StatusOr<Reply> Connection::Command(
    const std::vector<std::string>& args) {
  if (broken_) return Broken("connection is broken");
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  void* raw = redisCommandArgv(context_, static_cast<int>(argv.size()),
                               argv.data(), lengths.data());
  if (raw == nullptr) return Broken(absl::StrCat("sending ", args[0]));
  auto* reply = static_cast<redisReply*>(raw);
  Reply copy = Copy(reply);
  freeReplyObject(reply);
  return copy;
}

absl::StatusOr<Reply> Connection::NextReply() {
  if (broken_) return Broken("connection is broken");
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
    return Broken("waiting for a reply");
  }
  auto* reply = static_cast<redisReply*>(raw);
  Reply copy = Copy(reply);
  freeReplyObject(reply);
  return copy;
}

}  // namespace durable::backends::redis
