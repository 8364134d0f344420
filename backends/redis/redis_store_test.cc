// The Redis store's own business, on real redis-servers: opening (an
// unreachable server, passwords, databases, URIs through the registry), key
// prefixes that share a server, wake-ups across store objects (as across
// processes), and scripts lost by the server. The contract every store
// keeps is redis_contract_test.
#include "backends/redis/redis_store.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backends/conformance/history_events.h"
#include "core/clock.h"
#include "core/storage/store_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/servers/free_port.h"
#include "testing/servers/redis_server.h"
#include "testing/servers/shared_server.h"

namespace durable::backends::redis {
namespace {

using ::durable::testing::Instance;
using ::durable::testing::RedisServer;
using ::durable::testing::SharedServer;
using ::durable::testing::Started;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kLease = absl::Seconds(30);

RedisServer& Server() {
  absl::StatusOr<RedisServer*> server = SharedServer<RedisServer>::Get();
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) std::abort();
  return **server;
}

std::string UniquePrefix(absl::string_view name) {
  static std::atomic<int> counter = 0;
  return absl::StrCat(name, "-", getpid(), "-", counter++);
}

RedisOptions OptionsFor(int port, const std::string& prefix) {
  RedisOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.prefix = prefix;
  return options;
}

std::unique_ptr<RedisStore> MustOpen(const RedisOptions& options) {
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

void CreateOn(core::Store& store, const std::string& id,
              const std::string& exec) {
  absl::Status status =
      store.CreateWorkflowInstance(Instance(id, exec), Started("wf"));
  ASSERT_TRUE(status.ok()) << status;
}

std::optional<core::WorkflowTask> PollNow(core::Store& store,
                                          absl::Duration wait) {
  auto task = store.GetWorkflowTask({}, kLease, absl::Now() + wait, nullptr);
  EXPECT_TRUE(task.ok()) << task.status();
  return task.ok() ? *task : std::nullopt;
}

TEST(RedisStoreTest, UnreachableServerIsNamedByHostAndPort) {
  absl::StatusOr<int> port = durable::testing::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string address = absl::StrCat("127.0.0.1:", *port);
  absl::StatusOr<std::unique_ptr<RedisStore>> store =
      RedisStore::Open(OptionsFor(*port, "unreachable"));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(store.status().message(), HasSubstr(address));

  // The same through the registry, by URI.
  auto by_uri = core::storage::OpenStore(absl::StrCat("redis://", address));
  EXPECT_EQ(by_uri.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(by_uri.status().message(), HasSubstr(address));
}

TEST(RedisStoreTest, UnknownUriPartsAreRefusedBeforeConnecting) {
  // Port 1: nothing listens there, and nothing is tried -- the URI is
  // refused first.
  auto unknown = core::storage::OpenStore("redis://127.0.0.1:1?colour=blue");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("colour"));
  auto path = core::storage::OpenStore("redis://127.0.0.1:1/zero");
  EXPECT_EQ(path.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(path.status().message(), HasSubstr("/zero"));
  auto fragment = core::storage::OpenStore("redis://127.0.0.1:1/0#x");
  EXPECT_EQ(fragment.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RedisStoreTest, OpensByUriThroughTheRegistry) {
  const std::string prefix = UniquePrefix("uri");
  auto store = core::storage::OpenStore(
      absl::StrCat(Server().uri(), "/0?prefix=", prefix));
  ASSERT_TRUE(store.ok()) << store.status();
  CreateOn(**store, "i1", "e1");
  EXPECT_TRUE(PollNow(**store, absl::Seconds(10)).has_value());
  EXPECT_THAT((*store)->Describe(),
              HasSubstr(absl::StrCat("127.0.0.1:", Server().port())));
  EXPECT_THAT((*store)->Describe(), HasSubstr("appendfsync="));
}

TEST(RedisStoreTest, PasswordsAreCheckedAtOpen) {
  // A server of its own, given a password once it answers (the launcher
  // waits for an answer to an unauthenticated PING).
  RedisServer server;
  absl::Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started;
  {
    redisContext* context =
        redisConnectWithTimeout("127.0.0.1", server.port(), timeval{5, 0});
    ASSERT_NE(context, nullptr);
    ASSERT_EQ(context->err, 0) << context->errstr;
    auto* reply = static_cast<redisReply*>(
        redisCommand(context, "CONFIG SET requirepass sesame"));
    ASSERT_NE(reply, nullptr);
    EXPECT_EQ(reply->type, REDIS_REPLY_STATUS);
    freeReplyObject(reply);
    redisFree(context);
  }
  const std::string address = absl::StrCat("127.0.0.1:", server.port());

  RedisOptions options = OptionsFor(server.port(), UniquePrefix("auth"));
  absl::StatusOr<std::unique_ptr<RedisStore>> none = RedisStore::Open(options);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(none.status().message(), HasSubstr(address));
  EXPECT_THAT(none.status().message(), HasSubstr("needs a password"));

  options.password = "open-up";
  absl::StatusOr<std::unique_ptr<RedisStore>> wrong = RedisStore::Open(options);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(wrong.status().message(), HasSubstr(address));
  EXPECT_THAT(wrong.status().message(), Not(HasSubstr("open-up")));

  auto wrong_by_uri = core::storage::OpenStore(
      absl::StrCat("redis://default:open-up@", address));
  EXPECT_EQ(wrong_by_uri.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(wrong_by_uri.status().message(), Not(HasSubstr("open-up")));

  options.password = "sesame";
  std::unique_ptr<RedisStore> right = MustOpen(options);
  ASSERT_NE(right, nullptr);
  CreateOn(*right, "i1", "e1");
  EXPECT_TRUE(PollNow(*right, absl::Seconds(10)).has_value());
  auto by_uri = core::storage::OpenStore(
      absl::StrCat("redis://default:sesame@", address, "?prefix=p"));
  EXPECT_TRUE(by_uri.ok()) << by_uri.status();
}

TEST(RedisStoreTest, DatabaseTheServerDoesNotHaveIsRefused) {
  RedisOptions options = OptionsFor(Server().port(), UniquePrefix("db"));
  options.db = 999;  // redis-server has 16 unless configured otherwise.
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("999"));
}

TEST(RedisStoreTest, DatabasesAreSeparate) {
  const std::string prefix = UniquePrefix("dbs");
  RedisOptions zero = OptionsFor(Server().port(), prefix);
  RedisOptions one = zero;
  one.db = 1;
  std::unique_ptr<RedisStore> a = MustOpen(zero);
  std::unique_ptr<RedisStore> b = MustOpen(one);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  CreateOn(*a, "i1", "e1");
  EXPECT_FALSE(PollNow(*b, absl::Milliseconds(100)).has_value());
  EXPECT_TRUE(PollNow(*a, absl::Seconds(10)).has_value());
  // Nor do their wake-up messages cross (pub/sub is not per database).
  EXPECT_GT(a->wake_messages(), 0);
  EXPECT_EQ(b->wake_messages(), 0);
}

// Two applications on one server, told apart by their prefixes: the same
// instance ids, the same queues, and neither sees the other's work.
TEST(RedisStoreTest, TwoPrefixesNeverSeeEachOthersTasks) {
  std::unique_ptr<RedisStore> alpha =
      MustOpen(OptionsFor(Server().port(), UniquePrefix("alpha")));
  std::unique_ptr<RedisStore> beta =
      MustOpen(OptionsFor(Server().port(), UniquePrefix("beta")));
  ASSERT_NE(alpha, nullptr);
  ASSERT_NE(beta, nullptr);
  CreateOn(*alpha, "order-1", "alpha-exec");
  CreateOn(*beta, "order-1", "beta-exec");  // No ALREADY_EXISTS: separate.

  std::optional<core::WorkflowTask> a = PollNow(*alpha, absl::Seconds(10));
  std::optional<core::WorkflowTask> b = PollNow(*beta, absl::Seconds(10));
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->execution_id, "alpha-exec");
  EXPECT_EQ(b->execution_id, "beta-exec");
  EXPECT_FALSE(PollNow(*alpha, absl::Milliseconds(100)).has_value());
  EXPECT_FALSE(PollNow(*beta, absl::Milliseconds(100)).has_value());

  // An activity scheduled in alpha is alpha's alone.
  core::WorkflowTaskCompletion completion;
  completion.executed_events = durable::testing::TaskEvents(*a);
  const int64_t id = a->history_length + 1 +
                     static_cast<int64_t>(completion.executed_events.size());
  completion.executed_events.push_back(
      durable::testing::ActivityScheduled(id, "charge"));
  core::ActivityTaskSpec spec;
  spec.scheduled_event = completion.executed_events.back();
  completion.activities.push_back(spec);
  completion.state = v1::WORKFLOW_STATE_ACTIVE;
  ASSERT_TRUE(alpha->CompleteWorkflowTask(*a, completion).ok());
  auto none = beta->GetActivityTask(
      {}, kLease, absl::Now() + absl::Milliseconds(100), nullptr);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  auto some = alpha->GetActivityTask({}, kLease,
                                     absl::Now() + absl::Seconds(10), nullptr);
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_TRUE(some->has_value());

  auto alpha_stats = alpha->GetStats();
  auto beta_stats = beta->GetStats();
  ASSERT_TRUE(alpha_stats.ok() && beta_stats.ok());
  EXPECT_EQ(alpha_stats->pending_activity_tasks["default"], 1);
  EXPECT_TRUE(beta_stats->pending_activity_tasks.empty());
  auto beta_list = beta->ListWorkflowInstances("", 10);
  ASSERT_TRUE(beta_list.ok());
  ASSERT_EQ(beta_list->instances.size(), 1u);
  EXPECT_EQ(beta_list->instances[0].execution_id(), "beta-exec");
  CreateOn(*alpha, "only-in-alpha", "e1");
  EXPECT_EQ(
      beta->DeliverWorkflowEvent("only-in-alpha", durable::testing::Signal("s"))
          .code(),
      absl::StatusCode::kNotFound);
}

// A poller that is never told to look again (its re-check interval is an
// hour) still gets a task another store object -- as good as another
// process -- commits: the server wakes it.
TEST(RedisStoreTest, CommitOfAnotherStoreWakesABlockedPoller) {
  const std::string prefix = UniquePrefix("wake");
  RedisOptions options = OptionsFor(Server().port(), prefix);
  options.recheck_interval = absl::Hours(1);
  std::unique_ptr<RedisStore> poller = MustOpen(options);
  std::unique_ptr<RedisStore> client =
      MustOpen(OptionsFor(Server().port(), prefix));
  ASSERT_NE(poller, nullptr);
  ASSERT_NE(client, nullptr);
  std::optional<core::WorkflowTask> task;
  std::thread waiter([&] { task = PollNow(*poller, absl::Seconds(60)); });
  absl::SleepFor(absl::Milliseconds(200));  // Most likely blocked by now.
  CreateOn(*client, "i1", "e1");
  waiter.join();
  ASSERT_TRUE(task.has_value()) << "the poller was not woken";
  EXPECT_EQ(task->instance_id, "i1");
  EXPECT_GT(poller->wake_messages(), 0);
}

// Scripts take the store's Clock when it is not the real one: a ManualClock
// alone decides when a delayed event is visible and when a lease expires.
TEST(RedisStoreTest, ManualClockDecidesVisibilityAndLeases) {
  core::ManualClock clock(absl::FromUnixSeconds(1'000'000'000));
  RedisOptions options = OptionsFor(Server().port(), UniquePrefix("clock"));
  options.clock = &clock;
  options.recheck_interval = absl::Milliseconds(20);
  std::unique_ptr<RedisStore> store = MustOpen(options);
  ASSERT_NE(store, nullptr);
  CreateOn(*store, "i1", "e1");
  // Deadlines are on the store's clock: a poll with a deadline in its past
  // looks once.
  auto poll = [&] {
    auto task =
        store->GetWorkflowTask({}, absl::Minutes(1), clock.Now(), nullptr);
    EXPECT_TRUE(task.ok()) << task.status();
    return task.ok() ? *task : std::nullopt;
  };
  std::optional<core::WorkflowTask> task = poll();
  ASSERT_TRUE(task.has_value());
  // A timer an hour from the clock's now.
  core::WorkflowTaskCompletion completion;
  completion.executed_events = durable::testing::TaskEvents(*task);
  completion.state = v1::WORKFLOW_STATE_ACTIVE;
  core::OutboundEvent timer;
  timer.instance_id = "i1";
  timer.execution_id = "e1";
  timer.event = durable::testing::Signal("wake-up");
  timer.visible_at = clock.Now() + absl::Hours(1);
  completion.outbound_events.push_back(timer);
  ASSERT_TRUE(store->CompleteWorkflowTask(*task, completion).ok());
  EXPECT_FALSE(poll().has_value());
  clock.Advance(absl::Minutes(59));
  EXPECT_FALSE(poll().has_value());
  clock.Advance(absl::Minutes(2));
  std::optional<core::WorkflowTask> fired = poll();
  ASSERT_TRUE(fired.has_value());
  ASSERT_EQ(fired->new_events.size(), 1u);
  // Its lease (a minute on the manual clock) holds until the clock moves.
  EXPECT_FALSE(poll().has_value());
  clock.Advance(absl::Minutes(2));
  std::optional<core::WorkflowTask> taken_over = poll();
  ASSERT_TRUE(taken_over.has_value());
  EXPECT_NE(taken_over->lease_token, fired->lease_token);
  EXPECT_EQ(store->ExtendWorkflowTaskLease(*fired, absl::Minutes(1)).code(),
            absl::StatusCode::kAborted);
}

// After SCRIPT FLUSH (or a restart without persistence) the server has
// forgotten the store's scripts; the store loads them again.
TEST(RedisStoreTest, ScriptsAreLoadedAgainWhenTheServerForgotThem) {
  std::unique_ptr<RedisStore> store =
      MustOpen(OptionsFor(Server().port(), UniquePrefix("flush")));
  ASSERT_NE(store, nullptr);
  redisContext* context =
      redisConnectWithTimeout("127.0.0.1", Server().port(), timeval{5, 0});
  ASSERT_NE(context, nullptr);
  ASSERT_EQ(context->err, 0) << context->errstr;
  auto* reply = static_cast<redisReply*>(redisCommand(context, "SCRIPT FLUSH"));
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->type, REDIS_REPLY_STATUS);
  freeReplyObject(reply);
  redisFree(context);
  CreateOn(*store, "i1", "e1");
  EXPECT_TRUE(PollNow(*store, absl::Seconds(10)).has_value());
}

}  // namespace
}  // namespace durable::backends::redis
