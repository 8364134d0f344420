#include "backends/sql/dialect.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A statement in the neutral form with what rendering must get right: a
// parameter used twice, placeholders out of order, and `?` characters that
// are not placeholders (in a literal, a quoted identifier, comments).
constexpr char kNeutral[] =
    "SELECT \"odd?col\", '?1 and ?' FROM inbox /* ?9 */ "
    "WHERE instance_id = ?2 AND execution_id = ?1 -- ?x\n"
    "AND (event_key = ?3 OR ?3 IS NULL) AND instance_id <> ?2";

TEST(DialectTest, SqliteKeepsTheNeutralTextItIsAlreadyIn) {
  absl::StatusOr<RenderedStatement> rendered = SqliteDialect().Render(kNeutral);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->text, kNeutral);
  EXPECT_EQ(rendered->parameter_count, 3);
  EXPECT_THAT(rendered->positions, IsEmpty());
}

TEST(DialectTest, MysqlRendersPositionalPlaceholdersWithTheirNumbers) {
  absl::StatusOr<RenderedStatement> rendered = MysqlDialect().Render(kNeutral);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->text,
            "SELECT \"odd?col\", '?1 and ?' FROM inbox /* ?9 */ "
            "WHERE instance_id = ? AND execution_id = ? -- ?x\n"
            "AND (event_key = ? OR ? IS NULL) AND instance_id <> ?");
  EXPECT_EQ(rendered->parameter_count, 3);
  // Binding value N goes to every position that holds N.
  EXPECT_THAT(rendered->positions, ElementsAre(2, 1, 3, 3, 2));
}

TEST(DialectTest, PostgresRendersDollarPlaceholders) {
  absl::StatusOr<RenderedStatement> rendered =
      PostgresDialect().Render(kNeutral);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->text,
            "SELECT \"odd?col\", '?1 and ?' FROM inbox /* ?9 */ "
            "WHERE instance_id = $2 AND execution_id = $1 -- ?x\n"
            "AND (event_key = $3 OR $3 IS NULL) AND instance_id <> $2");
  EXPECT_EQ(rendered->parameter_count, 3);
  EXPECT_THAT(rendered->positions, IsEmpty());
}

TEST(DialectTest, MultiDigitNumbersAndAdjacentText) {
  std::string neutral = "INSERT INTO t VALUES (";
  for (int i = 1; i <= 12; ++i) {
    neutral += (i == 1 ? "?" : ",?") + std::to_string(i);
  }
  neutral += ")";
  EXPECT_EQ(PostgresDialect().Render(neutral)->text,
            "INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)");
  absl::StatusOr<RenderedStatement> mysql = MysqlDialect().Render(neutral);
  EXPECT_EQ(mysql->text, "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  EXPECT_THAT(mysql->positions,
              ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
  EXPECT_EQ(mysql->parameter_count, 12);
}

TEST(DialectTest, StatementsWithoutParameters) {
  for (const Dialect* dialect :
       {&SqliteDialect(), &MysqlDialect(), &PostgresDialect()}) {
    absl::StatusOr<RenderedStatement> rendered =
        dialect->Render("SELECT count(*) FROM instances WHERE queue = 'a?'");
    ASSERT_TRUE(rendered.ok()) << dialect->name;
    EXPECT_EQ(rendered->text,
              "SELECT count(*) FROM instances WHERE queue = 'a?'");
    EXPECT_EQ(rendered->parameter_count, 0);
    EXPECT_THAT(rendered->positions, IsEmpty());
  }
}

TEST(DialectTest, RefusesWhatIsNotNeutral) {
  struct Case {
    const char* sql;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {"SELECT * FROM t WHERE a = ?", "placeholder \"?\" at offset 26"},
           {"SELECT * FROM t WHERE a = ?0", "placeholder \"?0\""},
           {"SELECT * FROM t WHERE a = ?01", "placeholder \"?01\""},
           {"SELECT * FROM t WHERE a = ?99999", "placeholder \"?99999\""},
           {"SELECT * FROM t WHERE a = $1", "\"$\" placeholder"},
           {"SELECT * FROM t WHERE a = ?1 AND b = ?3",
            "parameter ?2 is never used but ?3 is"},
           {"SELECT * FROM t WHERE a = 'open", "unterminated string literal"},
           {"SELECT 1 /* open", "unterminated comment"},
       }) {
    for (const Dialect* dialect :
         {&SqliteDialect(), &MysqlDialect(), &PostgresDialect()}) {
      SCOPED_TRACE(absl::StrCat(dialect->name, ": ", c.sql));
      absl::StatusOr<RenderedStatement> rendered = dialect->Render(c.sql);
      ASSERT_FALSE(rendered.ok());
      EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(rendered.status().message(), HasSubstr("is not neutral SQL"));
      EXPECT_THAT(rendered.status().message(), HasSubstr(c.error));
    }
  }
}

