// Process-wide ChangeNotifiers shared by every SQL store open on the same
// database.
//
// Two store objects on one database in one process (a client and a worker,
// say) have separate connections, but a commit through one must wake a
// poller blocked in the other at once. They therefore share the notifier
// registered for the database's key: SQLite's canonical file path,
// "mysql:host:port/database" for a server. Entries are weak: the notifier
// lives as long as some store holds it. Other processes are not notified;
// their pollers fall back to a short re-check (core/storage/poll_loop.h).
#ifndef DURABLE_BACKENDS_SQL_NOTIFIER_REGISTRY_H_
#define DURABLE_BACKENDS_SQL_NOTIFIER_REGISTRY_H_

#include <memory>
#include <string>

#include "core/storage/change_notifier.h"

namespace durable::backends::sql {

// Returns the notifier of `database_key`, creating it if no live store
// holds one. Thread-safe.
std::shared_ptr<core::ChangeNotifier> SharedNotifierFor(
    const std::string& database_key);

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_NOTIFIER_REGISTRY_H_
