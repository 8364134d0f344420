// Builders for the history events backend tests feed to a core::Store,
// shared by the contract suite and backend-specific tests.
#ifndef DURABLE_BACKENDS_CONFORMANCE_HISTORY_EVENTS_H_
#define DURABLE_BACKENDS_CONFORMANCE_HISTORY_EVENTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/proto/history.pb.h"
#include "core/proto/service.pb.h"
#include "core/storage/store.h"

namespace durable::testing {

v1::WorkflowInstance Instance(const std::string& id, const std::string& exec);

// A WorkflowExecutionStarted event, timestamped now.
v1::HistoryEvent Started(const std::string& workflow,
                         const std::string& queue = "",
                         std::map<std::string, std::string> metadata = {});

v1::HistoryEvent TaskStarted(int64_t id);

v1::HistoryEvent ActivityScheduled(int64_t id, const std::string& name,
                                   const std::string& queue = "");

v1::HistoryEvent Signal(const std::string& name);

v1::HistoryEvent Cancel(const std::string& reason);

v1::HistoryEvent Finished(int64_t id, const std::string& data);

// What a worker appends for a task: WorkflowTaskStarted, then the task's new
// events numbered after it.
std::vector<v1::HistoryEvent> TaskEvents(const core::WorkflowTask& task);

}  // namespace durable::testing

#endif  // DURABLE_BACKENDS_CONFORMANCE_HISTORY_EVENTS_H_
