// The shared relational SQL (RelationalStore, its RelationalPlanExecutor and
// TaskPoll's pick queries) is written once for every dialect: each statement
// must render in SQLite, MySQL and PostgreSQL syntax (the renderer refuses
// malformed neutral SQL: bad placeholders, gaps in their numbers,
// unterminated literals), must not use SQLite-only syntax, and must compile
// against the real schema on SQLite. What the statements do is the store
// contract suite's business (backends/conformance, run by the SQLite store).
#include "backends/sql/relational_store.h"

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "backends/sql/dialect.h"
#include "backends/sql/relational_plan_executor.h"
#include "backends/sql/task_poll.h"
#include "backends/sqlite/connection.h"
#include "backends/sqlite/schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A connection that only has a dialect: enough to build the statements.
class DialectOnlyConnection final : public Connection {
 public:
  explicit DialectOnlyConnection(const Dialect& dialect)
      : Connection(dialect) {}
  absl::Status Exec(absl::string_view) override { return Unavailable(); }
  int64_t Changes() const override { return 0; }
  int64_t TotalChanges() const override { return 0; }
  bool InTransaction() const override { return false; }
  absl::Status Begin(TransactionMode) override { return Unavailable(); }
  absl::Status Commit() override { return Unavailable(); }
  absl::Status Rollback() override { return Unavailable(); }

 protected:
  absl::StatusOr<std::unique_ptr<PreparedStatement>> Compile(
      const RenderedStatement&) override {
    return Unavailable();
  }

 private:
  static absl::Status Unavailable() {
    return absl::UnimplementedError("no database");
  }
};

const Dialect* const kDialects[] = {&SqliteDialect(), &MysqlDialect(),
                                    &PostgresDialect()};

// Polls of every shape the pick queries take: one or several queues,
// unrestricted, restricted with nobody else claiming, claims of all names
// or some, and a poller that runs no name of its own.
std::vector<TaskPoll> Polls(const Dialect& dialect) {
  core::TaskNameFilter unrestricted;
  core::TaskNameFilter alone;
  alone.restricted = true;
  alone.names = {"a"};
  core::TaskNameFilter shared;
  shared.restricted = true;
  shared.names = {"a", "b"};
  shared.claimed["q1"].all = true;
  shared.claimed["q2"].names = {"c", "d"};
  shared.claimed["q3"];  // claims nothing: ignored
  core::TaskNameFilter none_of_mine;
  none_of_mine.restricted = true;
  none_of_mine.claimed["q1"].names = {"c"};
  std::vector<TaskPoll> polls;
  for (TaskKind kind : {TaskKind::kWorkflow, TaskKind::kActivity}) {
    for (const core::TaskNameFilter* filter :
         {&unrestricted, &alone, &shared, &none_of_mine}) {
      polls.emplace_back(kind, std::vector<std::string>{"q1"}, *filter,
                         dialect);
      polls.emplace_back(kind, std::vector<std::string>{"q1", "q2", "q3"},
                         *filter, dialect);
    }
  }
  return polls;
}

// Every neutral statement a store of `dialect` may prepare.
std::vector<std::string> AllStatements(const Dialect& dialect) {
  DialectOnlyConnection connection(dialect);
  RelationalStore store(&connection);
  std::vector<std::string> statements;
  for (absl::string_view sql : store.Statements()) {
    statements.emplace_back(sql);
  }
  for (const TaskPoll& poll : Polls(dialect)) {
    statements.push_back(poll.pick_sql());
    statements.push_back(poll.lease_pick_sql());
  }
  return statements;
}

TEST(RelationalStoreTest, EveryStatementRendersInEveryDialect) {
  for (const Dialect* dialect : kDialects) {
    const std::vector<std::string> statements = AllStatements(*dialect);
    ASSERT_FALSE(statements.empty());
    for (const std::string& sql : statements) {
      SCOPED_TRACE(::testing::Message() << dialect->name << ": " << sql);
      absl::StatusOr<RenderedStatement> rendered = dialect->Render(sql);
      ASSERT_TRUE(rendered.ok()) << rendered.status();
      if (dialect->placeholders == PlaceholderStyle::kPositional &&
          rendered->parameter_count > 0) {
        EXPECT_FALSE(rendered->positions.empty());
      }
    }
  }
}

