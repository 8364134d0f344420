// The "mysql" URI scheme: how a backend URI names a MySQL/MariaDB store.
//
// URIs follow core/storage/backend_uri.h (percent-encoding, query options,
// no fragments; the password is never shown in messages). Accepted:
//   mysql://user[:password]@host[:port]/database   TCP (port 3306 by
//                                                  default)
//   mysql://user[:password]@localhost/database?socket=/run/mysqld/mysqld.sock
//                                                  a Unix socket
// Query options: socket=PATH (absolute), pool_size=N (1..1024, default
// MysqlOptions'), connect_timeout_ms=N (>= 1). A missing user, host or
// database, a database name with "/", any other option and any other form
// is INVALID_ARGUMENT quoting the redacted URI and saying what was expected.
// Errors of the server itself (unreachable: naming host:port; login
// refused; a foreign or newer database) come from MysqlStore::Open.
//
// Linking the `mysql_scheme` library registers the scheme with the store
// registry (core/storage/store_registry.h); programs normally get it
// through //backends:all_stores.
#ifndef DURABLE_BACKENDS_MYSQL_MYSQL_SCHEME_H_
#define DURABLE_BACKENDS_MYSQL_MYSQL_SCHEME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "backends/mysql/mysql_store.h"
#include "core/storage/admin_store.h"
#include "core/storage/backend_uri.h"

namespace durable::backends::mysql {

// The forms above, as error messages quote them.
inline constexpr char kMysqlUriForms[] =
    "mysql://user[:password]@host[:port]/database[?socket=/path/to.sock]";

// The store options `uri` (whose scheme is "mysql") names, without
// connecting.
absl::StatusOr<MysqlOptions> MysqlOptionsFromUri(
    const core::storage::BackendUri& uri);

// Opens the MySQL store `uri` names.
absl::StatusOr<std::shared_ptr<core::AdminStore>> OpenMysqlUri(
    const core::storage::BackendUri& uri);

}  // namespace durable::backends::mysql

#endif  // DURABLE_BACKENDS_MYSQL_MYSQL_SCHEME_H_
