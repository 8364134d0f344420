#include "capi/request_checks.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/utf8.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"

namespace durable::capi {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::DescriptorProto;
using google::protobuf::DynamicMessageFactory;
using google::protobuf::FieldDescriptor;
using google::protobuf::FieldDescriptorProto;
using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Utf8Problem(const Utf8Error& e) {
  return absl::StrFormat("not valid UTF-8 (byte 0x%02x at offset %d)", e.byte,
                         e.offset);
}

// A copy of the durable.v1 descriptors in which every `string` field is
// `bytes` (and map entries are plain messages, since bytes cannot be a map
// key). The wire format is the same, so bytes that protobuf's parser
// refuses only for their UTF-8 parse here, and the checker can then say
// which field was at fault.
class TolerantParser {
 public:
  static const TolerantParser& Get() {
    static const TolerantParser* parser = new TolerantParser();
    return *parser;
  }

  // The bytes parsed as the tolerant copy of `type`, or nullptr.
  std::unique_ptr<Message> Parse(const Descriptor* type, const uint8_t* data,
                                 size_t len) const {
    const Descriptor* copy = pool_.FindMessageTypeByName(type->full_name());
    if (copy == nullptr) return nullptr;
    const Message* prototype = factory_.GetPrototype(copy);
    if (prototype == nullptr) return nullptr;
    std::unique_ptr<Message> message(prototype->New());
    if (!message->ParseFromArray(data, static_cast<int>(len))) return nullptr;
    return message;
  }

 private:
  TolerantParser() {
    std::set<std::string> added;
    for (const char* name :
         {"durable.v1.CreateWorkflowInstanceRequest",
          "durable.v1.WorkflowActivationCompletion", "durable.v1.History"}) {
      const Descriptor* type =
          DescriptorPool::generated_pool()->FindMessageTypeByName(name);
      if (type != nullptr) Add(type->file(), added);
    }
  }

  void Add(const FileDescriptor* file, std::set<std::string>& added) {
    if (!added.insert(file->name()).second) return;
    for (int i = 0; i < file->dependency_count(); ++i) {
      Add(file->dependency(i), added);
    }
    FileDescriptorProto proto;
    file->CopyTo(&proto);
    for (DescriptorProto& type : *proto.mutable_message_type()) Loosen(type);
    pool_.BuildFile(proto);  // on failure, Parse finds no type: plain error
  }

  static void Loosen(DescriptorProto& type) {
    type.mutable_options()->clear_map_entry();
    for (FieldDescriptorProto& field : *type.mutable_field()) {
      if (field.type() == FieldDescriptorProto::TYPE_STRING) {
        field.set_type(FieldDescriptorProto::TYPE_BYTES);
      }
    }
    for (DescriptorProto& nested : *type.mutable_nested_type()) {
      Loosen(nested);
    }
  }

  DescriptorPool pool_;
  mutable DynamicMessageFactory factory_{&pool_};
};

// Walks the string fields of a message. `message` is either of type
// `original` or of its tolerant copy: the copy has the same fields in the
// same order, so original->field(f->index()) tells what a field really is.
class StringChecker {
 public:
  explicit StringChecker(std::string root) : path_(std::move(root)) {}

  absl::Status Check(const Message& message, const Descriptor* original) {
    const Reflection* reflection = message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection->ListFields(message, &fields);
    for (const FieldDescriptor* field : fields) {
      const FieldDescriptor* real = original->field(field->index());
      const size_t mark = path_.size();
      absl::StrAppend(&path_, ".", real->name());
      absl::Status status = CheckField(message, field, real);
      if (!status.ok()) return status;
      path_.resize(mark);
    }
    return absl::OkStatus();
  }

