// RedisPlanEncoder: the core::PlanExecutor of the Redis store. It does not
// touch the server: each primitive core::ExecutePlan calls appends its
// operation to an argument list, in ExecutePlan's fixed order, and one Lua
// script (scripts.h) decodes the list and applies it, atomically, in that
// order.
//
// Arguments are binary-safe strings (protobuf bytes travel as they are;
// nothing is JSON), one Redis argument each. An operation is a one-letter
// code and its fields:
//   H inst exec n event...                AppendHistory
//   C inst exec max_id taken_at_us        ConsumeInbox (the task's cursor)
//   W inst exec n key...                  WithdrawKeyedEvents
//   A inst exec id queue event metadata name scheduled_at_us token lease_us
//                                         EnqueueActivity (an eager lease
//                                         runs `lease_us` from the grant,
//                                         read in the script)
//   U inst exec state finished_at_us has_result result history_length
//                                         UpdateExecution
//   T start-fields has_notice [delivery]  StartExecution
//   D delivery                            Deliver
//   S inst exec next_execution            SettleEndedInbox
//   R inst                                DropPreviousExecutions
// with a delivery written as
//   inst exec event visible_at_us key carries has_reply
//   [reply_inst reply_exec visible_at_us delivered carries not_delivered
//    carries].
//
// The two conditional primitives cannot know their outcome while encoding,
// so the encoder writes what core would do with each outcome and lets the
// script pick, exactly as core::ExecutePlan would: a start carries the
// parent's prebuilt refusal notice (delivered by the script when the start
// is refused), and a delivery carries both prebuilt answers of its reply.
// StartExecution therefore reports kStarted and Deliver true, and the
// answer core then sends for a reply is recognized (it is one of the two
// events encoded with it) and not written twice.
//
// `carries` is core::CarriesOverToNextExecution() of the event, decided here
// when the event enters an inbox, so that SettleEndedInbox in the script
// needs no protobuf decoding. A plan whose settlement uses another predicate
// is refused (UNIMPLEMENTED).
#ifndef DURABLE_BACKENDS_REDIS_PLAN_ENCODER_H_
#define DURABLE_BACKENDS_REDIS_PLAN_ENCODER_H_

#include <map>
#include <string>
#include <vector>

#include "core/storage/completion_plan.h"

namespace durable::backends::redis {

class RedisPlanEncoder : public core::PlanExecutor {
 public:
  // Appends to `*args`, which must outlive the encoder. `now` is the plan's
  // time (CompletionPlan::now), at which core makes answers visible.
  RedisPlanEncoder(std::vector<std::string>* args, absl::Time now)
      : args_(args), now_(now) {}

  absl::Status AppendHistory(
      const core::ExecutionKey& execution,
      absl::Span<const v1::HistoryEvent> events) override;
  absl::Status ConsumeInbox(const core::ExecutionKey& execution,
                            absl::string_view cursor) override;
  absl::Status WithdrawKeyedEvents(const core::ExecutionKey& execution,
                                   absl::Span<const std::string> keys) override;
  absl::Status EnqueueActivity(const core::ExecutionKey& execution,
                               const core::PlannedActivity& activity,
                               absl::Time now,
                               absl::Time eager_lease_expires_at) override;
  absl::Status UpdateExecution(const core::ExecutionKey& execution,
                               const core::ExecutionUpdate& update) override;
  absl::StatusOr<core::StartOutcome> StartExecution(
      const core::ExecutionStart& start) override;
  absl::StatusOr<bool> Deliver(const core::Delivery& delivery) override;
  absl::Status SettleEndedInbox(
      const core::ExecutionKey& execution,
      const core::InboxSettlement& settlement) override;
  absl::Status DropPreviousExecutions(absl::string_view instance_id) override;

  // Writes `delivery` and its reply's answers (the fields after "D").
  void EncodeDelivery(const core::Delivery& delivery);

 private:
  void Add(absl::string_view value) { args_->emplace_back(value); }

  std::vector<std::string>* args_;
  const absl::Time now_;
  // The reply encoded with the last delivery: core's next Deliver call
  // sends one of its answers, already encoded.
  const core::OutboundEvent::Reply* pending_reply_ = nullptr;
};

// An inbox cursor of the Redis store: "<max_id>:<taken_at_us>", the largest
// inbox id handed out and the time the task was taken (ids grow with
// arrival, so it names exactly the entries the task saw).
struct InboxCursor {
  int64_t max_id = 0;
  int64_t taken_at_us = 0;
};
bool ParseInboxCursor(absl::string_view text, InboxCursor* cursor);
std::string FormatInboxCursor(const InboxCursor& cursor);

// Metadata as stored: a serialized WorkflowExecutionStarted holding only
// the map (deterministic, binary-safe).
std::string SerializeMetadata(const std::map<std::string, std::string>& m);
std::map<std::string, std::string> ParseMetadata(absl::string_view blob);

}  // namespace durable::backends::redis

#endif  // DURABLE_BACKENDS_REDIS_PLAN_ENCODER_H_
