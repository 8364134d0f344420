#include "testing/scenarios/scenario_harness.h"

#include <utility>

#include "gtest/gtest.h"

namespace durable::testing {

ScenarioHarness::ScenarioHarness(
    const ScenarioParam& param,
    const std::function<void(Registry&)>& register_all,
    const std::function<void(WorkerOptions&)>& configure)
    : corrupter_(std::get<2>(param)), uri_(std::get<0>(param)()) {
  absl::StatusOr<Backend> backend = Backend::Open(uri_);
  EXPECT_TRUE(backend.ok()) << backend.status();
  backend_ = *std::move(backend);
  register_all(registry_);
  options_.max_cached_workflows = std::get<1>(param);
  if (configure) configure(options_);
  worker_ = std::make_unique<Worker>(*backend_, registry_, options_);
  EXPECT_TRUE(worker_->Start().ok());
  client_ = std::make_unique<Client>(*backend_, &registry_);
}

void ScenarioHarness::RestartWorker() {
  EXPECT_TRUE(worker_->Stop().ok());
  worker_ = std::make_unique<Worker>(*backend_, registry_, options_);
  EXPECT_TRUE(worker_->Start().ok());
}

ScenarioHarness::~ScenarioHarness() {
  if (worker_) {
    EXPECT_TRUE(worker_->Stop().ok());
  }
}

absl::Status ScenarioHarness::CorruptHistory(const std::string& instance_id,
                                             int64_t event_id) {
  if (!corrupter_) {
    return absl::UnimplementedError(
        "this backend's scenarios have no HistoryCorrupter");
  }
  return corrupter_(uri_, instance_id, event_id);
}

std::vector<std::string> EventKinds(
    const std::vector<v1::HistoryEvent>& history) {
  std::vector<std::string> kinds;
  for (const v1::HistoryEvent& event : history) {
    const auto* field = v1::HistoryEvent::descriptor()->FindFieldByNumber(
        static_cast<int>(event.attributes_case()));
    kinds.push_back(field == nullptr ? "?" : field->message_type()->name());
  }
  return kinds;
}

}  // namespace durable::testing
