// The Lua scripts of the Redis store: one per atomic step, each run with
// EVALSHA as one atomic unit on the server.
//
// Every script is a shared prelude (key layout, argument reader, inbox and
// readiness helpers, the plan-operation interpreter) followed by its body.
// Calling convention, the same for all: KEYS[1] is the store's key prefix
// "{prefix}:" (a Redis Cluster hash tag: one store's keys share a slot),
// ARGV[1] the store Clock's time in microseconds and ARGV[2] "1" when that
// clock is the real one, in which case the script reads the server's TIME
// instead, so that a lease granted behind a long-running script still runs
// from its grant (core/storage/store.h), and ARGV[3] the wake-up channel
// ("{prefix}:wake:<db>": pub/sub channels are not per database). The rest of
// ARGV is the step's
// arguments; scripts that commit a plan take the operations RedisPlanEncoder
// (plan_encoder.h) wrote. A script answers with an array whose first element
// is "OK" or an error word (ABORTED, NOT_FOUND, NOT_ACTIVE, ACTIVE, ...)
// that the store turns into a status with its message.
//
// Scripts check everything that can refuse a step (a lease token, a history
// length) before their first write: Redis does not roll back the writes of a
// script that fails half-way.
//
// The key layout (P is the prefix, M an execution's member name
// "<len(instance)>:<instance>:<execution>", unambiguous for any ids):
//   P x:M          hash  an execution: i e wf q st c f r md p hl lt le ltf
//                        ra seq (ids, name, queue, state, times, result,
//                        metadata, parent, history length, lease, last task
//                        failure, retry delay, creation order)
//   P x:M:h        list  its history, event id n at index n-1
//   P x:M:ib       zset  its inbox entry ids (score = id: arrival order)
//   P x:M:ie       hash  its inbox entries: e<id> event, v<id> visible_at,
//                        c<id> carries over ("1"/"0"), k<id> key
//   P x:M:a        set   its activity ids
//   P i:<instance> hash  active (execution id), latest, lm (its list member)
//   P xs:<instance> zset its execution ids by creation order
//   P wq:<queue>   zset  executions with inbox entries, by the time they may
//                        next be taken: max(first visible entry, retry
//                        delay, lease expiry); due ones are polled
//   P a:<id>       hash  an activity task: i e q ev at md s v n lt le
//   P aq:<queue>   zset  activity ids by max(visible_at, lease expiry)
//   P wqs, P aqs   set   the queues ever used (for stats)
//   P list         zset  instances by their latest execution's creation time,
//                        member "<seq, 20 digits><instance>"
//   P act          set   instances with an active execution
//   P fin          zset  ended executions (members M) by finish time
//   P seq          counter for inbox ids and execution order
//   P workers      hash  worker id -> serialized WorkerInfo
//   P wake:<db>    pub/sub channel: a message after every commit that may
//                  create work, saying what: "w" workflow tasks, "a"
//                  activity tasks, "f" an execution ended, combined (e.g.
//                  "wa") (see wake_listener.h)
#ifndef DURABLE_BACKENDS_REDIS_SCRIPTS_H_
#define DURABLE_BACKENDS_REDIS_SCRIPTS_H_

#include <string>
#include <vector>

namespace durable::backends::redis {

enum class Script {
  kCreate,
  kPollWorkflow,
  kExtendWorkflow,
  kCompleteWorkflow,
  kAbandonWorkflow,
  kPollActivity,
  kExtendActivity,
  kRetryActivity,
  kCompleteActivity,
  kFusedStep,
  kDeliverEvent,
  kRemoveInstance,
  kRemoveFinishedBefore,
  kList,
  kState,
  kHistory,
  kStats,
  kCount,  // Not a script.
};

// The full source (prelude and body) of `script`.
const std::string& ScriptSource(Script script);

}  // namespace durable::backends::redis

#endif  // DURABLE_BACKENDS_REDIS_SCRIPTS_H_
