#include "backends/open_backend.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::backends {
namespace {

using ::testing::HasSubstr;

TEST(OpenBackendTest, OpensMemoryBackend) {
  auto backend = OpenBackend("sqlite::memory:");
  ASSERT_TRUE(backend.ok()) << backend.status();
  EXPECT_EQ((*backend)->Describe(), "sqlite memory");
}

TEST(OpenBackendTest, OpensFileBackend) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/open.db");
  auto backend = OpenBackend(absl::StrCat("sqlite://", path));
  ASSERT_TRUE(backend.ok()) << backend.status();
  EXPECT_THAT((*backend)->Describe(), HasSubstr("sqlite file="));
  EXPECT_THAT((*backend)->Describe(), HasSubstr("open.db"));
}

TEST(OpenBackendTest, EmptyUriIsInvalid) {
  auto backend = OpenBackend("");
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(backend.status().message(), HasSubstr("empty backend URI"));
}

TEST(OpenBackendTest, MalformedSqliteUrisQuoteTheUri) {
  for (const char* uri :
       {"sqlite:/x", "sqlite://relative/x.db", "sqlite:", "sqlite://",
        "sqlite:///", "sqlite:memory", "sqlite::memory", "sqlite:///dir/"}) {
    auto backend = OpenBackend(uri);
    EXPECT_EQ(backend.status().code(), absl::StatusCode::kInvalidArgument)
        << uri;
    EXPECT_THAT(backend.status().message(),
                HasSubstr(absl::StrCat("malformed backend URI \"", uri, "\"")));
    EXPECT_THAT(backend.status().message(),
                HasSubstr("expected sqlite:///path/to/file.db or "
                          "sqlite::memory:"));
  }
}

TEST(OpenBackendTest, UnknownSchemeIsNamed) {
  auto backend = OpenBackend("foo://x");
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(backend.status().message(),
            "unsupported backend URI scheme \"foo\" in \"foo://x\" "
            "(supported: sqlite)");
  EXPECT_EQ(OpenBackend("redis://localhost:6379/0").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OpenBackendTest, UriWithoutSchemeIsMalformed) {
  auto backend = OpenBackend("/tmp/x.db");
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(backend.status().message(),
              HasSubstr("malformed backend URI \"/tmp/x.db\""));
}

TEST(OpenBackendTest, OpenErrorsComeFromTheBackend) {
  // A directory is not a database file.
  const char* dir = std::getenv("TEST_TMPDIR");
  ASSERT_NE(dir, nullptr);
  auto backend = OpenBackend(absl::StrCat("sqlite://", dir));
  EXPECT_FALSE(backend.ok());
  EXPECT_THAT(backend.status().message(), HasSubstr("not a regular file"));
}

TEST(OpenBackendTest, QueryStringsAreOptionsNotFileNames) {
  const char* dir = std::getenv("TEST_TMPDIR");
  ASSERT_NE(dir, nullptr);
  const std::string base = absl::StrCat("sqlite://", dir, "/q.db");
  auto unknown = OpenBackend(base + "?mode=ro");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("unknown option \"mode\" for scheme sqlite (known: "
                        "busy_timeout_ms)"));
  EXPECT_NE(access(absl::StrCat(dir, "/q.db?mode=ro").c_str(), F_OK), 0)
      << "no file is created for a refused URI";
  EXPECT_NE(access(absl::StrCat(dir, "/q.db").c_str(), F_OK), 0);

  auto fragment = OpenBackend(base + "#x");
  EXPECT_EQ(fragment.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fragment.status().message(), HasSubstr("fragments"));

  auto bad_timeout = OpenBackend(base + "?busy_timeout_ms=soon");
  EXPECT_EQ(bad_timeout.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_timeout.status().message(),
              HasSubstr("busy_timeout_ms \"soon\" is not a number"));

  auto timeout = OpenBackend(base + "?busy_timeout_ms=250");
  ASSERT_TRUE(timeout.ok()) << timeout.status();
  EXPECT_EQ(access(absl::StrCat(dir, "/q.db").c_str(), F_OK), 0);

  // Percent-encoding names files with spaces or a '?'.
  auto encoded = OpenBackend(absl::StrCat("sqlite://", dir, "/a%20b%3F.db"));
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(access(absl::StrCat(dir, "/a b?.db").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace durable::backends
