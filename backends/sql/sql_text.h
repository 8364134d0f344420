// Lexical helpers over SQL text, shared by the dialect renderer and the
// migration runner: both must tell code from string literals, quoted
// identifiers and comments, so that a `?` or `;` inside 'text' or a comment
// is never taken for a placeholder or a statement boundary.
//
// The scanner knows the lexical forms durable's own SQL uses and every
// supported dialect reads the same way: '...' literals ('' escapes a quote),
// "..." and `...` quoted identifiers, -- line comments and /* */ comments.
// It does not know MySQL's backslash escapes inside literals or PostgreSQL's
// $tag$ dollar quoting; durable's statements and migration files avoid both
// (no backslashes in literals, no function bodies).
#ifndef DURABLE_BACKENDS_SQL_SQL_TEXT_H_
#define DURABLE_BACKENDS_SQL_SQL_TEXT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace durable::backends::sql {

// If a literal, quoted identifier or comment starts at `text[pos]`, returns
// the position just past its end; otherwise returns `pos`. An unterminated
// one is an INVALID_ARGUMENT error naming where it starts.
absl::StatusOr<size_t> SkipQuotedOrComment(absl::string_view text, size_t pos);

// Splits a script into its statements at top-level semicolons, dropping
// comments-only and empty pieces and surrounding whitespace. Statements keep
// their interior comments. Errors: an unterminated literal or comment.
absl::StatusOr<std::vector<std::string>> SplitStatements(
    absl::string_view script);

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_SQL_TEXT_H_
