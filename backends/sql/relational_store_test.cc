// The shared relational SQL (RelationalStore and its RelationalPlanExecutor)
// is written once for every dialect: each statement must render in SQLite,
// MySQL and PostgreSQL syntax (the renderer refuses malformed neutral SQL:
// bad placeholders, gaps in their numbers, unterminated literals), must not
// use SQLite-only syntax, and must compile against the real schema on
// SQLite. What the statements do is the store
// contract suite's business (backends/conformance, run by the SQLite store).
#include "backends/sql/relational_store.h"

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "backends/sql/dialect.h"
#include "backends/sql/relational_plan_executor.h"
#include "backends/sqlite/connection.h"
#include "backends/sqlite/schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sql {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Servers' schemas order an instance's executions by an autoincrement
// column; SQLite's by its rowid.
constexpr char kServerInstanceOrder[] = "seq";

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

struct Case {
  const Dialect* dialect;
  absl::string_view instance_order;
};

std::vector<Case> Cases() {
  return {{&SqliteDialect(), "rowid"},
          {&MysqlDialect(), kServerInstanceOrder},
          {&PostgresDialect(), kServerInstanceOrder}};
}

TEST(RelationalStoreTest, EveryStatementRendersInEveryDialect) {
  for (const Case& c : Cases()) {
    DialectOnlyConnection connection(*c.dialect);
    RelationalStore store(&connection, c.instance_order);
    const std::vector<absl::string_view> statements = store.Statements();
    ASSERT_FALSE(statements.empty());
    for (absl::string_view sql : statements) {
      SCOPED_TRACE(::testing::Message() << c.dialect->name << ": " << sql);
      absl::StatusOr<RenderedStatement> rendered = c.dialect->Render(sql);
      ASSERT_TRUE(rendered.ok()) << rendered.status();
      if (c.dialect->placeholders == PlaceholderStyle::kPositional &&
          rendered->parameter_count > 0) {
        EXPECT_FALSE(rendered->positions.empty());
      }
    }
  }
}

TEST(RelationalStoreTest, StatementsAreDistinct) {
  DialectOnlyConnection connection(SqliteDialect());
  RelationalStore store(&connection, "rowid");
  const std::vector<absl::string_view> statements = store.Statements();
  absl::flat_hash_set<absl::string_view> distinct(statements.begin(),
                                                  statements.end());
  EXPECT_EQ(distinct.size(), statements.size());
}

TEST(RelationalStoreTest, NoSqliteOnlySyntax) {
  // SQLite's own statements (its rowid tie-break) aside.
  DialectOnlyConnection connection(SqliteDialect());
  RelationalStore store(&connection, kServerInstanceOrder);
  for (absl::string_view sql : store.Statements()) {
    const std::string lower = absl::AsciiStrToLower(sql);
    EXPECT_THAT(lower, Not(HasSubstr("rowid"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("insert or "))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("typeof"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("without"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("glob"))) << sql;
    EXPECT_THAT(lower, Not(HasSubstr("pragma"))) << sql;
  }
}

TEST(RelationalStoreTest, EveryStatementCompilesAgainstTheSqliteSchema) {
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> connection =
      sqlite::Connection::Open(":memory:",
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(sqlite::EnsureSchema(**connection, "memory").ok());
  RelationalStore store(connection->get(), "rowid");
  for (absl::string_view sql : store.Statements()) {
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
