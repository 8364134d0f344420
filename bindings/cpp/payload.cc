#include "durable/payload.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace durable {
namespace internal {

std::string ReadableTypeName(absl::string_view pretty_function) {
  // g++ renders TypeName<T>() as "... TypeName() [with T = int; ...]".
  absl::string_view name = pretty_function;
  const size_t start = name.find("T = ");
  if (start == absl::string_view::npos) return std::string(name);
  name.remove_prefix(start + 4);
  const size_t end = name.find_first_of(";]");
  if (end != absl::string_view::npos) name = name.substr(0, end);
  // The standard library's inline namespaces and default arguments only add
  // noise to a message meant for a person.
  return absl::StrReplaceAll(
      name, {{"std::__cxx11::basic_string<char>", "std::string"},
             {"std::__cxx11::", "std::"},
             {"nlohmann::json_abi_v3_11_2::", "nlohmann::"}});
}

std::string IntegerMismatch(const nlohmann::json& json, absl::string_view type,
                            int64_t min, uint64_t max) {
  const std::string range =
      absl::StrCat(" does not fit in ", type, " (", min, " to ", max, ")");
  if (json.is_boolean()) {
    return absl::StrCat(json.dump(), " is a boolean, not an integer");
  }
  if (json.is_number_unsigned()) {
    const uint64_t value = json.get<uint64_t>();
    return value > max ? absl::StrCat(value, range) : "";
  }
  if (json.is_number_integer()) {
    const int64_t value = json.get<int64_t>();
    const bool fits =
        value < 0 ? value >= min : static_cast<uint64_t>(value) <= max;
    return fits ? "" : absl::StrCat(value, range);
  }
  if (json.is_number_float()) {
    const double value = json.get<double>();
    if (!std::isfinite(value) || std::trunc(value) != value) {
      return absl::StrCat(json.dump(), " is not an integer");
    }
    // max + 1 is a power of two, so it converts to double exactly.
    const double above_max = static_cast<double>(max / 2 + 1) * 2.0;
    if (value < static_cast<double>(min) || value >= above_max) {
      return absl::StrCat(json.dump(), range);
    }
  }
  return "";
}

}  // namespace internal

v1::Payload JsonPayload(std::string json_text) {
  v1::Payload payload;
  payload.set_encoding(std::string(kJsonEncoding));
  payload.set_data(std::move(json_text));
  return payload;
}

v1::Payload NullPayload() {
  v1::Payload payload;
  payload.set_encoding(std::string(kNullEncoding));
  return payload;
}

absl::StatusOr<nlohmann::json> DecodePayloadJson(const v1::Payload& payload,
                                                 absl::string_view type_name) {
  if (payload.encoding() == kNullEncoding) return nlohmann::json();
  if (payload.encoding() != kJsonEncoding) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot decode payload as ", type_name, ": unsupported encoding \"",
        payload.encoding(), "\" (the C++ facade reads \"", kJsonEncoding,
        "\" and \"", kNullEncoding, "\")"));
  }
  try {
    return nlohmann::json::parse(payload.data());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot decode payload as ", type_name, ": ", e.what()));
  }
}

}  // namespace durable
