#include "backends/redis/plan_encoder.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/time_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace durable::backends::redis {
namespace {

std::string Micros(absl::Time t) { return absl::StrCat(core::ToUnixMicros(t)); }

std::string Carries(const v1::HistoryEvent& event) {
  return core::CarriesOverToNextExecution(event) ? "1" : "0";
}

}  // namespace

bool ParseInboxCursor(absl::string_view text, InboxCursor* cursor) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits(':', 1));
  return absl::SimpleAtoi(parts.first, &cursor->max_id) &&
         absl::SimpleAtoi(parts.second, &cursor->taken_at_us);
}

std::string FormatInboxCursor(const InboxCursor& cursor) {
  return absl::StrCat(cursor.max_id, ":", cursor.taken_at_us);
}

std::string SerializeMetadata(const std::map<std::string, std::string>& m) {
  v1::WorkflowExecutionStarted holder;
  holder.mutable_metadata()->insert(m.begin(), m.end());
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  holder.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

std::map<std::string, std::string> ParseMetadata(absl::string_view blob) {
  v1::WorkflowExecutionStarted holder;
  holder.ParseFromArray(blob.data(), static_cast<int>(blob.size()));
  return {holder.metadata().begin(), holder.metadata().end()};
}

absl::Status RedisPlanEncoder::AppendHistory(
    const core::ExecutionKey& execution,
    absl::Span<const v1::HistoryEvent> events) {
  Add("H");
  Add(execution.instance_id);
  Add(execution.execution_id);
  Add(absl::StrCat(events.size()));
  for (const v1::HistoryEvent& event : events) {
    args_->push_back(event.SerializeAsString());
  }
  return absl::OkStatus();
}

absl::Status RedisPlanEncoder::ConsumeInbox(const core::ExecutionKey& execution,
                                            absl::string_view cursor) {
  InboxCursor consume;
  if (!ParseInboxCursor(cursor, &consume)) {
    return absl::InvalidArgumentError(
        absl::StrCat("workflow task for instance \"", execution.instance_id,
                     "\" has a malformed inbox cursor \"", cursor, "\""));
  }
  Add("C");
  Add(execution.instance_id);
  Add(execution.execution_id);
  Add(absl::StrCat(consume.max_id));
  Add(absl::StrCat(consume.taken_at_us));
  return absl::OkStatus();
}

absl::Status RedisPlanEncoder::WithdrawKeyedEvents(
    const core::ExecutionKey& execution, absl::Span<const std::string> keys) {
  Add("W");
  Add(execution.instance_id);
  Add(execution.execution_id);
  Add(absl::StrCat(keys.size()));
  for (const std::string& key : keys) Add(key);
  return absl::OkStatus();
}

absl::Status RedisPlanEncoder::EnqueueActivity(
    const core::ExecutionKey& execution, const core::PlannedActivity& activity,
    absl::Time now, absl::Time eager_lease_expires_at) {
  const core::ActivityTaskSpec& spec = *activity.spec;
  Add("A");
  Add(execution.instance_id);
  Add(execution.execution_id);
  Add(activity.activity_id);
  Add(activity.queue);
  args_->push_back(spec.scheduled_event.SerializeAsString());
  args_->push_back(SerializeMetadata(spec.metadata));
  Add(spec.scheduled_event.activity_scheduled().activity_name());
  Add(Micros(now));
  Add(activity.lease_token);
  // The lease as a span: the script stamps it from its own reading of the
  // time, so it runs from the grant.
  Add(absl::StrCat(absl::ToInt64Microseconds(eager_lease_expires_at - now)));
  return absl::OkStatus();
}

absl::Status RedisPlanEncoder::UpdateExecution(
    const core::ExecutionKey& execution, const core::ExecutionUpdate& update) {
  Add("U");
  Add(execution.instance_id);
  Add(execution.execution_id);
  Add(absl::StrCat(static_cast<int>(update.state)));
  Add(update.finished_at.has_value() ? Micros(*update.finished_at) : "");
  Add(update.result != nullptr ? "1" : "0");
  args_->push_back(update.result != nullptr ? update.result->SerializeAsString()
                                            : std::string());
  Add(absl::StrCat(update.history_length));
  return absl::OkStatus();
}

absl::StatusOr<core::StartOutcome> RedisPlanEncoder::StartExecution(
    const core::ExecutionStart& start) {
  const v1::WorkflowExecutionStarted& attributes = start.attributes();
  Add("T");
  Add(start.instance_id);
  Add(start.execution_id);
  Add(Micros(start.created_at));
  Add(Micros(start.visible_at));
  Add(attributes.workflow_name());
  Add(attributes.queue());
  // Kept apart from the history, which may become unreadable.
  args_->push_back(attributes.parent().instance_id().empty()
                       ? std::string()
                       : attributes.parent().SerializeAsString());
  args_->push_back(SerializeMetadata(std::map<std::string, std::string>(
      attributes.metadata().begin(), attributes.metadata().end())));
  args_->push_back(start.started().SerializeAsString());
  if (start.refused_notice.has_value()) {
    Add("1");
    EncodeDelivery(core::DeliveryOf(*start.refused_notice, now_));
  } else {
    Add("0");
  }
  // The script acts on the real outcome (see the header).
  return core::StartOutcome::kStarted;
}

void RedisPlanEncoder::EncodeDelivery(const core::Delivery& delivery) {
  Add(delivery.instance_id);
  Add(delivery.execution_id);
  args_->push_back(delivery.event->SerializeAsString());
  Add(Micros(delivery.visible_at));
  Add(delivery.key);
  Add(Carries(*delivery.event));
  if (delivery.reply == nullptr) {
    Add("0");
    return;
  }
  const core::OutboundEvent::Reply& reply = *delivery.reply;
  Add("1");
  Add(reply.instance_id);
  Add(reply.execution_id);
  // Answers are visible at the plan's time (core::ReplyDelivery).
  Add(Micros(now_));
  args_->push_back(reply.delivered.SerializeAsString());
  Add(Carries(reply.delivered));
  args_->push_back(reply.not_delivered.SerializeAsString());
  Add(Carries(reply.not_delivered));
}

absl::StatusOr<bool> RedisPlanEncoder::Deliver(const core::Delivery& delivery) {
  if (pending_reply_ != nullptr) {
    const core::OutboundEvent::Reply* reply = pending_reply_;
    pending_reply_ = nullptr;
    if (delivery.event == &reply->delivered ||
        delivery.event == &reply->not_delivered) {
      return true;  // Encoded with the delivery it answers.
    }
    return absl::InternalError(
        "RedisPlanEncoder: a reply's answer was expected after its delivery");
  }
  Add("D");
  EncodeDelivery(delivery);
  pending_reply_ = delivery.reply;
  return true;
}

absl::Status RedisPlanEncoder::SettleEndedInbox(
    const core::ExecutionKey& execution,
    const core::InboxSettlement& settlement) {
  if (settlement.carries_over != &core::CarriesOverToNextExecution) {
    return absl::UnimplementedError(
        "the Redis store settles inboxes with "
        "core::CarriesOverToNextExecution only");
  }
  Add("S");
  Add(execution.instance_id);
  Add(execution.execution_id);
  Add(settlement.next_execution_id);
  return absl::OkStatus();
}

absl::Status RedisPlanEncoder::DropPreviousExecutions(
    absl::string_view instance_id) {
  Add("R");
  Add(instance_id);
  return absl::OkStatus();
}

}  // namespace durable::backends::redis