// The pick queries in each dialect's words: the join that keeps the loop
// order, the row lock only where a task is leased, and placeholders
// numbered as TaskPoll binds them (?1 the time, then its values).
TEST(RelationalStoreTest, PickQueriesUseEachDialectsJoinAndLock) {
  core::TaskNameFilter filter;
  filter.restricted = true;
  filter.names = {"mine"};
  filter.claimed["q"].names = {"theirs"};
  for (const Dialect* dialect : kDialects) {
    SCOPED_TRACE(dialect->name);
    TaskPoll workflow(TaskKind::kWorkflow, {"q", "r"}, filter, *dialect);
    TaskPoll activity(TaskKind::kActivity, {"q", "r"}, filter, *dialect);
    EXPECT_THAT(workflow.pick_sql(),
                HasSubstr(absl::StrCat("FROM inbox e", dialect->ordered_join,
                                       "instances i ON")));
    // Bound: the queues, the claimed queue and its name, the poller's own.
    EXPECT_THAT(workflow.values(),
                ElementsAre("q", "r", "q", "theirs", "mine"));
    EXPECT_THAT(activity.values(),
                ElementsAre("q", "r", "q", "theirs", "mine"));
    for (const TaskPoll* poll : {&workflow, &activity}) {
      EXPECT_EQ(poll->lease_pick_sql(),
                absl::StrCat(poll->pick_sql(), dialect->skip_locked));
      absl::StatusOr<RenderedStatement> rendered =
          dialect->Render(poll->lease_pick_sql());
      ASSERT_TRUE(rendered.ok()) << rendered.status();
      EXPECT_EQ(rendered->parameter_count, 6);
    }
  }
  TaskPoll mysql(TaskKind::kActivity, {"q", "r"}, filter, MysqlDialect());
  absl::StatusOr<RenderedStatement> rendered =
      MysqlDialect().Render(mysql.lease_pick_sql());
  ASSERT_TRUE(rendered.ok());
  EXPECT_THAT(rendered->text,
              HasSubstr("WHERE visible_at <= ? AND (lease_token IS NULL OR "
                        "lease_expires_at <= ?) AND queue IN (?, ?) AND "
                        "(activity_name IN (?) OR NOT ((queue = ? AND "
                        "activity_name IN (?)))) ORDER BY visible_at, id "
                        "LIMIT 1 FOR UPDATE SKIP LOCKED"));
  EXPECT_THAT(rendered->positions, ElementsAre(1, 1, 2, 3, 6, 4, 5));
  TaskPoll postgres(TaskKind::kWorkflow, {"q"}, core::TaskNameFilter(),
                    PostgresDialect());
  rendered = PostgresDialect().Render(postgres.lease_pick_sql());
  ASSERT_TRUE(rendered.ok());
  EXPECT_THAT(rendered->text,
              HasSubstr("FROM inbox e JOIN instances i ON i.instance_id = "
                        "e.instance_id AND i.execution_id = e.execution_id "
                        "WHERE e.visible_at <= $1 AND i.state = 1 AND "
                        "i.ready_at <= $1 AND (i.lease_token IS NULL OR "
                        "i.lease_expires_at <= $1) AND i.queue IN ($2) "
                        "ORDER BY e.visible_at, e.id LIMIT 1 FOR UPDATE "
                        "SKIP LOCKED"));
}

// Polls asking different questions never share a key (a store reuses
// empty answers under it); the same question always does, however it was
// put (a restricted filter nobody else claims against matches every task).
TEST(RelationalStoreTest, PollKeysTellQuestionsApart) {
  core::TaskNameFilter unrestricted;
  core::TaskNameFilter alone;
  alone.restricted = true;
  alone.names = {"a"};
  core::TaskNameFilter shared;
  shared.restricted = true;
  shared.names = {"a"};
  shared.claimed["q1"].names = {"c"};
  core::TaskNameFilter shared_other = shared;
  shared_other.names = {"b"};
  const Dialect& d = SqliteDialect();
  auto key = [&](TaskKind kind, std::vector<std::string> queues,
                 const core::TaskNameFilter& filter) {
    return TaskPoll(kind, queues, filter, d).key();
  };
  const std::string base = key(TaskKind::kWorkflow, {"q1"}, unrestricted);
  EXPECT_EQ(key(TaskKind::kWorkflow, {"q1"}, unrestricted), base);
  EXPECT_EQ(key(TaskKind::kWorkflow, {"q1"}, alone), base);
  absl::flat_hash_set<std::string> keys = {
      base,
      key(TaskKind::kActivity, {"q1"}, unrestricted),
      key(TaskKind::kWorkflow, {"q2"}, unrestricted),
      key(TaskKind::kWorkflow, {"q1", "q2"}, unrestricted),
      key(TaskKind::kWorkflow, {"q1"}, shared),
      key(TaskKind::kWorkflow, {"q1"}, shared_other),
      key(TaskKind::kActivity, {"q1"}, shared)};
  EXPECT_EQ(keys.size(), 7u);
}

