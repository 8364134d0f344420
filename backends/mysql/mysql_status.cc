#include "backends/mysql/mysql_status.h"

#include "absl/strings/str_cat.h"

namespace durable::backends::mysql {

absl::StatusCode MysqlErrorCode(unsigned int error_number) {
  switch (error_number) {
    case 1213:  // ER_LOCK_DEADLOCK
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1020:  // ER_CHECKREAD: record changed since last read
      return absl::StatusCode::kAborted;
    case 2002:  // CR_CONNECTION_ERROR
    case 2003:  // CR_CONN_HOST_ERROR
    case 2005:  // CR_UNKNOWN_HOST
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED
      return absl::StatusCode::kUnavailable;
    case 1062:  // ER_DUP_ENTRY
    case 1586:  // ER_DUP_ENTRY_WITH_KEY_NAME
    case 1022:  // ER_DUP_KEY
      return absl::StatusCode::kAlreadyExists;
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1290:  // ER_OPTION_PREVENTS_STATEMENT (--read-only)
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
      return absl::StatusCode::kPermissionDenied;
    case 1021:  // ER_DISK_FULL
    case 1041:  // ER_OUT_OF_RESOURCES
    case 1114:  // ER_RECORD_FILE_FULL
    case 1040:  // ER_CON_COUNT_ERROR
    case 1203:  // ER_TOO_MANY_USER_CONNECTIONS
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status MysqlStatus(unsigned int error_number, absl::string_view message,
                         absl::string_view context) {
  return absl::Status(MysqlErrorCode(error_number),
                      absl::StrCat(context, ": ", message, " (mysql error ",
                                   error_number, ")"));
}

}  // namespace durable::backends::mysql
