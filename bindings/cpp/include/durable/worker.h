// Worker: runs the registered workflows and activities of a Registry against
// a Backend.
//
//   durable::Worker worker(backend, registry, {.queues = {"default"}});
//   if (absl::Status s = worker.Start(); !s.ok()) ...
//   ...
//   worker.Stop();   // also done by the destructor
//
// Start() creates the engine worker and its poller threads:
// `workflow_pollers` threads poll workflow activations and run workflow code,
// `activity_pollers` threads poll activity tasks and run activities (so at
// most that many activities run at once). Polls wait up to one second, so a
// stop is noticed promptly.
//
// Stop() shuts down in two steps: it stops taking new work and wakes the
// pollers, waits for them to finish what they hold (an activity that is
// running is allowed to finish), then lets the engine release leases within
// `timeout`. Work not done by then is retried by another worker once its
// lease expires.
//
// Activities may heartbeat (ActivityContext::Heartbeat); the worker
// forwards each heartbeat to the engine. An activity attempt that timed out
// meanwhile still runs to its end, but its outcome is dropped.
//
// Errors while completing tasks (a NON_DETERMINISM rejection, a lost lease)
// are logged to stderr and do not stop the worker: the engine retries the
// task. An answer the C ABI refuses as malformed (text that is not valid
// UTF-8 in a failure message, a name, metadata, ...) is replaced by a
// failure carrying the ABI's reason, so the task never hangs: a workflow's
// completion becomes a failed workflow task (retried later; the reason is
// the instance's last task failure), an activity's result a non-retryable
// failure of type "InvalidArgument" that the workflow sees. The Registry
// must outlive the Worker.
//
// Several workers -- in this process or others, in C++ or Python -- may poll
// the same queue with different registries. Start() tells the engine the
// names this worker runs (the registry's workflows if it has workflow
// pollers, its activities if it has activity pollers), and the engine hands
// it only those tasks, plus tasks that no live worker of the queue runs,
// which it fails at once with "WorkflowNotRegistered" /
// "ActivityNotRegistered" (see docs/cpp.md, "Workers").
#ifndef DURABLE_WORKER_H_
#define DURABLE_WORKER_H_

#include "durable/cxx20.h"  // first: refuses pre-C++20 compilers

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/proto/service.pb.h"
#include "durable/backend.h"
#include "durable/registry.h"

struct durable_worker_t;

namespace durable {

namespace internal {
class WorkflowExecutor;
}  // namespace internal

struct WorkerOptions {
  // Queues polled for workflow and activity tasks; empty means {"default"}.
  std::vector<std::string> queues;
  // Runs kept in memory between workflow tasks; 0 replays every run from
  // its history on each task.
  int max_cached_workflows = 128;
  int workflow_pollers = 2;
  int activity_pollers = 4;
  // Leases; renewed while a task is in flight. Zero means the engine's
  // default (30 s for workflow tasks, 60 s for activity tasks).
  absl::Duration workflow_task_lease = absl::ZeroDuration();
  absl::Duration activity_task_lease = absl::ZeroDuration();
  // When replayed code diverges from history the engine normally fails the
  // workflow task and retries it later (so deploying fixed code recovers);
  // with this set it fails the workflow instead, with failure type
  // "NonDeterminism".
  bool fail_workflow_on_nondeterminism = false;
  // A workflow whose history would grow past this many events fails with
  // failure type "HistoryLimitExceeded" (a runaway loop, say; long-lived
  // workflows should continue as new instead). 0 means the engine's
  // default (50,000).
  int64_t max_history_length = 0;
  // How long this worker counts as live for the other workers of its queues
  // after each of its heartbeats (sent every third of it); a worker that
  // dies without Stop() keeps its names reserved that long. Zero means the
  // engine's default (30 s).
  absl::Duration worker_ttl = absl::ZeroDuration();

  // Everything but the registered names, which Worker::Start() adds.
  v1::WorkerOptions ToProto() const;
};

class Worker {
 public:
  Worker(const Backend& backend, const Registry& registry,
         WorkerOptions options = {});
  ~Worker();

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // FailedPrecondition if already started; InvalidArgument for bad options.
  absl::Status Start();

  // Idempotent. DeadlineExceeded if in-flight work outlived `timeout`.
  absl::Status Stop(absl::Duration timeout = absl::Seconds(10));

 private:
  void PollWorkflowActivations();
  void PollActivityTasks();
  bool PastStopDeadline() const;

  const Backend backend_;
  const Registry& registry_;
  const WorkerOptions options_;
  std::unique_ptr<internal::WorkflowExecutor> executor_;

  absl::Mutex mu_;  // Serializes Start() and Stop().
  durable_worker_t* worker_ = nullptr;
  std::atomic<bool> stopping_{false};
  // Set by Stop(): pollers give up waiting for a drain after it.
  std::atomic<int64_t> stop_deadline_unix_ms_{0};
  std::vector<std::thread> threads_;
};

}  // namespace durable

#endif  // DURABLE_WORKER_H_
