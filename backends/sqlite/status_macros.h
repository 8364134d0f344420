// The SQL stores' early-return helpers, under the name the SQLite store has
// always included.
#ifndef DURABLE_BACKENDS_SQLITE_STATUS_MACROS_H_
#define DURABLE_BACKENDS_SQLITE_STATUS_MACROS_H_

#include "backends/sql/status_macros.h"  // IWYU pragma: export

#endif  // DURABLE_BACKENDS_SQLITE_STATUS_MACROS_H_
