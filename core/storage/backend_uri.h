// BackendUri: a backend URI taken apart, for every store to read its
// settings from the same way.
//
//   sqlite:///var/lib/app/durable.db?busy_timeout_ms=2000
//   sqlite::memory:
//   redis://user:secret@127.0.0.1:6379/0?prefix=app
//   mysql://durable@db.internal/durable
//
// Grammar (a subset of RFC 3986):
//   uri       = scheme ":" ( "//" authority path / opaque ) [ "?" query ]
//   authority = [ user [ ":" password ] "@" ] host [ ":" port ]
//   query     = key "=" value *( "&" key "=" value )
// The scheme is letters, digits, "+", "-" and "." starting with a letter,
// compared in lower case. A host in brackets ("[::1]") may contain ":".
// User, password, path, keys and values are percent-decoded ("%20" is a
// space; a file name containing "?" or "#" is written with %3F or %23).
// Rejected, with INVALID_ARGUMENT naming the part: an empty or missing
// scheme, a fragment ("#..."), a port that is not a number in 1..65535,
// a malformed percent escape, a query item without "=", a key given twice,
// and control characters or bytes that are not UTF-8 anywhere.
//
// Messages never contain the password: Redacted() shows "***" in its place,
// and every error quotes the redacted URI.
#ifndef DURABLE_CORE_STORAGE_BACKEND_URI_H_
#define DURABLE_CORE_STORAGE_BACKEND_URI_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace durable::core::storage {

struct BackendUri {
  std::string scheme;  // lower case, e.g. "sqlite"
  // True for "scheme://...", false for "scheme:opaque".
  bool has_authority = false;
  std::string user;
  std::optional<std::string> password;
  std::string host;
  std::optional<uint16_t> port;
  // "scheme://host/a/b": "/a/b"; "scheme:opaque": "opaque".
  std::string path;
  // Query items in the order given.
  std::vector<std::pair<std::string, std::string>> query;
  // The URI as given with the password replaced by "***".
  std::string redacted;
};

// Parses `uri` (see the grammar above).
absl::StatusOr<BackendUri> ParseBackendUri(absl::string_view uri);

// `uri` with the password of its authority (if any) replaced by "***"; for
// messages about URIs that did not parse.
std::string Redacted(absl::string_view uri);

// Reads a store's query options: every key of `uri.query` must be one of
// `known` (else INVALID_ARGUMENT naming the key and listing the known ones);
// returns them by key.
absl::StatusOr<std::map<std::string, std::string>> QueryOptions(
    const BackendUri& uri, const std::vector<std::string>& known);

}  // namespace durable::core::storage

#endif  // DURABLE_CORE_STORAGE_BACKEND_URI_H_
