#include "durable/workflow_context.h"

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "durable/failure.h"
#include "durable/registry.h"

namespace durable {

WorkflowContext::WorkflowContext(const Registry& registry, std::string run_id)
    : registry_(registry), run_id_(std::move(run_id)) {}

void WorkflowContext::Log(absl::string_view message) const {
  if (replaying_) return;
  // One write per line so lines of concurrent runs do not interleave.
  std::cerr << absl::StrCat("[durable] workflow ", instance_id_, ": ", message,
                            "\n")
            << std::flush;
}

std::optional<std::string> WorkflowContext::ActivityNameOf(
    internal::FunctionKey key,
    const std::shared_ptr<internal::FutureStateBase>& state) const {
  std::optional<std::string> name = registry_.ActivityName(key);
  if (!name.has_value()) {
    std::vector<std::string> names = registry_.ActivityNames();
    state->Resolve(FailureStatus(
        kActivityNotRegisteredFailure,
        absl::StrCat("the function passed to ExecuteActivity is not "
                     "registered as an activity with this worker's Registry "
                     "(registered: ",
                     names.empty() ? "none" : absl::StrJoin(names, ", "),
                     ")")));
  }
  return name;
}

void WorkflowContext::Schedule(
    std::string name, absl::StatusOr<std::vector<v1::Payload>> arguments,
    std::shared_ptr<internal::FutureStateBase> state) {
  if (!arguments.ok()) {
    state->Resolve(FailureStatus(
        kInvalidArgumentFailure,
        absl::StrCat("activity \"", name, "\": cannot encode arguments: ",
                     arguments.status().message())));
    return;
  }
  const uint32_t seq = next_activity_seq_++;
  v1::ScheduleActivity* command =
      commands_.emplace_back().mutable_schedule_activity();
  command->set_seq(seq);
  command->set_activity_name(std::move(name));
  for (v1::Payload& payload : *arguments) {
    *command->add_arguments() = std::move(payload);
  }
  pending_activities_.emplace(seq, std::move(state));
}

}  // namespace durable
