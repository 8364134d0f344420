// Conversion of MariaDB Connector/C errors into absl::Status.
//
// Every failure surfaces as a status whose message names what durable was
// doing ("context"), the server's or client library's own explanation and its
// native error number, so one log line says which statement failed and why.
// The codes are the ones sql::Connection asks of every driver
// (backends/sql/connection.h):
//   1213 deadlock, 1205 lock wait timeout,
//   1020 record changed (MariaDB snapshot isolation)     -> ABORTED
//   2002/2003/2005/2006/2013/2055 (cannot connect, server
//   gone, connection lost), 1053 server shutdown,
//   1927 connection killed                                -> UNAVAILABLE
//   1062/1586 duplicate key, 1022 duplicate key on write  -> ALREADY_EXISTS
//   1044/1045/1142/1143/1227/1290/1698 (access denied,
//   missing privilege, read-only server)                  -> PERMISSION_DENIED
//   1021/1041/1114/1040/1203 (disk or table full, out of
//   memory, too many connections)                          ->
//   RESOURCE_EXHAUSTED anything else (SQL errors: bugs) -> INTERNAL
#ifndef DURABLE_BACKENDS_MYSQL_MYSQL_STATUS_H_
#define DURABLE_BACKENDS_MYSQL_MYSQL_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace durable::backends::mysql {

// The canonical code for MariaDB/MySQL error number `error_number` (server
// errors 1000-1999 and 3000+, client errors 2000-2999).
absl::StatusCode MysqlErrorCode(unsigned int error_number);

// "<context>: <message> (mysql error <error_number>)" with the code above.
absl::Status MysqlStatus(unsigned int error_number, absl::string_view message,
                         absl::string_view context);

}  // namespace durable::backends::mysql

#endif  // DURABLE_BACKENDS_MYSQL_MYSQL_STATUS_H_