TEST(DialectTest, UpsertClauses) {
  const std::vector<absl::string_view> key = {"worker_id"};
  const std::vector<absl::string_view> update = {"last_seen", "info"};
  EXPECT_EQ(SqliteDialect().UpsertClause(key, update),
            " ON CONFLICT (worker_id) DO UPDATE SET last_seen = "
            "excluded.last_seen, info = excluded.info");
  EXPECT_EQ(PostgresDialect().UpsertClause(key, update),
            SqliteDialect().UpsertClause(key, update));
  EXPECT_EQ(MysqlDialect().UpsertClause(key, update),
            " ON DUPLICATE KEY UPDATE last_seen = VALUES(last_seen), "
            "info = VALUES(info)");

  const std::vector<absl::string_view> two_columns = {"instance_id",
                                                      "execution_id"};
  EXPECT_EQ(SqliteDialect().UpsertClause(two_columns, {}),
            " ON CONFLICT (instance_id, execution_id) DO NOTHING");
  EXPECT_EQ(PostgresDialect().UpsertClause(two_columns, {}),
            " ON CONFLICT (instance_id, execution_id) DO NOTHING");
  EXPECT_EQ(MysqlDialect().UpsertClause(two_columns, {}),
            " ON DUPLICATE KEY UPDATE instance_id = instance_id");
}

TEST(DialectTest, DescriptionsOfTheThreeDialects) {
  const Dialect& sqlite = SqliteDialect();
  EXPECT_EQ(sqlite.name, "sqlite");
  EXPECT_EQ(sqlite.placeholders, PlaceholderStyle::kNumbered);
  EXPECT_EQ(sqlite.blob_type, "BLOB");
  EXPECT_EQ(sqlite.autoincrement_key, "INTEGER PRIMARY KEY AUTOINCREMENT");
  EXPECT_EQ(sqlite.skip_locked, "");
  EXPECT_TRUE(sqlite.partial_indexes);
  EXPECT_TRUE(sqlite.returning);
  EXPECT_TRUE(sqlite.transactional_ddl);
  EXPECT_EQ(sqlite.migration_lock, "");

  const Dialect& mysql = MysqlDialect();
  EXPECT_EQ(mysql.name, "mysql");
  EXPECT_EQ(mysql.placeholders, PlaceholderStyle::kPositional);
  EXPECT_EQ(mysql.bigint_type, "BIGINT");
  EXPECT_EQ(mysql.blob_type, "LONGBLOB");
  EXPECT_THAT(mysql.key_text_type, HasSubstr("utf8mb4_bin"));
  EXPECT_THAT(mysql.autoincrement_key, HasSubstr("AUTO_INCREMENT"));
  EXPECT_EQ(mysql.upsert, UpsertStyle::kOnDuplicateKey);
  EXPECT_EQ(mysql.skip_locked, " FOR UPDATE SKIP LOCKED");
  EXPECT_FALSE(mysql.partial_indexes);
  EXPECT_FALSE(mysql.returning);
  EXPECT_FALSE(mysql.transactional_ddl);
  EXPECT_THAT(mysql.migration_lock, HasSubstr("GET_LOCK"));
  EXPECT_THAT(mysql.migration_unlock, HasSubstr("RELEASE_LOCK"));

  const Dialect& postgres = PostgresDialect();
  EXPECT_EQ(postgres.name, "postgres");
  EXPECT_EQ(postgres.placeholders, PlaceholderStyle::kDollar);
  EXPECT_EQ(postgres.blob_type, "BYTEA");
  EXPECT_EQ(postgres.key_text_type, "TEXT COLLATE \"C\"");
  EXPECT_THAT(postgres.autoincrement_key, HasSubstr("IDENTITY"));
  EXPECT_EQ(postgres.upsert, UpsertStyle::kOnConflict);
  EXPECT_EQ(postgres.skip_locked, " FOR UPDATE SKIP LOCKED");
  EXPECT_TRUE(postgres.partial_indexes);
  EXPECT_TRUE(postgres.returning);
  EXPECT_TRUE(postgres.transactional_ddl);
  EXPECT_THAT(postgres.migration_lock, HasSubstr("pg_advisory_xact_lock"));
  EXPECT_EQ(postgres.migration_unlock, "");
}

// The dialect's own statements are neutral too (they go through Prepare).
TEST(DialectTest, MigrationLocksRenderInTheirDialect) {
  for (const Dialect* dialect : {&MysqlDialect(), &PostgresDialect()}) {
    EXPECT_TRUE(dialect->Render(dialect->migration_lock).ok());
    EXPECT_TRUE(dialect->Render(dialect->migration_unlock).ok());
  }
}

}  // namespace
}  // namespace durable::backends::sql
