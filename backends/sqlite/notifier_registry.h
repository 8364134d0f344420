// Process-wide ChangeNotifiers shared by every backend open on the same file.
//
// Two SqliteStore objects on one database file in one process (a client and
// a worker, say) have separate connections, but a commit through one must
// wake a poller blocked in the other at once. They therefore share the
// notifier registered for the file's canonical path. Entries are weak: the
// notifier lives as long as some backend holds it. Other processes are not
// notified; their pollers fall back to a short polling interval.
#ifndef DURABLE_BACKENDS_SQLITE_NOTIFIER_REGISTRY_H_
#define DURABLE_BACKENDS_SQLITE_NOTIFIER_REGISTRY_H_

#include <memory>
#include <string>

#include "core/storage/change_notifier.h"

namespace durable::backends::sqlite {

// Returns the notifier of `canonical_path`, creating it if no live backend
// holds one. Thread-safe.
std::shared_ptr<core::ChangeNotifier> SharedNotifierFor(
    const std::string& canonical_path);

}  // namespace durable::backends::sqlite

#endif  // DURABLE_BACKENDS_SQLITE_NOTIFIER_REGISTRY_H_
