#include "backends/testing/scenario_harness.h"

#include <utility>

#include "gtest/gtest.h"

namespace durable::testing {

ScenarioHarness::ScenarioHarness(
    const ScenarioParam& param,
    const std::function<void(Registry&)>& register_all,
    const std::function<void(WorkerOptions&)>& configure) {
  absl::StatusOr<Backend> backend = Backend::Open(std::get<0>(param)());
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
  if (worker_) EXPECT_TRUE(worker_->Stop().ok());
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
