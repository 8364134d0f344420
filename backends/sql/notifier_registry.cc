#include "backends/sql/notifier_registry.h"

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace durable::backends::sql {

std::shared_ptr<core::ChangeNotifier> SharedNotifierFor(
    const std::string& database_key) {
  static absl::Mutex mu(absl::kConstInit);
  // Leaked on purpose: backends may be destroyed during static destruction.
  static auto* registry =
      new absl::flat_hash_map<std::string,
                              std::weak_ptr<core::ChangeNotifier>>();
  absl::MutexLock lock(&mu);
  std::weak_ptr<core::ChangeNotifier>& slot = (*registry)[database_key];
  std::shared_ptr<core::ChangeNotifier> notifier = slot.lock();
  if (notifier == nullptr) {
    notifier = std::make_shared<core::ChangeNotifier>();
    slot = notifier;
    // Drop entries of files no backend has open any more, so a process that
    // opens many files does not grow the map forever.
    absl::erase_if(*registry,
                   [](const auto& entry) { return entry.second.expired(); });
  }
  return notifier;
}

}  // namespace durable::backends::sql
