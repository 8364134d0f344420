#include "backends/postgres/connection.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/postgres/postgres_status.h"

namespace durable::backends::postgres {
namespace {

// libpq reports a failed connection attempt with a message only (no
// SQLSTATE); these say the server refused who we are, not that it is
// unreachable.
bool IsAuthenticationFailure(absl::string_view message) {
  return absl::StrContains(message, "authentication failed") ||
         absl::StrContains(message, "no pg_hba.conf entry") ||
         (absl::StrContains(message, "role \"") &&
          absl::StrContains(message, "does not exist"));
}

bool CommandChangesRows(const PGresult* result) {
  const absl::string_view command = PQcmdStatus(const_cast<PGresult*>(result));
  for (absl::string_view keyword : {"INSERT", "UPDATE", "DELETE", "MERGE"}) {
    if (absl::StartsWith(command, keyword)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const ConnectOptions& options) {
  const std::string address = absl::StrCat(options.host, ":", options.port);
  const std::string port = absl::StrCat(options.port);
  // libpq rounds timeouts below 2 s up to 2 s.
  const std::string timeout = absl::StrCat(
      std::max<int64_t>(2, absl::ToInt64Seconds(options.connect_timeout)));
  const char* keywords[] = {"host",
                            "port",
                            "user",
                            "password",
                            "dbname",
                            "connect_timeout",
                            "client_encoding",
                            "application_name",
                            nullptr};
  const char* values[] = {
      options.host.c_str(),
      port.c_str(),
      options.user.c_str(),
      options.password.c_str(),
      options.database.empty() ? nullptr : options.database.c_str(),
      timeout.c_str(),
      "UTF8",
      "durable",
      nullptr};
  PGconn* pg = PQconnectdbParams(keywords, values, /*expand_dbname=*/0);
  if (pg == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("connecting to postgres at ", address, ": out of memory"));
  }
  if (PQstatus(pg) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(pg);
    PQfinish(pg);
    return absl::Status(
        IsAuthenticationFailure(message) ? absl::StatusCode::kPermissionDenied
                                         : absl::StatusCode::kUnavailable,
        absl::StrCat("connecting to postgres at ", address, " as '",
                     options.user,
                     "': ", absl::StripTrailingAsciiWhitespace(message)));
  }
  std::unique_ptr<Connection> connection(new Connection(pg, address));
  for (const std::string& statement : options.init_statements) {
    absl::Status status = connection->Exec(statement);
    if (!status.ok()) return status;
  }
  return connection;
}

Connection::Connection(PGconn* pg, std::string address)
    : sql::Connection(sql::PostgresDialect()),
      pg_(pg),
      address_(std::move(address)) {}

Connection::~Connection() {
  ClearStatementCache();
  PQfinish(pg_);
}

absl::Status Connection::ResultError(const PGresult* result,
                                     absl::string_view context) const {
  if (result == nullptr) {
    return PostgresStatus("", PQerrorMessage(pg_), context);
  }
  const char* sqlstate =
      PQresultErrorField(const_cast<PGresult*>(result), PG_DIAG_SQLSTATE);
  return PostgresStatus(sqlstate != nullptr ? sqlstate : "",
                        PQresultErrorMessage(result), context);
}

void Connection::NoteChanges(const PGresult* result) {
  const char* tuples = PQcmdTuples(const_cast<PGresult*>(result));
  int64_t rows = 0;
  if (tuples == nullptr || *tuples == '\0' ||
      !absl::SimpleAtoi(tuples, &rows)) {
    return;
  }
  if (CommandChangesRows(result)) {
    changes_ = rows;
    total_changes_ += rows;
  }
}

std::string Connection::NextStatementName() {
  return absl::StrCat("durable_", ++statement_names_);
}

absl::Status Connection::Exec(absl::string_view sql) {
  const std::string text(sql);
  PGresult* result = PQexec(pg_, text.c_str());
  const ExecStatusType status =
      result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  absl::Status outcome;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
      status == PGRES_EMPTY_QUERY) {
    NoteChanges(result);
  } else {
    outcome = ResultError(result, absl::StrCat("executing \"", sql, "\""));
  }
  PQclear(result);
  return outcome;
}

bool Connection::InTransaction() const {
  switch (PQtransactionStatus(pg_)) {
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
    case PQTRANS_ACTIVE:
      return true;
    default:
      return false;
  }
}

absl::Status Connection::Begin(sql::TransactionMode mode) {
  return Exec(mode == sql::TransactionMode::kWrite
                  ? "BEGIN READ WRITE"
                  : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

absl::StatusOr<std::unique_ptr<sql::PreparedStatement>> Connection::Compile(
    const sql::RenderedStatement& statement) {
  return std::unique_ptr<sql::PreparedStatement>(
      new PostgresStatement(this, statement));
}

}  // namespace durable::backends::postgres
