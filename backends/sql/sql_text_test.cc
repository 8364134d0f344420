#include "backends/sql/sql_text.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SkipQuotedOrCommentTest, SkipsEachForm) {
  EXPECT_EQ(*SkipQuotedOrComment("'a;b' x", 0), 5u);
  EXPECT_EQ(*SkipQuotedOrComment("'it''s' x", 0), 7u);
  EXPECT_EQ(*SkipQuotedOrComment("\"col\"\"umn\" x", 0), 10u);
  EXPECT_EQ(*SkipQuotedOrComment("`t` x", 0), 3u);
  EXPECT_EQ(*SkipQuotedOrComment("-- c; ?\nx", 0), 8u);
  EXPECT_EQ(*SkipQuotedOrComment("-- to the end", 0), 13u);
  EXPECT_EQ(*SkipQuotedOrComment("/* ; ? */x", 0), 9u);
  // Not the start of any of them: stays.
  EXPECT_EQ(*SkipQuotedOrComment("- 1", 0), 0u);
  EXPECT_EQ(*SkipQuotedOrComment("/ 2", 0), 0u);
  EXPECT_EQ(*SkipQuotedOrComment("x'", 0), 0u);
}

TEST(SkipQuotedOrCommentTest, UnterminatedIsAnError) {
  for (const char* text : {"'open", "\"open", "/* open", "'it''"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<size_t> end = SkipQuotedOrComment(text, 0);
    ASSERT_FALSE(end.ok());
    EXPECT_EQ(end.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(end.status().message(), HasSubstr("unterminated"));
  }
}

TEST(SplitStatementsTest, SplitsAtTopLevelSemicolonsOnly) {
  absl::StatusOr<std::vector<std::string>> statements = SplitStatements(
      "-- header; with a semicolon and an apostrophe's\n"
      "CREATE TABLE t (a TEXT DEFAULT ';');\n"
      "\n"
      "/* ; */ INSERT INTO t VALUES ('x;y');  ;;\n"
      "UPDATE t SET a = 'z'  -- trailing; comment\n");
  ASSERT_TRUE(statements.ok()) << statements.status();
  EXPECT_THAT(*statements,
              ElementsAre("-- header; with a semicolon and an apostrophe's\n"
                          "CREATE TABLE t (a TEXT DEFAULT ';')",
                          "/* ; */ INSERT INTO t VALUES ('x;y')",
                          "UPDATE t SET a = 'z'  -- trailing; comment"));
}

TEST(SplitStatementsTest, CommentsAndBlanksAloneAreNoStatements) {
  EXPECT_THAT(*SplitStatements(""), ElementsAre());
  EXPECT_THAT(*SplitStatements("  ;\n; -- nothing\n/* at all */;"),
              ElementsAre());
}

TEST(SplitStatementsTest, UnterminatedLiteralIsAnError) {
  EXPECT_EQ(SplitStatements("SELECT 'a; SELECT 1;").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace durable::backends::sql
