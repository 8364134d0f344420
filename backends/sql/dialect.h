// Dialect: what differs between the SQL databases durable stores run on
// (SQLite, MySQL/MariaDB, PostgreSQL), as far as the shared relational store
// needs to know.
//
// The shared store writes every statement once, in a neutral form:
//   - parameters are `?N` with N >= 1 (SQLite's numbered form), each number
//     may appear several times, and every number from 1 to the highest one
//     appears at least once (PostgreSQL cannot type a parameter it never
//     sees);
//   - otherwise the statement is SQL that all dialects read alike: no
//     backslashes inside literals, no casts, no dialect functions, truth
//     values only as comparisons (`1 = 0`, never a bare 0 or 1, which
//     PostgreSQL does not take as a boolean), and an alias on every
//     derived table (MySQL and PostgreSQL require one).
// `Dialect::Render` turns that form into the dialect's placeholder syntax.
// The clauses that really differ (upserts, row locks, join order) are
// composed with the fields and helpers below rather than written in the
// statement; the remaining fields describe the schema a store's migration
// files use (column types, keys, partial indexes) and what its statements
// may rely on (RETURNING, transactional DDL).
//
// Connection::Prepare renders through its connection's dialect, so callers
// pass neutral statements and never handle a RenderedStatement themselves;
// drivers receive the rendered form.
//
// Dialects are constants: SqliteDialect(), MysqlDialect(), PostgresDialect().
#ifndef DURABLE_BACKENDS_SQL_DIALECT_H_
#define DURABLE_BACKENDS_SQL_DIALECT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace durable::backends::sql {

enum class PlaceholderStyle {
  kNumbered,    // ?1, ?2, ?1 ... (SQLite): the neutral form itself.
  kPositional,  // ?, ?, ? ... (MySQL/MariaDB): one per occurrence.
  kDollar,      // $1, $2, $1 ... (PostgreSQL).
};

enum class UpsertStyle {
  // INSERT ... ON CONFLICT (key) DO UPDATE SET c = excluded.c
  // (SQLite >= 3.24, PostgreSQL).
  kOnConflict,
  // INSERT ... ON DUPLICATE KEY UPDATE c = VALUES(c) (MySQL/MariaDB): fires
  // on any unique key, not a named one, so tables upserted this way must
  // have exactly one unique key besides an auto-increment id.
  kOnDuplicateKey,
};

// A neutral statement in one dialect's syntax.
struct RenderedStatement {
  std::string text;
  // How many distinct parameters (the highest ?N); callers bind 1..count.
  int parameter_count = 0;
  // kPositional only: for each `?` in `text`, in order, the neutral number
  // it stands for, so a driver binds value N to every position holding N.
  // Empty for the other styles, whose placeholders carry their number.
  std::vector<int> positions;
};

struct Dialect {
  // "sqlite", "mysql" or "postgres", for messages.
  absl::string_view name;
  PlaceholderStyle placeholders;

  // Column types. Every id (instance, execution, activity, worker, queue,
  // names) is a key text: UTF-8 compared byte for byte, usable in primary
  // keys and indexes. Timestamps (Unix microseconds), event ids and counters
  // are 64-bit integers. Payloads and events are serialized protos: blobs of
  // any size.
  absl::string_view bigint_type;
  absl::string_view text_type;      // unbounded, not indexed
  absl::string_view key_text_type;  // bounded where the dialect needs it
  absl::string_view blob_type;
  // The whole column definition of a surrogate key the database assigns in
  // increasing order on insert (inbox and activity rows: their order is
  // delivery order).
  absl::string_view autoincrement_key;

  UpsertStyle upsert;
  // Appended to a SELECT that picks rows to lease, so that concurrent
  // pollers skip each other's rows instead of waiting: " FOR UPDATE SKIP
  // LOCKED". Empty where the database has no row locks (SQLite: a write
  // transaction holds the whole database, so nothing can be skipped).
  absl::string_view skip_locked;
  // Appended to a SELECT that reads a row the transaction is about to
  // decide on, so that a concurrent writer of that row waits (and is waited
  // for) instead of both acting on a stale read: " FOR UPDATE". Empty in
  // SQLite, whose write transaction holds the whole database. Used where
  // a completion and a client event must serialize on one execution's row
  // (continue-as-new moving the inbox versus a signal delivered to it).
  absl::string_view for_update;
  // A join (with spaces around it, followed by the right table and its ON
  // clause) that the planner must run in the written order, left table
  // outside: SQLite's " CROSS JOIN ", MySQL's " STRAIGHT_JOIN ". PostgreSQL
  // has no such hint (and no ON after CROSS JOIN): a plain " JOIN ".
  absl::string_view ordered_join;
  // CREATE INDEX ... WHERE (SQLite, PostgreSQL). Without them a migration
  // indexes the whole column.
  bool partial_indexes;
  // INSERT/UPDATE/DELETE ... RETURNING on every statement kind (SQLite >=
  // 3.35, PostgreSQL). MariaDB has it for INSERT and DELETE only and MySQL
  // not at all, so the MySQL dialect says no: read back by key instead.
  bool returning;
  // DDL is part of the enclosing transaction (SQLite, PostgreSQL). MySQL
  // commits implicitly before and after each DDL statement, so a migration
  // there cannot be rolled back as a whole (see migrations.h).
  bool transactional_ddl;
  // Run right after the migration transaction begins, to keep two processes
  // from migrating at once (empty: beginning a write transaction is enough,
  // as SQLite's BEGIN IMMEDIATE is). A returned integer 0 means the lock
  // was not granted.
  absl::string_view migration_lock;
  // Run when migrating is over, committed or not, for a lock that outlives
  // transactions (MySQL's GET_LOCK); empty when the lock ends with the
  // transaction.
  absl::string_view migration_unlock;

  // Renders a neutral statement (see the top comment). Errors
  // (INVALID_ARGUMENT): a placeholder other than ?N (a bare `?`, `?0`,
  // `$1`), a parameter number never used below the highest one, an
  // unterminated literal or comment.
  absl::StatusOr<RenderedStatement> Render(absl::string_view neutral) const;

  // The clause that turns `INSERT INTO t (...) VALUES (...)` into an upsert
  // on `key` (the conflicting unique key's columns): on conflict, `update`
  // columns take the inserted values; with no `update` columns the existing
  // row is kept unchanged. Appended to the INSERT, e.g.
  //   " ON CONFLICT (worker_id) DO UPDATE SET info = excluded.info".
  std::string UpsertClause(absl::Span<const absl::string_view> key,
                           absl::Span<const absl::string_view> update) const;
};

const Dialect& SqliteDialect();
// MySQL 8 and MariaDB >= 10.6 (SKIP LOCKED).
const Dialect& MysqlDialect();
// PostgreSQL >= 9.5 (ON CONFLICT, SKIP LOCKED); durable targets 15.
const Dialect& PostgresDialect();

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_DIALECT_H_