// The statement of `store` containing `part` (exactly one must).
std::string StatementWith(const RelationalStore& store,
                          absl::string_view part) {
  std::vector<std::string> found;
  for (absl::string_view sql : store.Statements()) {
    if (absl::StrContains(sql, part)) found.emplace_back(sql);
  }
  EXPECT_EQ(found.size(), 1u) << part;
  return found.empty() ? "" : found[0];
}

// The listing (its cursor a pair, a parameter used twice, LIMIT bound)
// and the due-time query (a derived table, which servers require to be
// named) in the servers' syntax.
TEST(RelationalStoreTest, ListingAndDueTimeRenderForServers) {
  DialectOnlyConnection mysql_connection(MysqlDialect());
  RelationalStore mysql(&mysql_connection);
  absl::StatusOr<RenderedStatement> list =
      MysqlDialect().Render(StatementWith(mysql, "NOT EXISTS"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->text,
              HasSubstr("AND (? = 0 OR i.created_at < ? OR (i.created_at = ? "
                        "AND i.seq < ?)) ORDER BY i.created_at DESC, i.seq "
                        "DESC LIMIT ?"));
  EXPECT_THAT(list->positions, ElementsAre(1, 2, 2, 3, 4));

  DialectOnlyConnection postgres_connection(PostgresDialect());
  RelationalStore postgres(&postgres_connection);
  absl::StatusOr<RenderedStatement> due =
      PostgresDialect().Render(StatementWith(postgres, "min(ready_at)"));
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(due->text,
            "SELECT min(t) FROM (SELECT min(visible_at) AS t FROM inbox WHERE "
            "visible_at > $1 UNION ALL SELECT min(ready_at) FROM instances "
            "WHERE state = $2 AND ready_at > $1 UNION ALL SELECT "
            "min(lease_expires_at) FROM instances WHERE state = $2 AND "
            "lease_token IS NOT NULL AND lease_expires_at > $1) AS due");
  EXPECT_EQ(due->parameter_count, 2);
  // Every derived table is named.
  for (absl::string_view sql : postgres.Statements()) {
    if (absl::StrContains(sql, "FROM (SELECT")) {
      EXPECT_TRUE(absl::EndsWith(sql, ") AS due")) << sql;
    }
  }
}

TEST(RelationalStoreTest, StatementsAreDistinct) {
  DialectOnlyConnection connection(SqliteDialect());
  RelationalStore store(&connection);
  const std::vector<absl::string_view> statements = store.Statements();
  absl::flat_hash_set<absl::string_view> distinct(statements.begin(),
                                                  statements.end());
  EXPECT_EQ(distinct.size(), statements.size());
}

TEST(RelationalStoreTest, NoSqliteOnlySyntax) {
  // SQLite's dialect fields (its CROSS JOIN) aside: the MySQL rendering.
  for (const std::string& sql : AllStatements(MysqlDialect())) {
    const std::string lower = absl::AsciiStrToLower(sql);
    EXPECT_THAT(lower, Not(HasSubstr("rowid"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("insert or "))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("typeof"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("without"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("glob"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("pragma"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("cross join"))) << sql;
    // Bare truth values, which PostgreSQL refuses (dialect.h).
    EXPECT_THAT(lower, Not(HasSubstr("and 1 "))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("(0 or"))) << sql;
  }
}

TEST(RelationalStoreTest, EveryStatementCompilesAgainstTheSqliteSchema) {
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> connection =
      sqlite::Connection::Open(":memory:",
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(sqlite::EnsureSchema(**connection, "memory").ok());
  for (const std::string& sql : AllStatements(SqliteDialect())) {
    absl::StatusOr<Statement> stmt = (*connection)->Prepare(sql);
    EXPECT_TRUE(stmt.ok()) << sql << ": " << stmt.status();
  }
}

TEST(RelationalStoreTest, InboxCursorRoundTrips) {
  InboxCursor cursor;
  ASSERT_TRUE(ParseInboxCursor(FormatInboxCursor({42, 1700}), &cursor));
  EXPECT_EQ(cursor.max_id, 42);
  EXPECT_EQ(cursor.taken_at_us, 1700);
  EXPECT_FALSE(ParseInboxCursor("42", &cursor));
  EXPECT_FALSE(ParseInboxCursor("x:1", &cursor));
}

}  // namespace
}  // namespace durable::backends::sql
