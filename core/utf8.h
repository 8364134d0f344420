// UTF-8 validation: where text enters durable (the C ABI, backend URIs, the
// bindings) it is checked once, so nothing is stored that cannot be read
// back as a protobuf `string` or a JSON string.
#ifndef DURABLE_CORE_UTF8_H_
#define DURABLE_CORE_UTF8_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace durable::core {

// The offset of the first byte of `text` that does not start a well-formed
// UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF), or nullopt when all of `text` is valid.
std::optional<size_t> FirstInvalidUtf8(absl::string_view text);

inline bool IsValidUtf8(absl::string_view text) {
  return !FirstInvalidUtf8(text).has_value();
}

// The length (1 to 4) of the well-formed UTF-8 sequence that starts at
// text[i], or 0 if none does. Precondition: i < text.size().
size_t ValidUtf8SequenceLength(absl::string_view text, size_t i);

// `text` with every byte that is not part of a well-formed sequence written
// as \xNN, so a message quoting it is valid UTF-8.
std::string EscapeInvalidUtf8(absl::string_view text);

}  // namespace durable::core

#endif  // DURABLE_CORE_UTF8_H_
