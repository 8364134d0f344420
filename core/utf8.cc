#include "core/utf8.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace durable::core {

size_t ValidUtf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) -> uint8_t {
    return static_cast<uint8_t>(text[k]);
  };
  const auto in = [&](size_t k, uint8_t lo, uint8_t hi) {
    return k < text.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const uint8_t lead = byte(i);
  if (lead <= 0x7F) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return in(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    // E0: no overlong forms; ED: no surrogates (U+D800..U+DFFF).
    const uint8_t lo = lead == 0xE0 ? 0xA0 : 0x80;
    const uint8_t hi = lead == 0xED ? 0x9F : 0xBF;
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    // F0: no overlong forms; F4: nothing above U+10FFFF.
    const uint8_t lo = lead == 0xF0 ? 0x90 : 0x80;
    const uint8_t hi = lead == 0xF4 ? 0x8F : 0xBF;
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;  // a continuation byte, C0, C1 or F5..FF
}

std::optional<size_t> FirstInvalidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    // ASCII fast path: most text is.
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = ValidUtf8SequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::string EscapeInvalidUtf8(absl::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = ValidUtf8SequenceLength(text, i);
    if (n == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<uint8_t>(text[i]));
      ++i;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace durable::core
