#include "capi/request_checks.h"

#include <string>

#include "core/proto/protocol.pb.h"
#include "core/proto/service.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"

namespace durable::capi {
namespace {

using ::testing::HasSubstr;

// A serialized Payload whose `encoding` (a proto3 string) holds `text`.
std::string PayloadWithEncoding(const std::string& text) {
  std::string wire = "\x0a";
  wire.push_back(static_cast<char>(text.size()));
  return wire + text;
}

// The UTF-8 rule must be exactly the one protobuf's parser applies: text we
// accept that it refuses would be stored and never read back.
TEST(FindInvalidUtf8Test, AgreesWithProtobufsParser) {
  google::protobuf::LogSilencer quiet;  // the parser logs every refusal
  int disagreements = 0;
  auto check = [&](const std::string& text) {
    v1::Payload payload;
    const bool protobuf_valid =
        payload.ParseFromString(PayloadWithEncoding(text));
    const bool ours_valid = !FindInvalidUtf8(text).has_value();
    if (protobuf_valid != ours_valid && ++disagreements <= 10) {
      ADD_FAILURE() << "disagree on \"" << EscapeInvalidUtf8(text)
                    << "\": protobuf " << protobuf_valid << ", ours "
                    << ours_valid;
    }
  };
  // Every string of one and two bytes; three and four bytes after every
  // lead byte with every second byte, the rest at the range edges.
  for (int a = 0; a < 256; ++a) {
    check(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) {
      check({static_cast<char>(a), static_cast<char>(b)});
    }
  }
  const int edges[] = {0x00, 0x7f, 0x80, 0x8f, 0x90,
                       0x9f, 0xa0, 0xbf, 0xc0, 0xff};
  for (int lead = 0xc0; lead < 0x100; ++lead) {
    for (int b = 0; b < 256; ++b) {
      for (int c : edges) {
        check({static_cast<char>(lead), static_cast<char>(b),
               static_cast<char>(c)});
        for (int d : edges) {
          check({static_cast<char>(lead), static_cast<char>(b),
                 static_cast<char>(c), static_cast<char>(d)});
        }
      }
    }
  }
  EXPECT_EQ(disagreements, 0);
}

TEST(FindInvalidUtf8Test, ReportsTheFirstBadByte) {
  EXPECT_FALSE(FindInvalidUtf8("").has_value());
  EXPECT_FALSE(FindInvalidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80").has_value());
  auto bad = FindInvalidUtf8("ok\xc3\xa9\xff");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->offset, 4u);
  EXPECT_EQ(bad->byte, 0xff);
  bad = FindInvalidUtf8("ab\xe2\x82");  // truncated euro sign
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->offset, 2u);
  EXPECT_EQ(bad->byte, 0xe2);
}

TEST(EscapeInvalidUtf8Test, EscapesOnlyWhatIsInvalid) {
  EXPECT_EQ(EscapeInvalidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(EscapeInvalidUtf8("a\xff"
                              "b\xc3"),
            "a\\xffb\\xc3");
}

TEST(CheckTextTest, NamesTheField) {
  EXPECT_TRUE(CheckText("fine", "reason").ok());
  EXPECT_EQ(CheckText("x\xff", "reason").message(),
            "reason: not valid UTF-8 (byte 0xff at offset 1)");
  EXPECT_TRUE(absl::IsInvalidArgument(CheckText("\x80", "reason")));
  // NUL is valid UTF-8 and fine in text other than instance ids.
  EXPECT_TRUE(CheckText(std::string("a\0b", 3), "reason").ok());
}

TEST(CheckInstanceIdTest, RefusesNul) {
  EXPECT_TRUE(CheckInstanceId("order-1", "instance_id").ok());
  EXPECT_EQ(CheckInstanceId(std::string("a\0b", 3), "instance_id").message(),
            "instance_id: an instance id cannot contain NUL (found at offset "
            "1)");
}

TEST(CheckStringsTest, WalksEveryStringAtAnyDepth) {
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id("run");
  auto* commands = completion.mutable_successful();
  commands->add_commands()->mutable_start_timer()->set_name("fine");
  auto* schedule = commands->add_commands()->mutable_schedule_activity();
  schedule->set_activity_name("A");
  schedule->mutable_retry_policy()->add_non_retryable_error_types("E1");
  schedule->mutable_retry_policy()->add_non_retryable_error_types("E2\xff");
  EXPECT_EQ(CheckStrings(completion).message(),
            "WorkflowActivationCompletion.successful.commands[1]"
            ".schedule_activity.retry_policy.non_retryable_error_types[1]: "
            "not valid UTF-8 (byte 0xff at offset 2)");

  v1::WorkflowActivationCompletion with_sub_workflow;
  auto* start = with_sub_workflow.mutable_successful()
                    ->add_commands()
                    ->mutable_start_sub_workflow();
  (*start->mutable_metadata())["trace \"id\""] = "\xc3";
  EXPECT_EQ(CheckStrings(with_sub_workflow).message(),
            "WorkflowActivationCompletion.successful.commands[0]"
            ".start_sub_workflow.metadata[\"trace \\\"id\\\"\"]: not valid "
            "UTF-8 (byte 0xc3 at offset 0)");

  v1::WorkflowActivationCompletion signal;
  signal.mutable_successful()
      ->add_commands()
      ->mutable_signal_external_workflow()
      ->set_instance_id(std::string("x\0", 2));
  EXPECT_THAT(CheckStrings(signal).message(),
              HasSubstr("commands[0].signal_external_workflow.instance_id: an "
                        "instance id cannot contain NUL"));

  v1::ActivityTaskResult result;
  result.set_task_token("\xff\xfe");  // bytes: anything goes
  result.mutable_completed()->set_data("\xff");
  EXPECT_TRUE(CheckStrings(result).ok());
}

TEST(ParseRequestTest, NamesTheFieldProtobufRefusedForItsUtf8) {
  google::protobuf::LogSilencer quiet;
  v1::CreateWorkflowInstanceRequest request;
  request.set_instance_id("id");
  request.set_workflow_name("W");
  (*request.mutable_metadata())["a"] = "fine";
  (*request.mutable_metadata())["k"] = "ab\xff";
  const std::string bytes = request.SerializeAsString();
  v1::CreateWorkflowInstanceRequest parsed;
  absl::Status status =
      ParseRequest(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                   "request", &parsed);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(status.message(),
            "CreateWorkflowInstanceRequest.metadata[\"k\"]: not valid UTF-8 "
            "(byte 0xff at offset 2)");
}

TEST(ParseRequestTest, OtherDamageIsAPlainError) {
  const std::string garbage = "\xff\xff\xff";
  v1::SignalWorkflowRequest parsed;
  absl::Status status =
      ParseRequest(reinterpret_cast<const uint8_t*>(garbage.data()),
                   garbage.size(), "request", &parsed);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(status.message(),
            "request: 3 bytes are not a valid durable.v1.SignalWorkflowRequest "
            "message");
}

TEST(ParseRequestTest, LengthsAndNull) {
  v1::SignalWorkflowRequest parsed;
  EXPECT_TRUE(ParseRequest(nullptr, 0, "request", &parsed).ok());
  EXPECT_EQ(ParseRequest(nullptr, 3, "request", &parsed).message(),
            "request: NULL data with non-zero length 3");
  const uint8_t byte = 0;
  EXPECT_EQ(
      ParseRequest(&byte, kMaxRequestBytes + 1, "request", &parsed).message(),
      "request: 2147483648 bytes exceed the largest message protobuf "
      "can parse (2147483647 bytes)");
}

}  // namespace
}  // namespace durable::capi
