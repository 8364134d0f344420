#include "backends/sql/dialect.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "backends/sql/sql_text.h"

namespace durable::backends::sql {
namespace {

// SQLite's default limit on parameter numbers, the lowest of the three.
constexpr int kMaxParameter = 32766;

absl::Status BadStatement(absl::string_view neutral, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("statement \"", neutral, "\" is not neutral SQL: ", what));
}

}  // namespace

absl::StatusOr<RenderedStatement> Dialect::Render(
    absl::string_view neutral) const {
  RenderedStatement rendered;
  // The numbers seen, to find the gaps once the highest one is known.
  std::vector<bool> used;
  std::vector<int> occurrences;
  // Rendering copies the text between placeholders; SQLite keeps the text
  // as it is (it is already in its syntax) and is only checked.
  const bool copy = placeholders != PlaceholderStyle::kNumbered;
  if (copy) rendered.text.reserve(neutral.size());
  size_t copied = 0;  // neutral[0, copied) is in rendered.text
  size_t pos = 0;
  while (pos < neutral.size()) {
    absl::StatusOr<size_t> end = SkipQuotedOrComment(neutral, pos);
    if (!end.ok()) return BadStatement(neutral, end.status().message());
    if (*end != pos) {
      pos = *end;
      continue;
    }
    const char c = neutral[pos];
    if (c == '$' && pos + 1 < neutral.size() &&
        absl::ascii_isdigit(static_cast<unsigned char>(neutral[pos + 1]))) {
      return BadStatement(neutral,
                          absl::StrCat("\"$\" placeholder at offset ", pos,
                                       " (write ?N; the dialect renders it)"));
    }
    if (c != '?') {
      ++pos;
      continue;
    }
    size_t digits_end = pos + 1;
    while (digits_end < neutral.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(neutral[digits_end])))
      ++digits_end;
    absl::string_view digits = neutral.substr(pos + 1, digits_end - pos - 1);
    int number = 0;
    for (char d : digits) {
      number = number * 10 + (d - '0');
      if (number > kMaxParameter) break;
    }
    if (digits.empty() || digits[0] == '0' || number > kMaxParameter) {
      return BadStatement(
          neutral,
          absl::StrCat("placeholder \"", neutral.substr(pos, digits_end - pos),
                       "\" at offset ", pos, " (expected ?1 to ?",
                       kMaxParameter, ")"));
    }
    if (static_cast<size_t>(number) > used.size()) used.resize(number, false);
    used[number - 1] = true;
    occurrences.push_back(number);
    if (copy) {
      absl::StrAppend(&rendered.text, neutral.substr(copied, pos - copied),
                      placeholders == PlaceholderStyle::kDollar ? "$" : "?");
      if (placeholders == PlaceholderStyle::kDollar) {
        absl::StrAppend(&rendered.text, number);
      }
      copied = digits_end;
    }
    pos = digits_end;
  }
  for (size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) {
      return BadStatement(
          neutral, absl::StrCat("parameter ?", i + 1, " is never used but ?",
                                used.size(), " is"));
    }
  }
  if (copy) {
    absl::StrAppend(&rendered.text, neutral.substr(copied));
  } else {
    rendered.text = std::string(neutral);
  }
  rendered.parameter_count = static_cast<int>(used.size());
  if (placeholders == PlaceholderStyle::kPositional) {
    rendered.positions = std::move(occurrences);
  }
  return rendered;
}

std::string Dialect::UpsertClause(
    absl::Span<const absl::string_view> key,
    absl::Span<const absl::string_view> update) const {
  std::string clause;
  if (upsert == UpsertStyle::kOnDuplicateKey) {
    clause = " ON DUPLICATE KEY UPDATE ";
    if (update.empty()) {
      // A no-op assignment keeps the row; INSERT IGNORE would also swallow
      // errors that are not conflicts (bad values, foreign keys).
      if (!key.empty()) absl::StrAppend(&clause, key[0], " = ", key[0]);
      return clause;
    }
    for (size_t i = 0; i < update.size(); ++i) {
      absl::StrAppend(&clause, i == 0 ? "" : ", ", update[i], " = VALUES(",
                      update[i], ")");
    }
    return clause;
  }
  clause = " ON CONFLICT (";
  for (size_t i = 0; i < key.size(); ++i) {
    absl::StrAppend(&clause, i == 0 ? "" : ", ", key[i]);
  }
  if (update.empty()) {
    absl::StrAppend(&clause, ") DO NOTHING");
    return clause;
  }
  absl::StrAppend(&clause, ") DO UPDATE SET ");
  for (size_t i = 0; i < update.size(); ++i) {
    absl::StrAppend(&clause, i == 0 ? "" : ", ", update[i], " = excluded.",
                    update[i]);
  }
  return clause;
}

