#include "testing/servers/redis_server.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "testing/servers/server_user.h"
#include "testing/servers/start_on_free_port.h"

namespace durable::testing {
namespace {

constexpr char kRedisServer[] = "/usr/bin/redis-server";
constexpr char kPackage[] = "redis-server";
constexpr absl::Duration kStopGrace = absl::Seconds(10);

// Whether the server answers PING with PONG (not -LOADING or a refusal).
bool AnswersPing(int port, std::string& error) {
  timeval timeout{1, 0};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (context == nullptr) {
    error = "cannot allocate a hiredis context";
    return false;
  }
  bool pong = false;
  if (context->err != 0) {
    error = context->errstr;
  } else {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    if (reply == nullptr) {
      error = context->errstr;
    } else if (reply->type == REDIS_REPLY_STATUS &&
               strcmp(reply->str, "PONG") == 0) {
      pong = true;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      error = reply->str;
    }
    if (reply != nullptr) freeReplyObject(reply);
  }
  redisFree(context);
  return pong;
}

}  // namespace

RedisServer::~RedisServer() { Stop().IgnoreError(); }

absl::Status RedisServer::Start() {
  if (process_.pid() > 0) {
    return absl::FailedPreconditionError("RedisServer already started");
  }
  absl::Status installed = RequireInstalled(kRedisServer, kPackage);
  if (!installed.ok()) return installed;
  absl::StatusOr<ServerUser> user = ServerUser::ForServers();
  if (!user.ok()) return user.status();
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create("redis", *user);
  if (!dir.ok()) return dir.status();
  dir_ = std::move(*dir);

  ListenSpec listen;
  listen.command = [&](int port) {
    ProcessSpec spec;
    spec.binary = kRedisServer;
    spec.args = {"--port", absl::StrCat(port), "--bind", "127.0.0.1",
                 // Nothing persisted: no snapshots, no append-only file.
                 "--save", "", "--appendonly", "no",
                 // Where any file would go, and the log on stdout (captured).
                 "--dir", dir_.path(), "--logfile", "", "--daemonize", "no"};
    spec.args.insert(spec.args.end(), options_.extra_args.begin(),
                     options_.extra_args.end());
    spec.env = ServerEnvironment(dir_.path());
    spec.working_dir = dir_.path();
    spec.log_path = absl::StrCat(dir_.path(), "/redis.log");
    spec.user = *user;
    return spec;
  };
  listen.ready = AnswersPing;
  listen.timeout = options_.start_timeout;
  absl::StatusOr<int> port = StartOnFreePort(process_, listen);
  if (!port.ok()) {
    dir_.Remove().IgnoreError();
    return port.status();
  }
  port_ = *port;
  uri_ = absl::StrCat("redis://127.0.0.1:", port_);
  spec_ = listen.command(port_);
  return absl::OkStatus();
}

absl::Status RedisServer::Restart(absl::Duration down) {
  if (port_ == 0)
    return absl::FailedPreconditionError("RedisServer not started");
  absl::Status stopped = process_.Stop(SIGTERM, kStopGrace);
  if (!stopped.ok()) return stopped;
  absl::SleepFor(down);
  absl::Status started = process_.Start(spec_);
  if (!started.ok()) return started;
  std::string error;
  const int port = port_;
  return process_.WaitUntil([&] { return AnswersPing(port, error); },
                            options_.start_timeout,
                            absl::StrCat("answer PING on 127.0.0.1:", port));
}

absl::Status RedisServer::Stop() {
  absl::Status stopped = process_.Stop(SIGTERM, kStopGrace);
  absl::Status removed = dir_.Remove();
  port_ = 0;
  uri_.clear();
  return stopped.ok() ? removed : stopped;
}

}  // namespace durable::testing
