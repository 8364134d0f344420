#include "core/uuid.h"

#include <set>

#include "gtest/gtest.h"

namespace durable::core {
namespace {

TEST(UuidTest, IsCanonicalVersion4) {
  std::string id = NewUuid();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[13], '-');
  EXPECT_EQ(id[14], '4');
  EXPECT_EQ(id[18], '-');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
  EXPECT_EQ(id[23], '-');
}

TEST(UuidTest, IsUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(NewUuid());
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace durable::core
