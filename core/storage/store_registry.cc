#include "core/storage/store_registry.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace durable::core::storage {
namespace {

struct Scheme {
  std::string forms;
  StoreOpener open;
};

class Registry {
 public:
  absl::Status Register(absl::string_view scheme, absl::string_view forms,
                        StoreOpener open) {
    if (absl::Status valid = CheckScheme(scheme); !valid.ok()) return valid;
    if (!open) {
      return absl::InvalidArgumentError(absl::StrCat(
          "store URI scheme \"", scheme, "\" registered without a function"));
    }
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = schemes_.try_emplace(
        std::string(scheme), Scheme{std::string(forms), std::move(open)});
    if (!inserted) {
      return absl::AlreadyExistsError(absl::StrCat(
          "store URI scheme \"", scheme, "\" is already registered (",
          it->second.forms, "); link only one store per scheme"));
    }
    return absl::OkStatus();
  }

  std::vector<std::string> Schemes() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> names;
    for (const auto& [name, scheme] : schemes_) names.push_back(name);
    return names;
  }

  absl::StatusOr<std::shared_ptr<AdminStore>> Open(absl::string_view uri) {
    if (uri.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty backend URI: ", Expected("")));
    }
    absl::StatusOr<BackendUri> parsed = ParseBackendUri(uri);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          parsed.status().message(), "; ", Expected(SchemePrefix(uri))));
    }
    StoreOpener open;
    {
      absl::MutexLock lock(&mu_);
      auto it = schemes_.find(parsed->scheme);
      if (it == schemes_.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unsupported backend URI scheme \"", parsed->scheme, "\" in \"",
            parsed->redacted, "\" (supported: ", SupportedLocked(), ")"));
      }
      open = it->second.open;
    }
    // Outside the lock: opening may take long (a file, a server), and
    // other threads may open or register meanwhile.
    absl::StatusOr<std::shared_ptr<AdminStore>> store = open(*parsed);
    if (store.ok() && *store == nullptr) {
      return absl::InternalError(
          absl::StrCat("the store for scheme \"", parsed->scheme,
                       "\" returned no store for \"", parsed->redacted, "\""));
    }
    return store;
  }

 private:
  // The same alphabet ParseBackendUri accepts, in the lower case it
  // produces: a scheme it can never yield could never be opened.
  static absl::Status CheckScheme(absl::string_view scheme) {
    bool valid = !scheme.empty() && absl::ascii_islower(scheme[0]);
    for (char c : scheme) {
      valid = valid && (absl::ascii_islower(c) || absl::ascii_isdigit(c) ||
                        c == '+' || c == '-' || c == '.');
    }
    if (valid) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "store URI scheme \"", scheme,
        "\" is malformed (expected lower-case letters, digits, \"+\", \"-\" "
        "or \".\", starting with a letter)"));
  }

  // The scheme `uri` names, lower case, as far as it can be read from a URI
  // that did not parse ("" when it names none).
  static std::string SchemePrefix(absl::string_view uri) {
    size_t colon = uri.find(':');
    if (colon == absl::string_view::npos) return "";
    return absl::AsciiStrToLower(uri.substr(0, colon));
  }

  // "expected <forms>" of `scheme` if registered, else of every scheme.
  std::string Expected(const std::string& scheme) const {
    absl::MutexLock lock(&mu_);
    if (auto it = schemes_.find(scheme); it != schemes_.end()) {
      return absl::StrCat("expected ", it->second.forms);
    }
    if (schemes_.empty()) return NoneLinked();
    std::vector<std::string> forms;
    for (const auto& [name, entry] : schemes_) forms.push_back(entry.forms);
    return absl::StrCat("expected ", absl::StrJoin(forms, " or "));
  }

  std::string SupportedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (schemes_.empty()) return NoneLinked();
    std::vector<std::string> names;
    for (const auto& [name, scheme] : schemes_) names.push_back(name);
    return absl::StrJoin(names, ", ");
  }

  static std::string NoneLinked() {
    return "no store is linked into this program (depend on "
           "//backends:all_stores or on a store's *_scheme library)";
  }

  mutable absl::Mutex mu_;
  std::map<std::string, Scheme> schemes_ ABSL_GUARDED_BY(mu_);
};

// Built on first use and never destroyed: registrations run during static
// initialisation, in an order across files that nothing controls, and
// OpenStore may run during static destruction.
Registry& TheRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

}  // namespace

absl::Status RegisterStoreScheme(absl::string_view scheme,
                                 absl::string_view forms, StoreOpener open) {
  return TheRegistry().Register(scheme, forms, std::move(open));
}

StoreSchemeRegistration::StoreSchemeRegistration(absl::string_view scheme,
                                                 absl::string_view forms,
                                                 StoreOpener open) {
  absl::Status status = RegisterStoreScheme(scheme, forms, std::move(open));
  if (!status.ok()) {
    std::fprintf(stderr, "durable: %s\n", status.ToString().c_str());
    std::abort();
  }
}

std::vector<std::string> RegisteredStoreSchemes() {
  return TheRegistry().Schemes();
}

absl::StatusOr<std::shared_ptr<AdminStore>> OpenStore(absl::string_view uri) {
  return TheRegistry().Open(uri);
}

}  // namespace durable::core::storage
