// Checks applied to everything that enters durable through durable.h.
//
// The engine stores text it is given (instance ids, names, queues, reasons,
// failure messages, metadata) in protocol buffers, and a proto3 `string` that
// is not valid UTF-8 cannot be parsed back: stored once, it would poison
// whatever reads it later (every poll of a queue, say). So the C ABI refuses
// such text before anything is done, with INVALID_ARGUMENT and a message that
// names the field, and the rest of the engine may assume valid text.
//
// The rules, in one place:
//  - Text arguments and every `string` field of a request message, at any
//    depth (repeated fields, map keys and values, oneofs), must be valid
//    UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
//    U+10FFFF), the same rule protobuf's parser applies to proto3 strings.
//  - Instance ids (a text argument `instance_id`, and every `string` field
//    named `instance_id` in a request) must not contain NUL: the char*
//    entry points and the store treat them as C strings in places, so
//    "a\0b" would be created as one id and looked up as another.
//  - `bytes` fields (payload data, task tokens) may hold anything.
//  - A request buffer longer than protobuf can parse (INT_MAX bytes) is
//    refused before any byte of it is read.
//
// Messages name the field by its path from the request's message type, e.g.
//   CreateWorkflowInstanceRequest.metadata["k"]: not valid UTF-8 (byte 0xff
//   at offset 3)
//   WorkflowActivationCompletion.successful.commands[2].fail_workflow
//   .failure.message: not valid UTF-8 (byte 0xc3 at offset 7: truncated)
// and are themselves valid UTF-8 (offending bytes are escaped).
#ifndef DURABLE_CAPI_REQUEST_CHECKS_H_
#define DURABLE_CAPI_REQUEST_CHECKS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace durable::capi {

// Where a string stops being valid UTF-8, and why.
struct Utf8Error {
  size_t offset;       // of the first byte that does not belong
  uint8_t byte;        // that byte
  const char* reason;  // e.g. "truncated sequence"; see the .cc
};

// nullopt if `text` is valid UTF-8.
std::optional<Utf8Error> FindInvalidUtf8(absl::string_view text);

// `text` with every byte that is not part of valid UTF-8 written as \xNN,
// so that it can be quoted in an error message.
std::string EscapeInvalidUtf8(absl::string_view text);

// INVALID_ARGUMENT "<field>: not valid UTF-8 (...)" unless `text` is valid.
absl::Status CheckText(absl::string_view text, absl::string_view field);

// CheckText, and INVALID_ARGUMENT if the id contains a NUL byte.
absl::Status CheckInstanceId(absl::string_view id, absl::string_view field);

// Checks every string field of `message` (see the rules above); the path in
// a message starts with the message's type name.
absl::Status CheckStrings(const google::protobuf::Message& message);

// The largest request buffer protobuf can parse.
inline constexpr size_t kMaxRequestBytes = 2147483647;  // INT_MAX

// Parses `len` bytes at `data` into `message` and applies CheckStrings.
// `what` names the buffer in errors ("request", "completion", ...). NULL
// `data` with `len` 0 is the empty message. INVALID_ARGUMENT when `data` is
// NULL with a non-zero length, when `len` exceeds kMaxRequestBytes (nothing
// is read then), when the bytes are not a valid message, and when a string
// breaks a rule (the message names the field even though protobuf's parser
// refuses such bytes without saying where).
absl::Status ParseRequest(const uint8_t* data, size_t len,
                          absl::string_view what,
                          google::protobuf::Message* message);

}  // namespace durable::capi

#endif  // DURABLE_CAPI_REQUEST_CHECKS_H_
