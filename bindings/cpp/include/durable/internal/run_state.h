// RunState: everything one workflow run owns besides its root coroutine:
// identity, workflow time, the scheduler, sequence numbers, pending futures,
// buffered signals, recorded side effects, the random sequence, started
// coroutines and the commands issued during the current activation.
// Internal to the facade: WorkflowRun applies jobs to it and WorkflowContext
// handles (all contexts of the run) issue commands through it.
//
// A fresh RunState fed the same activations ends up in the same state and
// issues the same commands; nothing in it depends on wall-clock time,
// addresses or hash order.
#ifndef DURABLE_INTERNAL_RUN_STATE_H_
#define DURABLE_INTERNAL_RUN_STATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/proto/protocol.pb.h"
#include "durable/future.h"
#include "durable/internal/cancel_state.h"
#include "durable/internal/scheduler.h"
#include "durable/signal_channel.h"
#include "durable/workflow_context.h"

namespace durable::internal {

// Type URL of the status payload that marks a ContinueAsNew status (a
// serialized v1::ContinueAsNew command).
inline constexpr absl::string_view kContinueAsNewPayloadUrl =
    "type.googleapis.com/durable.v1.ContinueAsNew";

class RunState {
 public:
  RunState(const Registry& registry, std::string execution_id);
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

  // Issues CancelTimer{seq} for a pending timer and resolves its future
  // with `status`; no-op if it is not pending (fired or canceled).
  void CancelTimer(uint32_t seq, const absl::Status& status);

  // Issues CancelSubWorkflow{seq} for a pending sub-workflow. A sub-workflow
  // started in this activation never runs (the engine drops both commands), so
  // its future resolves with `status` now; otherwise the sub-workflow's outcome
  // will.
  void CancelSubWorkflow(uint32_t seq, const absl::Status& status);

  // The buffer of the signals named `name`, created on first use.
  std::shared_ptr<SignalBuffer> Signals(const std::string& name);

  // The next number of the frozen splitmix64 sequence.
  uint64_t NextRandom();

  v1::WorkflowCommand& AddCommand() { return commands.emplace_back(); }

  struct PendingTimer {
    std::shared_ptr<FutureState<void>> state;
    // The scope whose cancellation cancels the timer, and the id of the
    // listener to remove from it when the timer fires.
    std::weak_ptr<CancelState> scope;
    uint64_t listener_id = 0;
  };

  struct PendingSubWorkflow {
    std::shared_ptr<FutureStateBase> state;
    // The scope whose cancellation cancels the sub-workflow, and the id of the
    // listener to remove from it when the sub-workflow resolves.
    std::weak_ptr<CancelState> scope;
    uint64_t listener_id = 0;
    // The activation that issued StartSubWorkflow.
    uint64_t activation = 0;
  };

  const Registry& registry;
  const std::string execution_id;
  std::string instance_id;
  std::string workflow_name;
  std::string queue;
  std::map<std::string, std::string> metadata;
  absl::Time now = absl::UnixEpoch();
  bool replaying = false;

  Scheduler scheduler;
  // The scope of the workflow's own context.
  std::shared_ptr<CancelState> root_scope;
  uint64_t random_state = 0;

  uint32_t next_activity_seq = 1;
  uint32_t next_timer_seq = 1;
  uint32_t next_side_effect_seq = 1;
  uint32_t next_signal_seq = 1;
  uint32_t next_sub_workflow_seq = 1;
  // Counts activations, so a sub-workflow canceled in the activation that
  // started it can be told apart.
  uint64_t activation = 0;
  absl::flat_hash_map<uint32_t, std::shared_ptr<FutureStateBase>>
      pending_activities;
  absl::flat_hash_map<uint32_t, PendingTimer> pending_timers;
  absl::flat_hash_map<uint32_t, PendingSubWorkflow> pending_sub_workflows;
  // External signals sent and not answered yet (ResolveSignalExternal).
  absl::flat_hash_map<uint32_t, std::shared_ptr<FutureState<void>>>
      pending_signals;
  // Sub-workflows resolved CANCELLED by the facade (never started).
  absl::flat_hash_set<uint32_t> dropped_sub_workflows;
  // Patches history has markers for (NotifyHasPatch), and the answers
  // Patched()/DeprecatePatch() gave so far (true: a marker was issued).
  absl::flat_hash_set<std::string> notified_patches;
  absl::flat_hash_map<std::string, bool> patches;
  // ResolveSideEffect values not asked for yet.
  absl::flat_hash_map<uint32_t, v1::Payload> recorded_side_effects;
  absl::flat_hash_map<std::string, std::shared_ptr<SignalBuffer>> signals;
  // Signals delivered so far (numbers them in arrival order).
  uint64_t signals_arrived = 0;

  // Commands issued since the activation began, in issue order.
  std::vector<v1::WorkflowCommand> commands;
  // Set when a coroutine started with Go threw.
  std::optional<absl::Status> panic;
  // Last, so that their frames go before the state they refer to.
  std::vector<std::unique_ptr<Coroutine>> coroutines;
};

}  // namespace durable::internal

#endif  // DURABLE_INTERNAL_RUN_STATE_H_
