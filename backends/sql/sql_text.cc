#include "backends/sql/sql_text.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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

// The words of `text` outside literals and comments, upper-cased, up to
// `limit` of them (letters, digits and '_'; other characters separate).
std::vector<std::string> Words(absl::string_view text, size_t limit) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < text.size() && words.size() < limit) {
    absl::StatusOr<size_t> end = SkipQuotedOrComment(text, pos);
    if (end.ok() && *end != pos) {
      pos = *end;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    if (!absl::ascii_isalnum(c) && c != '_') {
      ++pos;
      continue;
    }
    std::string word;
    while (pos < text.size() &&
           (absl::ascii_isalnum(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '_')) {
      word.push_back(
          absl::ascii_toupper(static_cast<unsigned char>(text[pos])));
      ++pos;
    }
    words.push_back(std::move(word));
  }
  return words;
}

// Whether `piece` (a statement so far) is CREATE [TEMP|TEMPORARY] TRIGGER,
// whose body holds statements of its own between BEGIN and END.
bool IsTrigger(absl::string_view piece) {
  const std::vector<std::string> words = Words(piece, 3);
  if (words.size() < 2 || words[0] != "CREATE") return false;
  if (words[1] == "TRIGGER") return true;
  return words.size() == 3 && (words[1] == "TEMP" || words[1] == "TEMPORARY") &&
         words[2] == "TRIGGER";
}

// Whether the last word of `piece` is END (comments after it aside).
bool EndsWithEnd(absl::string_view piece) {
  size_t end = piece.size();
  while (end > 0 &&
         absl::ascii_isspace(static_cast<unsigned char>(piece[end - 1]))) {
    --end;
  }
  if (end < 3) return false;
  const absl::string_view word = piece.substr(end - 3, 3);
  const bool alone =
      end == 3 ||
      !(absl::ascii_isalnum(static_cast<unsigned char>(piece[end - 4])) ||
        piece[end - 4] == '_');
  return alone && absl::EqualsIgnoreCase(word, "END");
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
      // Inside a trigger's BEGIN ... END, semicolons end the body's
      // statements, not the trigger.
      const absl::string_view piece = script.substr(start, pos - start);
      if (!IsTrigger(piece) || EndsWithEnd(piece)) {
        flush(pos);
        start = pos + 1;
      }
    }
    ++pos;
  }
  flush(script.size());
  return statements;
}

}  // namespace durable::backends::sql
