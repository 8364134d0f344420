#include "backends/mysql/connection.h"

#include <algorithm>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/mysql/mysql_status.h"

namespace durable::backends::mysql {
namespace {

// mysql_library_init is not thread-safe, and mysql_init calls it when it
// has not run yet: run it once, before any connection.
void InitLibraryOnce() {
  static absl::once_flag once;
  absl::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

// Errors after which the server has no transaction for this session: a
// deadlock rolls the whole transaction back (a lock wait timeout only the
// statement), a lost or killed connection ends the session.
bool EndsTransaction(unsigned int error_number) {
  switch (error_number) {
    case 1213:  // ER_LOCK_DEADLOCK
    case 1927:  // ER_CONNECTION_KILLED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
      return true;
    default:
      return false;
  }
}

}  // namespace

bool ChangesRows(absl::string_view sql) {
  sql = absl::StripLeadingAsciiWhitespace(sql);
  for (absl::string_view keyword : {"INSERT", "UPDATE", "DELETE", "REPLACE"}) {
    if (absl::StartsWithIgnoreCase(sql, keyword)) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const ConnectOptions& options) {
  InitLibraryOnce();
  const std::string address =
      options.unix_socket.empty()
          ? absl::StrCat(options.host, ":", options.port)
          : absl::StrCat("unix socket ", options.unix_socket);
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("connecting to mysql at ", address, ": out of memory"));
  }
  const unsigned int timeout_seconds = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(options.connect_timeout)));
  const my_bool no = 0;
  mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_seconds);
  mysql_optionsv(mysql, MYSQL_OPT_RECONNECT, &no);
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!options.unix_socket.empty()) {
    const unsigned int protocol = MYSQL_PROTOCOL_SOCKET;
    mysql_optionsv(mysql, MYSQL_OPT_PROTOCOL, &protocol);
  }
  if (mysql_real_connect(
          mysql,
          options.unix_socket.empty() ? options.host.c_str() : "localhost",
          options.user.c_str(), options.password.c_str(),
          options.database.empty() ? nullptr : options.database.c_str(),
          static_cast<unsigned int>(options.port),
          options.unix_socket.empty() ? nullptr : options.unix_socket.c_str(),
          CLIENT_FOUND_ROWS) == nullptr) {
    absl::Status status =
        MysqlStatus(mysql_errno(mysql), mysql_error(mysql),
                    absl::StrCat("connecting to mysql at ", address, " as '",
                                 options.user, "'"));
    mysql_close(mysql);
    return status;
  }
  std::unique_ptr<Connection> connection(new Connection(mysql, address));
  for (const std::string& statement : options.init_statements) {
    absl::Status status = connection->Exec(statement);
    if (!status.ok()) return status;
  }
  return connection;
}

Connection::Connection(MYSQL* mysql, std::string address)
    : sql::Connection(sql::MysqlDialect()),
      mysql_(mysql),
      address_(std::move(address)) {}

Connection::~Connection() {
  ClearStatementCache();  // Closes the statements before their session.
  mysql_close(mysql_);
}

absl::Status Connection::LastError(unsigned int error_number,
                                   absl::string_view message,
                                   absl::string_view context) {
  last_error_number_ = error_number;
  if (EndsTransaction(error_number)) in_transaction_ = false;
  return MysqlStatus(error_number, message, context);
}

void Connection::NoteChanges(int64_t rows, bool changes_rows) {
  if (changes_rows) changes_ = rows;
  total_changes_ += rows;
}

absl::Status Connection::Exec(absl::string_view sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
    return LastError(mysql_errno(mysql_), mysql_error(mysql_),
                     absl::StrCat("executing \"", sql, "\""));
  }
  if (mysql_field_count(mysql_) > 0) {
    MYSQL_RES* rows = mysql_store_result(mysql_);
    if (rows == nullptr) {
      return LastError(mysql_errno(mysql_), mysql_error(mysql_),
                       absl::StrCat("reading the rows of \"", sql, "\""));
    }
    mysql_free_result(rows);
    return absl::OkStatus();
  }
  const my_ulonglong affected = mysql_affected_rows(mysql_);
  if (affected != static_cast<my_ulonglong>(-1)) {
    NoteChanges(static_cast<int64_t>(affected), ChangesRows(sql));
  }
  return absl::OkStatus();
}

bool Connection::InTransaction() const {
  return in_transaction_ && (mysql_->server_status & SERVER_STATUS_IN_TRANS);
}

absl::Status Connection::Begin(sql::TransactionMode mode) {
  last_error_number_ = 0;
  if (mode == sql::TransactionMode::kRead) {
    // One snapshot for every statement, whatever the session's level
    // (READ COMMITTED would take one per statement); applies to the next
    // transaction only.
    if (absl::Status status =
            Exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        !status.ok()) {
      return status;
    }
  }
  absl::Status status = Exec(mode == sql::TransactionMode::kWrite
                                 ? "START TRANSACTION READ WRITE"
                                 : "START TRANSACTION READ ONLY");
  in_transaction_ = status.ok();
  return status;
}

absl::Status Connection::Commit() {
  in_transaction_ = false;
  return Exec("COMMIT");
}

absl::Status Connection::Rollback() {
  in_transaction_ = false;
  return Exec("ROLLBACK");
}

absl::StatusOr<std::unique_ptr<sql::PreparedStatement>> Connection::Compile(
    const sql::RenderedStatement& statement) {
  const std::string& sql = statement.text;
  MYSQL_STMT* stmt = mysql_stmt_init(mysql_);
  if (stmt == nullptr) {
    return LastError(mysql_errno(mysql_), mysql_error(mysql_),
                     absl::StrCat("preparing \"", sql, "\""));
  }
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) {
    absl::Status status =
        LastError(mysql_stmt_errno(stmt), mysql_stmt_error(stmt),
                  absl::StrCat("preparing \"", sql, "\""));
    mysql_stmt_close(stmt);
    return status;
  }
  absl::StatusOr<std::unique_ptr<MysqlStatement>> prepared =
      MysqlStatement::Create(this, stmt, statement);
  if (!prepared.ok()) return prepared.status();
  return std::unique_ptr<sql::PreparedStatement>(*std::move(prepared));
}

}  // namespace durable::backends::mysql
