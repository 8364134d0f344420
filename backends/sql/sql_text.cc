#include "backends/sql/sql_text.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace durable::backends::sql {
namespace {

absl::Status Unterminated(absl::string_view what, absl::string_view text,
                          size_t pos) {
  return absl::InvalidArgumentError(
      absl::StrCat("unterminated ", what, " at offset ", pos, " of \"",
                   text.substr(0, 200), text.size() > 200 ? "..." : "", "\""));
}

// Whether `text` holds nothing but whitespace and comments.
bool IsBlank(absl::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (absl::ascii_isspace(static_cast<unsigned char>(text[pos]))) {
      ++pos;
      continue;
    }
    absl::StatusOr<size_t> end = SkipQuotedOrComment(text, pos);
    if (!end.ok() || *end == pos) return false;
    const bool comment = text[pos] == '-' || text[pos] == '/';
    if (!comment) return false;
    pos = *end;
  }
  return true;
}

}  // namespace

absl::StatusOr<size_t> SkipQuotedOrComment(absl::string_view text, size_t pos) {
  const char c = text[pos];
  if (c == '\'' || c == '"' || c == '`') {
    // A doubled quote inside is an escaped quote, in every dialect.
    for (size_t i = pos + 1; i < text.size(); ++i) {
      if (text[i] != c) continue;
      if (i + 1 < text.size() && text[i + 1] == c) {
        ++i;
        continue;
      }
      return i + 1;
    }
    return Unterminated(c == '\'' ? "string literal" : "quoted identifier",
                        text, pos);
  }
  if (c == '-' && pos + 1 < text.size() && text[pos + 1] == '-') {
    const size_t end = text.find('\n', pos);
    return end == absl::string_view::npos ? text.size() : end + 1;
  }
  if (c == '/' && pos + 1 < text.size() && text[pos + 1] == '*') {
    const size_t end = text.find("*/", pos + 2);
    if (end == absl::string_view::npos) {
      return Unterminated("comment", text, pos);
    }
    return end + 2;
  }
  return pos;
}

absl::StatusOr<std::vector<std::string>> SplitStatements(
    absl::string_view script) {
  std::vector<std::string> statements;
  size_t start = 0;
  auto flush = [&](size_t end) {
    absl::string_view piece = script.substr(start, end - start);
    if (!IsBlank(piece)) {
      statements.emplace_back(absl::StripAsciiWhitespace(piece));
    }
  };
  size_t pos = 0;
  while (pos < script.size()) {
    absl::StatusOr<size_t> end = SkipQuotedOrComment(script, pos);
    if (!end.ok()) return end.status();
    if (*end != pos) {
      pos = *end;
      continue;
    }
    if (script[pos] == ';') {
      flush(pos);
      start = pos + 1;
    }
    ++pos;
  }
  flush(script.size());
  return statements;
}

}  // namespace durable::backends::sql
