// The registry on its own, with fake schemes (this binary links no store).
// The registry is process-wide, so every test registers schemes of its own
// name and never assumes the others' are absent, except where it says so.
#include "core/storage/store_registry.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::core::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

// Records the URI it was given and refuses to open anything, so the tests
// need no store: the registry's own behaviour is what is under test.
StoreOpener Recording(BackendUri* seen) {
  return [seen](const BackendUri& uri)
             -> absl::StatusOr<std::shared_ptr<AdminStore>> {
    *seen = uri;
    return absl::UnavailableError(absl::StrCat("fake store ", uri.redacted));
  };
}

absl::StatusOr<std::shared_ptr<AdminStore>> Refuse(const BackendUri& uri) {
  return absl::UnavailableError("refused");
}

TEST(StoreRegistryTest, NothingRegisteredSaysHowToLinkAStore) {
  // First in this file, before any test registers a scheme: gtest runs a
  // file's tests in order unless shuffled, and shuffling is off here.
  ASSERT_TRUE(RegisteredStoreSchemes().empty());
  auto store = OpenStore("sqlite::memory:");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(),
              HasSubstr("unsupported backend URI scheme \"sqlite\""));
  EXPECT_THAT(store.status().message(), HasSubstr("//backends:all_stores"));
  EXPECT_THAT(OpenStore("").status().message(),
              HasSubstr("//backends:all_stores"));
}

TEST(StoreRegistryTest, DispatchesTheParsedUriToItsScheme) {
  BackendUri seen;
  ASSERT_TRUE(
      RegisterStoreScheme("fake", "fake://host/db", Recording(&seen)).ok());
  auto store = OpenStore("FAKE://user:secret@host:99/db?x=1");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  // The store's own error comes back unchanged.
  EXPECT_EQ(store.status().message(),
            "fake store FAKE://user:***@host:99/db?x=1");
  EXPECT_EQ(seen.scheme, "fake");
  EXPECT_EQ(seen.user, "user");
  EXPECT_EQ(seen.password, "secret");
  EXPECT_EQ(seen.host, "host");
  EXPECT_EQ(seen.port, 99);
  EXPECT_EQ(seen.path, "/db");
  ASSERT_EQ(seen.query.size(), 1u);
  EXPECT_EQ(seen.query[0].first, "x");
}

TEST(StoreRegistryTest, UnknownSchemeListsTheRegisteredOnes) {
  ASSERT_TRUE(RegisterStoreScheme("alpha", "alpha:x", &Refuse).ok());
  ASSERT_TRUE(RegisterStoreScheme("beta", "beta:y", &Refuse).ok());
  std::vector<std::string> schemes = RegisteredStoreSchemes();
  EXPECT_TRUE(std::is_sorted(schemes.begin(), schemes.end()));
  EXPECT_THAT(schemes, IsSupersetOf({"alpha", "beta"}));
  auto store = OpenStore("nope://u:pw@h/x");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.status().message(),
            absl::StrCat("unsupported backend URI scheme \"nope\" in "
                         "\"nope://u:***@h/x\" (supported: ",
                         absl::StrJoin(schemes, ", "), ")"));
}

TEST(StoreRegistryTest, DuplicateRegistrationIsRefused) {
  ASSERT_TRUE(RegisterStoreScheme("twice", "twice:first", &Refuse).ok());
  absl::Status again = RegisterStoreScheme("twice", "twice:second", &Refuse);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("\"twice\" is already registered"));
  // The first registration stands.
  auto store = OpenStore("twice:");
  EXPECT_THAT(store.status().message(), HasSubstr("refused"));
  EXPECT_THAT(OpenStore("twice:%zz").status().message(),
              HasSubstr("; expected twice:first"));
}

TEST(StoreRegistryTest, DuplicateStaticRegistrationAbortsAtStart) {
  ASSERT_TRUE(RegisterStoreScheme("static", "static:x", &Refuse).ok());
  EXPECT_DEATH(StoreSchemeRegistration("static", "static:y", &Refuse),
               "\"static\" is already registered");
}

TEST(StoreRegistryTest, MalformedRegistrationsAreRefused) {
  for (const char* scheme : {"", "Upper", "9lives", "has space", "a_b", "é"}) {
    EXPECT_EQ(RegisterStoreScheme(scheme, "x", &Refuse).code(),
              absl::StatusCode::kInvalidArgument)
        << scheme;
  }
  EXPECT_EQ(RegisterStoreScheme("noopen", "x", StoreOpener()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(RegisterStoreScheme("ok+v1.2-x", "ok+v1.2-x:", &Refuse).ok());
  for (const std::string& scheme : RegisteredStoreSchemes()) {
    EXPECT_NE(scheme, "noopen");
  }
}

TEST(StoreRegistryTest, UnparsableUrisSayWhatWasExpected) {
  ASSERT_TRUE(RegisterStoreScheme("hint", "hint://host/db", &Refuse).ok());
  // The scheme is readable: only its forms.
  auto store = OpenStore("hint://host:port/db");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(),
              HasSubstr("malformed backend URI \"hint://host:port/db\""));
  EXPECT_THAT(store.status().message(), HasSubstr("; expected hint://host/db"));
  EXPECT_THAT(store.status().message(), Not(HasSubstr(" or ")));
  // No registered scheme named: every scheme's forms.
  auto no_scheme = OpenStore("/tmp/x.db");
  EXPECT_THAT(no_scheme.status().message(),
              HasSubstr("malformed backend URI \"/tmp/x.db\""));
  EXPECT_THAT(no_scheme.status().message(), HasSubstr("hint://host/db"));
  EXPECT_THAT(OpenStore("").status().message(),
              HasSubstr("empty backend URI: expected "));
}

TEST(StoreRegistryTest, NullStoreIsAnInternalError) {
  ASSERT_TRUE(
      RegisterStoreScheme(
          "null", "null:",
          [](const BackendUri&) -> absl::StatusOr<std::shared_ptr<AdminStore>> {
            return std::shared_ptr<AdminStore>();
          })
          .ok());
  EXPECT_EQ(OpenStore("null:").status().code(), absl::StatusCode::kInternal);
}

// Registrations racing with opens: each scheme is registered exactly once
// and every open sees either "unsupported" or the scheme's own answer.
TEST(StoreRegistryTest, RegistrationAndOpeningAreThreadSafe) {
  constexpr int kThreads = 8;
  constexpr int kSchemes = 50;
  std::atomic<int> registered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSchemes; ++i) {
        const std::string scheme = absl::StrCat("race", i);
        if (RegisterStoreScheme(scheme, scheme + ":", &Refuse).ok()) {
          ++registered;
        }
        absl::Status status = OpenStore(scheme + ":x").status();
        EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable)
            << t << " " << status;
        EXPECT_EQ(
            OpenStore(absl::StrCat("race", kSchemes + i, ":x")).status().code(),
            absl::StatusCode::kInvalidArgument);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(registered.load(), kSchemes);
}

}  // namespace
}  // namespace durable::core::storage