const Dialect& SqliteDialect() {
  static constexpr Dialect kDialect{
      .name = "sqlite",
      .placeholders = PlaceholderStyle::kNumbered,
      // Column affinities: SQLite stores any int64 in INTEGER and compares
      // TEXT bytewise (BINARY collation) without length limits.
      .bigint_type = "INTEGER",
      .text_type = "TEXT",
      .key_text_type = "TEXT",
      .blob_type = "BLOB",
      // AUTOINCREMENT: ids are never reused, even after the newest row is
      // deleted, so "delivered after" stays "larger id".
      .autoincrement_key = "INTEGER PRIMARY KEY AUTOINCREMENT",
      .upsert = UpsertStyle::kOnConflict,
      .skip_locked = "",
      .for_update = "",
      // CROSS JOIN is SQLite's way to say "keep this loop order".
      .ordered_join = " CROSS JOIN ",
      .partial_indexes = true,
      .returning = true,
      .transactional_ddl = true,
      .migration_lock = "",
      .migration_unlock = "",
  };
  return kDialect;
}

const Dialect& MysqlDialect() {
  static constexpr Dialect kDialect{
      .name = "mysql",
      .placeholders = PlaceholderStyle::kPositional,
      .bigint_type = "BIGINT",
      .text_type = "LONGTEXT",
      // InnoDB indexes at most 3072 bytes per key and utf8mb4 takes up to 4
      // bytes a character: 255 characters keep a three-id key (instance,
      // execution, event key) within the limit. The binary collation makes
      // ids case- and accent-sensitive, as they are everywhere else.
      .key_text_type = "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
      // BLOB stops at 64 KiB; payloads may be larger.
      .blob_type = "LONGBLOB",
      .autoincrement_key = "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
      .upsert = UpsertStyle::kOnDuplicateKey,
      .skip_locked = " FOR UPDATE SKIP LOCKED",
      .for_update = " FOR UPDATE",
      .ordered_join = " STRAIGHT_JOIN ",
      .partial_indexes = false,
      .returning = false,
      .transactional_ddl = false,
      // A session lock (GET_LOCK survives COMMIT, which each DDL statement
      // implies), waited for up to ten minutes.
      .migration_lock = "SELECT GET_LOCK('durable_schema_migration', 600)",
      .migration_unlock = "SELECT RELEASE_LOCK('durable_schema_migration')",
  };
  return kDialect;
}

const Dialect& PostgresDialect() {
  static constexpr Dialect kDialect{
      .name = "postgres",
      .placeholders = PlaceholderStyle::kDollar,
      .bigint_type = "BIGINT",
      .text_type = "TEXT",
      // The "C" collation compares bytes, as SQLite does; the database's
      // default (often en_US) would order ids, and so list cursors,
      // differently.
      .key_text_type = "TEXT COLLATE \"C\"",
      .blob_type = "BYTEA",
      .autoincrement_key =
          "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
      .upsert = UpsertStyle::kOnConflict,
      .skip_locked = " FOR UPDATE SKIP LOCKED",
      .for_update = " FOR UPDATE",
      .ordered_join = " JOIN ",
      .partial_indexes = true,
      .returning = true,
      .transactional_ddl = true,
      // A transaction-scoped advisory lock, released by COMMIT or ROLLBACK;
      // the key is "durable" in ASCII.
      .migration_lock = "SELECT pg_advisory_xact_lock(28276631791627365)",
      .migration_unlock = "",
  };
  return kDialect;
}

}  // namespace durable::backends::sql
