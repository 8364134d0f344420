#include "backends/conformance/history_events.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace durable::testing {

v1::WorkflowInstance Instance(const std::string& id, const std::string& exec) {
  v1::WorkflowInstance instance;
  instance.set_instance_id(id);
  instance.set_execution_id(exec);
  return instance;
}

v1::HistoryEvent Started(const std::string& workflow, const std::string& queue,
                         std::map<std::string, std::string> metadata) {
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  auto* started = event.mutable_workflow_execution_started();
  started->set_workflow_name(workflow);
  started->set_queue(queue);
  started->mutable_metadata()->insert(metadata.begin(), metadata.end());
  return event;
}

v1::HistoryEvent TaskStarted(int64_t id) {
  v1::HistoryEvent event;
  event.set_id(id);
  event.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  event.mutable_workflow_task_started();
  return event;
}

v1::HistoryEvent ActivityScheduled(int64_t id, const std::string& name,
                                   const std::string& queue) {
  v1::HistoryEvent event;
  event.set_id(id);
  event.mutable_activity_scheduled()->set_activity_name(name);
  event.mutable_activity_scheduled()->set_queue(queue);
  event.mutable_activity_scheduled()->add_arguments()->set_data("arg");
  return event;
}

v1::HistoryEvent Signal(const std::string& name) {
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  event.mutable_signal_received()->set_signal_name(name);
  event.mutable_signal_received()->mutable_input()->set_data("payload");
  return event;
}

v1::HistoryEvent Cancel(const std::string& reason) {
  v1::HistoryEvent event;
  event.set_timestamp_unix_us(absl::ToUnixMicros(absl::Now()));
  event.mutable_workflow_execution_canceled()->set_reason(reason);
  return event;
}

v1::HistoryEvent Finished(int64_t id, const std::string& data) {
  v1::HistoryEvent event;
  event.set_id(id);
  event.mutable_workflow_execution_finished()->mutable_result()->set_data(data);
  return event;
}

std::vector<v1::HistoryEvent> TaskEvents(const core::WorkflowTask& task) {
  std::vector<v1::HistoryEvent> events = {TaskStarted(task.history_length + 1)};
  for (const v1::HistoryEvent& inbound : task.new_events) {
    events.push_back(inbound);
    events.back().set_id(task.history_length +
                         static_cast<int64_t>(events.size()));
  }
  return events;
}

}  // namespace durable::testing
