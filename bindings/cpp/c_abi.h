// Helpers for calling the C ABI from the facade (private to the facade).
#ifndef DURABLE_BINDINGS_CPP_C_ABI_H_
#define DURABLE_BINDINGS_CPP_C_ABI_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "durable/durable.h"
#include "google/protobuf/message_lite.h"

namespace durable::internal {

// Frees strings and buffers returned by durable.
struct DurableFree {
  void operator()(void* ptr) const { durable_free(ptr); }
};

// Turns a C status and its error message (*error, owned: freed here) into an
// absl::Status. Takes the address so that the message is read after the call
// that set it, whatever the argument evaluation order. DURABLE_* codes 0-15
// equal absl's; NON_DETERMINISM becomes FailedPrecondition and SHUTDOWN
// Cancelled, with the code's name prefixed to the message so it stays visible.
absl::Status StatusFromC(durable_status_t code, char** error);

// Receives a library-owned output buffer and frees it.
class OutBuffer {
 public:
  OutBuffer() = default;
  OutBuffer(const OutBuffer&) = delete;
  OutBuffer& operator=(const OutBuffer&) = delete;
  ~OutBuffer() { durable_free(data_); }

  uint8_t** data() { return &data_; }
  size_t* size() { return &size_; }

  // DATA_LOSS if the bytes are not a valid `message`.
  absl::Status ParseInto(google::protobuf::MessageLite& message) const;

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

inline const uint8_t* Bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

// Milliseconds for a C timeout: rounded up, clamped to [0, int64 max].
int64_t TimeoutMillis(absl::Duration timeout);

}  // namespace durable::internal

#endif  // DURABLE_BINDINGS_CPP_C_ABI_H_
