#include "core/storage/backend_uri.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/utf8.h"

namespace durable::core::storage {
namespace {

// The end of the authority of "scheme://authority...", or npos.
size_t AuthorityEnd(absl::string_view uri, size_t start) {
  return uri.find_first_of("/?#", start);
}

class Parser {
 public:
  explicit Parser(absl::string_view uri)
      : uri_(uri), redacted_(Redacted(uri)) {}

  absl::Status Error(absl::string_view why) const {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed backend URI \"", redacted_, "\": ", why));
  }

  // Percent-decodes `part` (named `what` in errors).
  absl::StatusOr<std::string> Decode(absl::string_view part,
                                     absl::string_view what) const {
    std::string out;
    out.reserve(part.size());
    for (size_t i = 0; i < part.size(); ++i) {
      if (part[i] != '%') {
        out.push_back(part[i]);
        continue;
      }
      int value = 0;
      if (i + 2 >= part.size() ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(part[i + 1])) ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(part[i + 2]))) {
        return Error(absl::StrCat(what, " has a malformed percent escape \"",
                                  part.substr(i, 3), "\""));
      }
      for (size_t k = i + 1; k <= i + 2; ++k) {
        const char c = absl::ascii_tolower(part[k]);
        value = value * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
      }
      out.push_back(static_cast<char>(value));
      i += 2;
    }
    if (std::optional<size_t> bad = FirstInvalidUtf8(out); bad.has_value()) {
      return Error(absl::StrCat(what, " is not UTF-8 (byte ", *bad, ")"));
    }
    for (char c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return Error(absl::StrCat(what, " contains a control character"));
      }
    }
    return out;
  }

  absl::StatusOr<BackendUri> Parse() {
    BackendUri parsed;
    parsed.redacted = redacted_;
    if (uri_.empty()) return Error("it is empty");
    const size_t colon = uri_.find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return Error("no scheme (expected scheme:...)");
    }
    const absl::string_view scheme = uri_.substr(0, colon);
    if (!absl::ascii_isalpha(static_cast<unsigned char>(scheme[0]))) {
      return Error("the scheme must start with a letter");
    }
    for (char c : scheme) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' &&
          c != '-' && c != '.') {
        return Error(
            absl::StrCat("the scheme contains \"", std::string(1, c), "\""));
      }
    }
    parsed.scheme = absl::AsciiStrToLower(scheme);
    absl::string_view rest = uri_.substr(colon + 1);
    if (size_t hash = rest.find('#'); hash != absl::string_view::npos) {
      return Error(
          "fragments (\"#...\") are not allowed; write \"#\" in a "
          "name as %23");
    }
    absl::string_view query;
    if (size_t question = rest.find('?'); question != absl::string_view::npos) {
      query = rest.substr(question + 1);
      rest = rest.substr(0, question);
    }
    if (absl::ConsumePrefix(&rest, "//")) {
      parsed.has_authority = true;
      const size_t end = rest.find('/');
      absl::string_view authority = rest.substr(0, end);
      rest = end == absl::string_view::npos ? absl::string_view()
                                            : rest.substr(end);
      if (absl::Status s = ParseAuthority(authority, parsed); !s.ok()) {
        return s;
      }
    }
    absl::StatusOr<std::string> path = Decode(rest, "the path");
    if (!path.ok()) return path.status();
    parsed.path = *std::move(path);
    if (!query.empty() || uri_.back() == '?') {
      std::set<std::string> seen;
      for (absl::string_view item : absl::StrSplit(query, '&')) {
        const size_t equals = item.find('=');
        if (item.empty() || equals == absl::string_view::npos || equals == 0) {
          return Error(absl::StrCat("query item \"", item,
                                    "\" is not of the form key=value"));
        }
        absl::StatusOr<std::string> key =
            Decode(item.substr(0, equals), "a query key");
        if (!key.ok()) return key.status();
        absl::StatusOr<std::string> value =
            Decode(item.substr(equals + 1),
                   absl::StrCat("query option \"", *key, "\""));
        if (!value.ok()) return value.status();
        if (!seen.insert(*key).second) {
          return Error(
              absl::StrCat("query option \"", *key, "\" is given twice"));
        }
        parsed.query.emplace_back(*std::move(key), *std::move(value));
      }
    }
    return parsed;
  }

 private:
  absl::Status ParseAuthority(absl::string_view authority,
                              BackendUri& parsed) const {
    if (const size_t at = authority.rfind('@'); at != absl::string_view::npos) {
      absl::string_view userinfo = authority.substr(0, at);
      authority = authority.substr(at + 1);
      const size_t colon = userinfo.find(':');
      absl::StatusOr<std::string> user =
          Decode(userinfo.substr(0, colon), "the user name");
      if (!user.ok()) return user.status();
      parsed.user = *std::move(user);
      if (colon != absl::string_view::npos) {
        absl::StatusOr<std::string> password =
            Decode(userinfo.substr(colon + 1), "the password");
        if (!password.ok()) return password.status();
        parsed.password = *std::move(password);
      }
    }
    absl::string_view host = authority;
    absl::string_view port;
    if (absl::StartsWith(authority, "[")) {
      const size_t close = authority.find(']');
      if (close == absl::string_view::npos) {
        return Error("an IPv6 host is missing its \"]\"");
      }
      host = authority.substr(1, close - 1);
      absl::string_view after = authority.substr(close + 1);
      if (!after.empty() && !absl::ConsumePrefix(&after, ":")) {
        return Error("unexpected text after the IPv6 host");
      }
      if (after.empty() && absl::EndsWith(authority, ":")) {
        return Error("the port after \":\" is empty");
      }
      port = after;
    } else if (const size_t colon = authority.rfind(':');
               colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return Error("the port after \":\" is empty");
    }
    absl::StatusOr<std::string> decoded_host = Decode(host, "the host");
    if (!decoded_host.ok()) return decoded_host.status();
    parsed.host = *std::move(decoded_host);
    if (!port.empty()) {
      uint32_t number = 0;
      if (!absl::SimpleAtoi(port, &number) || number < 1 || number > 65535 ||
          port.find_first_not_of("0123456789") != absl::string_view::npos) {
        return Error(absl::StrCat("port \"", port,
                                  "\" is not a number from 1 to 65535"));
      }
      parsed.port = static_cast<uint16_t>(number);
    }
    return absl::OkStatus();
  }

  const absl::string_view uri_;
  const std::string redacted_;
};

}  // namespace

