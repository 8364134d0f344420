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
// Decoding never narrows: a number decoded into an integer type (also as an
// element of a std::vector, std::deque, std::list or a map with string
// keys) must be an integer that the type holds exactly; 1.5,
// 2^40 into int, -1 into unsigned, and true into int are errors. (The
// fields of user types with their own from_json are converted by that
// from_json, as nlohmann does.)
//
// Errors are absl::InvalidArgumentError naming the C++ type and the cause:
//   cannot decode payload as int: [json.exception.type_error.302] ...
//   cannot decode payload as int: unsupported encoding "binary/protobuf"
//   cannot decode payload as int: 1.5 is not an integer
//   cannot decode payload as std::vector<int>: element [1]: 1099511627776
//     does not fit in int (-2147483648 to 2147483647)
#ifndef DURABLE_PAYLOAD_H_
#define DURABLE_PAYLOAD_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

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

// Why `json` cannot become integer type T exactly, or "" if it can (or if it
// is not a number at all: nlohmann's conversion reports that).
std::string IntegerMismatch(const nlohmann::json& json, absl::string_view type,
                            int64_t min, uint64_t max);

template <class T>
struct IsSequence : std::false_type {};
template <class U, class A>
struct IsSequence<std::vector<U, A>> : std::true_type {};
template <class U, class A>
struct IsSequence<std::deque<U, A>> : std::true_type {};
template <class U, class A>
struct IsSequence<std::list<U, A>> : std::true_type {};

template <class T>
struct IsStringMap : std::false_type {};
template <class U, class C, class A>
struct IsStringMap<std::map<std::string, U, C, A>> : std::true_type {};
template <class U, class H, class E, class A>
struct IsStringMap<std::unordered_map<std::string, U, H, E, A>>
    : std::true_type {};

// Why `json` would be narrowed on its way into T ("" if it would not);
// `where` locates it inside the decoded value ("" at the top).
template <class T>
std::string Narrowing(const nlohmann::json& json, const std::string& where) {
  std::string why;
  if constexpr (std::is_integral_v<T>) {
    if constexpr (!std::is_same_v<T, bool>) {
      why =
          IntegerMismatch(json, TypeName<T>(),
                          static_cast<int64_t>(std::numeric_limits<T>::min()),
                          static_cast<uint64_t>(std::numeric_limits<T>::max()));
    }
  } else if constexpr (IsSequence<T>::value) {
    if (json.is_array()) {
      for (size_t i = 0; i < json.size() && why.empty(); ++i) {
        why = Narrowing<typename T::value_type>(
            json[i], absl::StrCat(where, "[", i, "]"));
      }
      return why;
    }
  } else if constexpr (IsStringMap<T>::value) {
    if (json.is_object()) {
      for (auto it = json.begin(); it != json.end() && why.empty(); ++it) {
        why = Narrowing<typename T::mapped_type>(
            it.value(), absl::StrCat(where, "[\"", it.key(), "\"]"));
      }
      return why;
    }
  }
  if (why.empty() || where.empty()) return why;
  return absl::StrCat("element ", where, ": ", why);
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
  if (std::string why = internal::Narrowing<T>(*json, ""); !why.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot decode payload as ", type_name, ": ", why));
  }
  try {
    return json->template get<T>();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot decode payload as ", type_name, ": ", e.what()));
  }
}

}  // namespace durable

#endif  // DURABLE_PAYLOAD_H_
