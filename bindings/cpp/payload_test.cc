#include "durable/payload.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "durable/failure.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Order {
  std::string item;
  int quantity = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, item, quantity)

TEST(PayloadTest, EncodesJson) {
  absl::StatusOr<v1::Payload> payload = EncodePayload(42);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(payload->encoding(), "json/plain");
  EXPECT_EQ(payload->data(), "42");
  EXPECT_EQ(EncodePayload(std::string("hi"))->data(), "\"hi\"");
}

TEST(PayloadTest, RoundTripsUserTypesAndContainers) {
  Order order{"tea", 3};
  absl::StatusOr<Order> decoded = DecodePayload<Order>(*EncodePayload(order));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->item, "tea");
  EXPECT_EQ(decoded->quantity, 3);

  std::map<std::string, std::vector<int>> map = {{"a", {1, 2}}, {"b", {}}};
  EXPECT_EQ(*DecodePayload<decltype(map)>(*EncodePayload(map)), map);
}

TEST(PayloadTest, WrongTypeNamesTheTypeAndTheJsonError) {
  absl::StatusOr<int> decoded = DecodePayload<int>(JsonPayload("\"x\""));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(decoded.status().message()),
              StartsWith("cannot decode payload as int: "));
  EXPECT_THAT(std::string(decoded.status().message()),
              HasSubstr("type must be number"));

  EXPECT_THAT(
      std::string(
          DecodePayload<std::string>(JsonPayload("1")).status().message()),
      StartsWith("cannot decode payload as std::string: "));
}

TEST(PayloadTest, IntegersAreNeverNarrowed) {
  auto message = [](const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    return std::string(status.message());
  };
  EXPECT_EQ(message(DecodePayload<int>(JsonPayload("1.5")).status()),
            "cannot decode payload as int: 1.5 is not an integer");
  EXPECT_EQ(message(DecodePayload<int>(JsonPayload("1099511627776")).status()),
            "cannot decode payload as int: 1099511627776 does not fit in int "
            "(-2147483648 to 2147483647)");
  EXPECT_THAT(message(DecodePayload<unsigned>(JsonPayload("-1")).status()),
              HasSubstr("-1 does not fit in unsigned int"));
  EXPECT_THAT(message(DecodePayload<int8_t>(JsonPayload("128")).status()),
              HasSubstr("128 does not fit in"));
  EXPECT_THAT(message(DecodePayload<int64_t>(JsonPayload("1e19")).status()),
              HasSubstr("does not fit in"));
  EXPECT_THAT(
      message(DecodePayload<uint64_t>(JsonPayload("18446744073709551616.0"))
                  .status()),
      HasSubstr("does not fit in"));
  EXPECT_EQ(message(DecodePayload<int>(JsonPayload("true")).status()),
            "cannot decode payload as int: true is a boolean, not an integer");
  EXPECT_EQ(
      message(
          DecodePayload<std::vector<int>>(JsonPayload("[1, 2.7]")).status()),
      "cannot decode payload as std::vector<int>: element [1]: 2.7 is not an "
      "integer");
  EXPECT_THAT(message(DecodePayload<std::map<std::string, int16_t>>(
                          JsonPayload(R"({"a": 70000})"))
                          .status()),
              HasSubstr(R"(element ["a"]: 70000 does not fit in)"));

  // What fits exactly still decodes, floats written as whole numbers too.
  EXPECT_EQ(*DecodePayload<int>(JsonPayload("-2147483648")), INT32_MIN);
  EXPECT_EQ(*DecodePayload<int>(JsonPayload("3.0")), 3);
  EXPECT_EQ(*DecodePayload<uint64_t>(JsonPayload("18446744073709551615")),
            UINT64_MAX);
  EXPECT_EQ(*DecodePayload<int64_t>(JsonPayload("-9223372036854775808")),
            INT64_MIN);
  EXPECT_DOUBLE_EQ(*DecodePayload<double>(JsonPayload("1.5")), 1.5);
  EXPECT_TRUE(*DecodePayload<bool>(JsonPayload("true")));
}

TEST(PayloadTest, InvalidJson) {
  absl::StatusOr<int> decoded = DecodePayload<int>(JsonPayload("{"));
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(std::string(decoded.status().message()),
              StartsWith("cannot decode payload as int: "));
  EXPECT_THAT(std::string(decoded.status().message()),
              HasSubstr("parse error"));
}

TEST(PayloadTest, WrongEncodingNamesTheEncoding) {
  v1::Payload payload;
  payload.set_encoding("binary/protobuf");
  payload.set_data("\x08\x01");
  absl::StatusOr<int> decoded = DecodePayload<int>(payload);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(std::string(decoded.status().message()),
              StartsWith("cannot decode payload as int: unsupported encoding "
                         "\"binary/protobuf\""));
}

TEST(PayloadTest, NullPayloadDecodesAsJsonNull) {
  EXPECT_TRUE(DecodePayload<nlohmann::json>(NullPayload())->is_null());
  EXPECT_FALSE(DecodePayload<int>(NullPayload()).ok());
}

TEST(PayloadTest, InvalidUtf8CannotBeEncoded) {
  absl::StatusOr<v1::Payload> payload = EncodePayload(std::string("\xff"));
  ASSERT_FALSE(payload.ok());
  EXPECT_THAT(std::string(payload.status().message()),
              StartsWith("cannot encode std::string as JSON"));
}

TEST(FailureTest, StatusCarriesTheFailure) {
  v1::Failure failure = MakeFailure("ActivityNotRegistered",
                                    "activity \"Foo\" is not registered");
  failure.set_non_retryable(true);
  absl::Status status = StatusFromFailure(failure);
  EXPECT_EQ(status.message(),
            "ActivityNotRegistered: activity \"Foo\" is not registered");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown);
  std::optional<v1::Failure> back = FailureFromStatus(status);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->type(), "ActivityNotRegistered");
  EXPECT_EQ(back->message(), "activity \"Foo\" is not registered");
  EXPECT_TRUE(back->non_retryable());
}

TEST(FailureTest, TypesNamingAnAbslCodeKeepTheCode) {
  EXPECT_EQ(FailureStatus("InvalidArgument", "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FailureStatus("NOT_FOUND", "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(FailureStatus("panic", "x").code(), absl::StatusCode::kUnknown);
}

TEST(FailureTest, PlainStatusBecomesCodeNameFailure) {
  std::optional<v1::Failure> failure =
      FailureFromStatus(absl::InvalidArgumentError("bad input"));
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->type(), "INVALID_ARGUMENT");
  EXPECT_EQ(failure->message(), "bad input");
  EXPECT_EQ(StatusFromFailure(*failure).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(FailureFromStatus(absl::OkStatus()).has_value());
  EXPECT_EQ(FailureType(absl::OkStatus()), "");
}

}  // namespace
}  // namespace durable