std::string Redacted(absl::string_view uri) {
  const size_t slashes = uri.find("://");
  if (slashes == absl::string_view::npos) return std::string(uri);
  const size_t start = slashes + 3;
  const size_t end = AuthorityEnd(uri, start);
  absl::string_view authority =
      uri.substr(start, end == absl::string_view::npos ? end : end - start);
  const size_t at = authority.rfind('@');
  if (at == absl::string_view::npos) return std::string(uri);
  const size_t colon = authority.substr(0, at).find(':');
  if (colon == absl::string_view::npos) return std::string(uri);
  return absl::StrCat(uri.substr(0, start + colon + 1), "***",
                      uri.substr(start + at));
}

absl::StatusOr<BackendUri> ParseBackendUri(absl::string_view uri) {
  return Parser(uri).Parse();
}

absl::StatusOr<std::map<std::string, std::string>> QueryOptions(
    const BackendUri& uri, const std::vector<std::string>& known) {
  std::map<std::string, std::string> options;
  for (const auto& [key, value] : uri.query) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "backend URI \"", uri.redacted, "\": unknown option \"", key,
          "\" for scheme ", uri.scheme, " (known: ",
          known.empty() ? "none" : absl::StrJoin(known, ", "), ")"));
    }
    options.emplace(key, value);
  }
  return options;
}

}  // namespace durable::core::storage