 private:
  absl::Status CheckField(const Message& message, const FieldDescriptor* field,
                          const FieldDescriptor* real) {
    const Reflection* reflection = message.GetReflection();
    if (real->is_map()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        absl::Status status =
            CheckMapEntry(reflection->GetRepeatedMessage(message, field, i),
                          real->message_type());
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    }
    if (real->type() == FieldDescriptor::TYPE_STRING) {
      std::string scratch;
      if (!real->is_repeated()) {
        return CheckString(
            reflection->GetStringReference(message, field, &scratch), real);
      }
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        const size_t mark = path_.size();
        absl::StrAppend(&path_, "[", i, "]");
        absl::Status status = CheckString(
            reflection->GetRepeatedStringReference(message, field, i, &scratch),
            real);
        if (!status.ok()) return status;
        path_.resize(mark);
      }
      return absl::OkStatus();
    }
    if (real->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::OkStatus();
    }
    if (!real->is_repeated()) {
      return Check(reflection->GetMessage(message, field),
                   real->message_type());
    }
    for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
      const size_t mark = path_.size();
      absl::StrAppend(&path_, "[", i, "]");
      absl::Status status =
          Check(reflection->GetRepeatedMessage(message, field, i),
                real->message_type());
      if (!status.ok()) return status;
      path_.resize(mark);
    }
    return absl::OkStatus();
  }

  // A map entry: key = field 0, value = field 1 (the same in the tolerant
  // copy, where the entry is a plain message).
  absl::Status CheckMapEntry(const Message& entry, const Descriptor* original) {
    const Reflection* reflection = entry.GetReflection();
    const FieldDescriptor* key = entry.GetDescriptor()->field(0);
    const FieldDescriptor* value = entry.GetDescriptor()->field(1);
    const FieldDescriptor* real_key = original->field(0);
    const FieldDescriptor* real_value = original->field(1);
    std::string key_text;
    if (real_key->type() == FieldDescriptor::TYPE_STRING) {
      key_text = reflection->GetString(entry, key);
      if (std::optional<Utf8Error> bad = FindInvalidUtf8(key_text)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path_, "[\"", absl::CHexEscape(key_text),
                         "\"] (the key): ", Utf8Problem(*bad)));
      }
      key_text = absl::StrCat("\"", absl::Utf8SafeCEscape(key_text), "\"");
    } else {
      // No map of this ABI has a non-string key; name the entry plainly.
      key_text = "?";
    }
    const size_t mark = path_.size();
    absl::StrAppend(&path_, "[", key_text, "]");
    absl::Status status;
    if (real_value->type() == FieldDescriptor::TYPE_STRING) {
      status = CheckString(reflection->GetString(entry, value), real_value);
    } else if (real_value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               reflection->HasField(entry, value)) {
      status = Check(reflection->GetMessage(entry, value),
                     real_value->message_type());
    }
    if (!status.ok()) return status;
    path_.resize(mark);
    return absl::OkStatus();
  }

  absl::Status CheckString(const std::string& text,
                           const FieldDescriptor* real) {
    return real->name() == "instance_id" ? CheckInstanceId(text, path_)
                                         : CheckText(text, path_);
  }

  std::string path_;
};

}  // namespace

std::optional<Utf8Error> FindInvalidUtf8(absl::string_view text) {
  const std::optional<size_t> at = core::FirstInvalidUtf8(text);
  if (!at.has_value()) return std::nullopt;
  return Utf8Error{*at, static_cast<uint8_t>(text[*at])};
}

std::string EscapeInvalidUtf8(absl::string_view text) {
  return core::EscapeInvalidUtf8(text);
}

absl::Status CheckText(absl::string_view text, absl::string_view field) {
  if (std::optional<Utf8Error> bad = FindInvalidUtf8(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", Utf8Problem(*bad)));
  }
  return absl::OkStatus();
}

absl::Status CheckInstanceId(absl::string_view id, absl::string_view field) {
  if (absl::Status status = CheckText(id, field); !status.ok()) return status;
  if (const size_t nul = id.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": an instance id cannot contain NUL (found at offset ", nul,
        ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckStrings(const Message& message) {
  return StringChecker(message.GetDescriptor()->name())
      .Check(message, message.GetDescriptor());
}

absl::Status ParseRequest(const uint8_t* data, size_t len,
                          absl::string_view what, Message* message) {
  const Descriptor* type = message->GetDescriptor();
  if (data == nullptr && len > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": NULL data with non-zero length ", len));
  }
  if (len > kMaxRequestBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", len,
                     " bytes exceed the largest message protobuf can parse (",
                     kMaxRequestBytes, " bytes)"));
  }
  if (len == 0) return absl::OkStatus();
  if (message->ParseFromArray(data, static_cast<int>(len))) {
    // Protobuf's parser already refuses invalid UTF-8 in proto3 strings
    // (3.21 does); checking again keeps the rule independent of that and
    // applies the instance-id rule.
    return CheckStrings(*message);
  }
  // Refused. If only a string's UTF-8 was at fault, the tolerant copy
  // parses, and the checker names the field.
  if (std::unique_ptr<Message> loose =
          TolerantParser::Get().Parse(type, data, len)) {
    absl::Status status = StringChecker(type->name()).Check(*loose, type);
    if (!status.ok()) return status;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": ", len, " bytes are not a valid ",
                   type->full_name(), " message"));
}

}  // namespace durable::capi
