// The store registry: the one place that turns a backend URI into a store.
//
// Each store registers the URI scheme(s) it serves with a function that
// opens it from the parsed URI (core/storage/backend_uri.h). OpenStore parses
// a URI once, looks its scheme up and hands the parsed URI to that function,
// so URI syntax, error wording and the list of what is available are the
// same for every store, and nothing above the storage layer names a store.
//
// A binary chooses its stores by linking them: the registry knows exactly
// the schemes whose registering libraries were linked in. //capi:durable_c,
// and with it libdurable.so and the bindings, links //backends:all_stores.
//
// How a new store joins (say Redis, serving redis://host:port/db):
//   1. in backends/redis, a library `redis_scheme` with `alwayslink = True`
//      (nothing references its symbols; without alwayslink the linker drops
//      it and the scheme is silently missing) whose .cc registers at static
//      initialisation:
//
//        const core::storage::StoreSchemeRegistration kRedisScheme(
//            "redis", "redis://[user:password@]host[:port]/db", &OpenRedisUri);
//
//      OpenRedisUri reads its settings from the BackendUri (QueryOptions for
//      the query string) and returns INVALID_ARGUMENT quoting `uri.redacted`
//      for forms it does not accept;
//   2. adds ":redis_scheme" to //backends:all_stores;
//   3. instantiates the conformance suites (docs/backends.md).
//
// Errors of OpenStore, all INVALID_ARGUMENT unless the store's own function
// says otherwise (opening a damaged database, say):
//   - an empty URI: "empty backend URI: expected " and the forms of every
//     registered scheme;
//   - a URI that does not parse: the parser's message, then "; expected "
//     and the forms of the scheme it names (of every registered scheme when
//     it names none that is registered);
//   - a scheme nobody registered: `unsupported backend URI scheme "foo" in
//     "foo://x" (supported: sqlite)`, listing every registered scheme.
// Messages quote the URI with its password redacted.
//
// Thread-safe: registration normally happens during static initialisation,
// but may also happen later, concurrently with OpenStore.
#ifndef DURABLE_CORE_STORAGE_STORE_REGISTRY_H_
#define DURABLE_CORE_STORAGE_STORE_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/storage/admin_store.h"
#include "core/storage/backend_uri.h"

namespace durable::core::storage {

// Opens a store of one scheme from its parsed URI (whose `scheme` is that
// scheme). Called without any registry lock held; may block (opening files,
// connecting to servers).
using StoreOpener = std::function<absl::StatusOr<std::shared_ptr<AdminStore>>(
    const BackendUri& uri)>;

// Registers `scheme` (lower case; letters, digits, "+", "-", "." starting
// with a letter, as backend_uri.h parses it). `forms` describes the URIs the
// scheme accepts, for error messages: e.g. "sqlite:///path/to/file.db or
// sqlite::memory:". ALREADY_EXISTS when `scheme` is registered already (two
// stores claiming one scheme is a build mistake, not something to resolve
// by link order); INVALID_ARGUMENT for a malformed scheme or an empty
// `open`.
absl::Status RegisterStoreScheme(absl::string_view scheme,
                                 absl::string_view forms, StoreOpener open);

// RegisterStoreScheme for a namespace-scope constant in the store's
// registering library; a refused registration aborts the process at start
// with the reason, because a binary missing a store it was built with must
// not start. Trivially destructible, so it may have static storage
// duration.
class StoreSchemeRegistration {
 public:
  StoreSchemeRegistration(absl::string_view scheme, absl::string_view forms,
                          StoreOpener open);
};

// The registered schemes, sorted.
std::vector<std::string> RegisteredStoreSchemes();

// Parses `uri` and opens it with the registered scheme (see the errors
// above).
absl::StatusOr<std::shared_ptr<AdminStore>> OpenStore(absl::string_view uri);

}  // namespace durable::core::storage

#endif  // DURABLE_CORE_STORAGE_STORE_REGISTRY_H_
