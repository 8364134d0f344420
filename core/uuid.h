// Random (version 4) UUIDs for instance, execution and lease ids.
#ifndef DURABLE_CORE_UUID_H_
#define DURABLE_CORE_UUID_H_

#include <string>

namespace durable::core {

// Returns a new random UUID in canonical form,
// e.g. "3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b". Thread-safe.
std::string NewUuid();

}  // namespace durable::core

#endif  // DURABLE_CORE_UUID_H_
