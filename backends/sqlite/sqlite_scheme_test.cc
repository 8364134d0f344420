// The "sqlite" scheme as programs reach it: through the store registry, in a
// binary that links only the sqlite_scheme library. The messages are
// pinned exactly where users and scripts may match on them.
#include "backends/sqlite/sqlite_scheme.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/storage/store_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends::sqlite {
namespace {

using ::durable::core::storage::OpenStore;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SqliteSchemeTest, OpensMemoryStore) {
  auto store = OpenStore("sqlite::memory:");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Describe(), "sqlite memory");
}

TEST(SqliteSchemeTest, OpensFileStore) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/open.db");
  auto store = OpenStore(absl::StrCat("sqlite://", path));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_THAT((*store)->Describe(), HasSubstr("sqlite file="));
  EXPECT_THAT((*store)->Describe(), HasSubstr("open.db"));
}

TEST(SqliteSchemeTest, EmptyUriIsInvalid) {
  auto store = OpenStore("");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.status().message(),
            "empty backend URI: expected sqlite:///path/to/file.db or "
            "sqlite::memory:");
}

TEST(SqliteSchemeTest, MalformedSqliteUrisQuoteTheUri) {
  for (const char* uri :
       {"sqlite:/x", "sqlite://relative/x.db", "sqlite:", "sqlite://",
        "sqlite:///", "sqlite:memory", "sqlite::memory", "sqlite:///dir/"}) {
    auto store = OpenStore(uri);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument) << uri;
    EXPECT_THAT(store.status().message(),
                HasSubstr(absl::StrCat("malformed backend URI \"", uri, "\"")));
    EXPECT_THAT(store.status().message(),
                HasSubstr("expected sqlite:///path/to/file.db or "
                          "sqlite::memory:"));
  }
}

TEST(SqliteSchemeTest, LinkingTheLibraryRegistersTheScheme) {
  EXPECT_THAT(core::storage::RegisteredStoreSchemes(), ElementsAre("sqlite"));
  absl::Status again = core::storage::RegisterStoreScheme(
      "sqlite", kSqliteUriForms, &OpenSqliteUri);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
}

TEST(SqliteSchemeTest, SchemeIsCaseInsensitive) {
  auto store = OpenStore("SQLite::memory:");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Describe(), "sqlite memory");
}

TEST(SqliteSchemeTest, UnknownSchemeIsNamed) {
  auto store = OpenStore("foo://x");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.status().message(),
            "unsupported backend URI scheme \"foo\" in \"foo://x\" "
            "(supported: sqlite)");
  EXPECT_EQ(OpenStore("redis://localhost:6379/0").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SqliteSchemeTest, UriWithoutSchemeIsMalformed) {
  auto store = OpenStore("/tmp/x.db");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(),
              HasSubstr("malformed backend URI \"/tmp/x.db\""));
}

TEST(SqliteSchemeTest, OpenErrorsComeFromTheStore) {
  // A directory is not a database file.
  const char* dir = std::getenv("TEST_TMPDIR");
  ASSERT_NE(dir, nullptr);
  auto store = OpenStore(absl::StrCat("sqlite://", dir));
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("not a regular file"));
}

TEST(SqliteSchemeTest, QueryStringsAreOptionsNotFileNames) {
  const char* dir = std::getenv("TEST_TMPDIR");
  ASSERT_NE(dir, nullptr);
  const std::string base = absl::StrCat("sqlite://", dir, "/q.db");
  auto unknown = OpenStore(base + "?mode=ro");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("unknown option \"mode\" for scheme sqlite (known: "
                        "busy_timeout_ms)"));
  EXPECT_NE(access(absl::StrCat(dir, "/q.db?mode=ro").c_str(), F_OK), 0)
      << "no file is created for a refused URI";
  EXPECT_NE(access(absl::StrCat(dir, "/q.db").c_str(), F_OK), 0);

  auto fragment = OpenStore(base + "#x");
  EXPECT_EQ(fragment.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fragment.status().message(), HasSubstr("fragments"));

  auto bad_timeout = OpenStore(base + "?busy_timeout_ms=soon");
  EXPECT_EQ(bad_timeout.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_timeout.status().message(),
              HasSubstr("busy_timeout_ms \"soon\" is not a number"));

  auto timeout = OpenStore(base + "?busy_timeout_ms=250");
  ASSERT_TRUE(timeout.ok()) << timeout.status();
  EXPECT_EQ(access(absl::StrCat(dir, "/q.db").c_str(), F_OK), 0);

  // Percent-encoding names files with spaces or a '?'.
  auto encoded = OpenStore(absl::StrCat("sqlite://", dir, "/a%20b%3F.db"));
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(access(absl::StrCat(dir, "/a b?.db").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace durable::backends::sqlite
