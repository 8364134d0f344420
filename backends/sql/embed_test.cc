// The embedded_files rule compiles files in byte for byte.
#include <string>

#include "backends/sql/testdata/embedded_test_files.h"
#include "gtest/gtest.h"

namespace durable::backends::sql {
namespace {

TEST(EmbeddedFilesTest, EveryByteAndNameSurvives) {
  absl::Span<const EmbeddedFile> files = testdata::EmbeddedTestFiles();
  ASSERT_EQ(files.size(), 2u);
  // Sorted by name, directories dropped.
  EXPECT_EQ(files[0].name, "empty.txt");
  EXPECT_EQ(files[0].contents, "");
  EXPECT_EQ(files[1].name, "odd_bytes.txt");
  static constexpr char kExpected[] =
      "quote \" backslash \\ question ?? trigraph ?\?= tab \t e-acute "
      "\xc3\xa9 byte \xff nul \0 end\n";
  EXPECT_EQ(files[1].contents, std::string(kExpected, sizeof kExpected - 1));
}

}  // namespace
}  // namespace durable::backends::sql
