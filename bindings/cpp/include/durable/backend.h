// Backend: a connection to the store that holds workflow instances, their
// histories and task queues.
//
//   absl::StatusOr<durable::Backend> backend =
//       durable::Backend::Open("sqlite:///var/lib/app/durable.db");
//
// URIs (see durable_backend_open in durable.h): "sqlite:///abs/path.db" for an
// on-disk SQLite database, "sqlite::memory:" for a private in-memory one that
// every Worker and Client built from this Backend (and its copies) shares.
//
// Backend is a cheap, copyable, thread-safe handle: copies share one
// connection, which closes when the last copy (and the last Worker/Client
// using it) is gone.
#ifndef DURABLE_BACKEND_H_
#define DURABLE_BACKEND_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct durable_backend_t;

namespace durable {

class Backend {
 public:
  // InvalidArgument for a malformed or unsupported URI; Unavailable if the
  // store cannot be reached.
  static absl::StatusOr<Backend> Open(std::string uri);

  const std::string& uri() const { return uri_; }

  // The C handle, for code that mixes the facade with the C ABI. Owned by
  // this Backend.
  durable_backend_t* handle() const { return handle_.get(); }

 private:
  Backend(std::string uri, std::shared_ptr<durable_backend_t> handle)
      : uri_(std::move(uri)), handle_(std::move(handle)) {}

  std::string uri_;
  std::shared_ptr<durable_backend_t> handle_;
};

}  // namespace durable

#endif  // DURABLE_BACKEND_H_
