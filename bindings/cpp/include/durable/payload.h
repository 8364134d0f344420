// Payload codec: values <-> durable.v1.Payload.
//
// Every argument and result that crosses the engine is a Payload: bytes plus
// an encoding name. The C++ facade reads and writes "json/plain" (UTF-8 JSON
// text), which every durable language layer understands, so a Python workflow
// can call a C++ activity. Any type nlohmann::json can convert works: the
// built-in scalars, strings and containers, and user types with
// to_json/from_json (or NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE).
//
// "binary/null" marks "no value" (the result of a void activity or an
// absl::Status workflow); it decodes as JSON null, so it fits
// nlohmann::json.
//
// Errors are absl::InvalidArgumentError naming the C++ type and the cause:
//   cannot decode payload as int: [json.exception.type_error.302] ...
//   cannot decode payload as int: unsupported encoding "binary/protobuf"
#ifndef DURABLE_PAYLOAD_H_
#define DURABLE_PAYLOAD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/proto/common.pb.h"
#include "nlohmann/json.hpp"

namespace durable {

inline constexpr absl::string_view kJsonEncoding = "json/plain";
inline constexpr absl::string_view kNullEncoding = "binary/null";

namespace internal {

// A readable C++ name of T for error messages, e.g. "int", "std::string".
std::string ReadableTypeName(absl::string_view pretty_function);

template <class T>
std::string TypeName() {
  return ReadableTypeName(__PRETTY_FUNCTION__);
}

}  // namespace internal

// A payload holding JSON text as-is. The text is not validated.
v1::Payload JsonPayload(std::string json_text);

// The "no value" payload.
v1::Payload NullPayload();

// Encodes `value` as JSON. Fails only when nlohmann cannot serialize it (for
// example a std::string holding invalid UTF-8).
template <class T>
absl::StatusOr<v1::Payload> EncodePayload(const T& value) {
  try {
    return JsonPayload(nlohmann::json(value).dump());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot encode ", internal::TypeName<T>(), " as JSON: ", e.what()));
  }
}

// Parses the payload's JSON (binary/null becomes JSON null).
absl::StatusOr<nlohmann::json> DecodePayloadJson(const v1::Payload& payload,
                                                 absl::string_view type_name);

// Decodes a payload written by any language layer into T.
template <class T>
absl::StatusOr<T> DecodePayload(const v1::Payload& payload) {
  const std::string type_name = internal::TypeName<T>();
  absl::StatusOr<nlohmann::json> json = DecodePayloadJson(payload, type_name);
  if (!json.ok()) return json.status();
  try {
    return json->template get<T>();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot decode payload as ", type_name, ": ", e.what()));
  }
}

}  // namespace durable

#endif  // DURABLE_PAYLOAD_H_
