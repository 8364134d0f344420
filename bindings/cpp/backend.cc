#include "durable/backend.h"

#include <memory>
#include <string>

#include "bindings/cpp/c_abi.h"
#include "durable/durable.h"

namespace durable {

absl::StatusOr<Backend> Backend::Open(std::string uri) {
  durable_backend_t* handle = nullptr;
  char* error = nullptr;
  absl::Status status = internal::StatusFromC(
      durable_backend_open(uri.c_str(), &handle, &error), &error);
  if (!status.ok()) return status;
  return Backend(std::move(uri), std::shared_ptr<durable_backend_t>(
                                     handle, &durable_backend_free));
}

}  // namespace durable
