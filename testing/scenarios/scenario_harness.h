// ScenarioHarness: what every end-to-end conformance scenario needs — a
// fresh backend from the suite's parameter, a registry, a running worker
// with the parameter's executor cache size, and a client. Scenario files
// (end_to_end_scenarios.cc, primitives_scenarios.cc, ...) each register
// their own workflows and add TEST_Ps to EndToEndScenarioTest, so every
// backend that instantiates the suite runs all of them.
#ifndef DURABLE_TESTING_SCENARIOS_SCENARIO_HARNESS_H_
#define DURABLE_TESTING_SCENARIOS_SCENARIO_HARNESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/proto/history.pb.h"
#include "durable/backend.h"
#include "durable/client.h"
#include "durable/registry.h"
#include "durable/worker.h"
#include "testing/scenarios/end_to_end_scenarios.h"

namespace durable::testing {

// How long a scenario waits for a workflow result before failing.
inline constexpr absl::Duration kScenarioTimeout = absl::Seconds(30);

class ScenarioHarness {
 public:
  // `register_all` fills the registry; `configure` may adjust the worker
  // options (the cache size is already set from `param`).
  ScenarioHarness(const ScenarioParam& param,
                  const std::function<void(Registry&)>& register_all,
                  const std::function<void(WorkerOptions&)>& configure = {});
  ~ScenarioHarness();  // stops the worker, expecting a clean stop

  // Stops the worker and starts a new one with the same options, as a
  // process restart would: the new worker's executor cache is empty, so
  // the next task of every run replays its history, cache on or off.
  void RestartWorker();

  Backend& backend() { return *backend_; }
  // The URI the backend was opened with.
  const std::string& uri() const { return uri_; }
  Registry& registry() { return registry_; }
  Client& client() { return *client_; }
  Worker& worker() { return *worker_; }
  // The options the worker was started with.
  const WorkerOptions& worker_options() const { return options_; }

  // Makes history event `event_id` of `instance_id` undecodable through the
  // suite's HistoryCorrupter; UNIMPLEMENTED when the backend has none (the
  // caller skips its scenario then).
  absl::Status CorruptHistory(const std::string& instance_id, int64_t event_id);

 private:
  HistoryCorrupter corrupter_;
  std::string uri_;
  WorkerOptions options_;
  std::optional<Backend> backend_;
  Registry registry_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Client> client_;
};

// The kinds of `history`'s events, e.g. {"WorkflowTaskStarted", ...}.
std::vector<std::string> EventKinds(
    const std::vector<v1::HistoryEvent>& history);

}  // namespace durable::testing

#endif  // DURABLE_TESTING_SCENARIOS_SCENARIO_HARNESS_H_
