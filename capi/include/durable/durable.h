/* durable.h -- the stable C ABI of durable, a durable workflow engine.
 *
 * Everything above the core (the C++ facade, the Python binding, programs in
 * any language with a C FFI) talks to durable through this header only.
 *
 * Conventions (modeled on LevelDB's c.h and SQLite's API):
 *
 *  - Objects are opaque handles created by durable_*_open / durable_*_new and
 *    released by the matching durable_*_free. Every free function accepts NULL.
 *  - Inputs are borrowed: they are only read during the call. Buffers are
 *    `(const uint8_t* data, size_t len)` pairs; (NULL, 0) is the empty
 *    buffer, NULL with a non-zero length is DURABLE_INVALID_ARGUMENT. A
 *    buffer longer than protobuf can parse (2^31 - 1 bytes) is refused with
 *    DURABLE_INVALID_ARGUMENT before any byte of it is read.
 *  - Text is UTF-8. Instance ids and cancel reasons are passed as
 *    `(const char* text, size_t len)`, so nothing is cut at a NUL; the
 *    backend URI is a NUL-terminated string. Text that is not valid UTF-8
 *    (RFC 3629: the rule protobuf applies to proto3 `string` fields), in an
 *    argument or in any `string` field of a request message at any depth,
 *    is refused with DURABLE_INVALID_ARGUMENT and a message naming the field,
 *    e.g.
 *      CreateWorkflowInstanceRequest.metadata["k"]: not valid UTF-8 (byte
 *      0xff at offset 3)
 *    and nothing is stored: text that cannot be read back would poison
 *    whatever reads it later. `bytes` fields (payload data, task tokens)
 *    take any bytes. Instance ids (arguments, and every `instance_id`
 *    field of a request) must not contain NUL.
 *  - Every argument is checked before anything is done: a call refused with
 *    DURABLE_INVALID_ARGUMENT had no effect (a create with a NULL output
 *    pointer creates nothing).
 *  - Outputs are library-owned: buffers returned through `uint8_t** out,
 *    size_t* out_len` and strings returned through `char**` are allocated by
 *    durable and must be released with durable_free(). On failure, `*out`
 *    is NULL and `*out_len` 0 (where those pointers are not NULL).
 *  - Structured inputs and outputs are serialized protocol buffers of package
 *    durable.v1 (the .proto files in core/proto); the header names the
 *    message type of every buffer. Those messages are part of this ABI.
 *  - Every fallible call returns a durable_status_t. On failure, if `error` is
 *    not NULL, `*error` receives a message naming what was wrong (free it with
 *    durable_free); on success `*error` is set to NULL. Messages are valid
 *    UTF-8 (bytes of the input that are not are written as \xNN). Read
 *    `*error` only after the call returned (not in the same expression as
 *    the call).
 *  - Threads: handles are thread-safe unless a function says otherwise.
 *    Polling calls block up to a timeout and return DURABLE_SHUTDOWN once the
 *    worker is shutting down and has nothing left to hand out.
 *  - Lifetimes: a client or worker keeps its backend alive, so the backend
 *    handle may be freed before them. A free may run while other threads are
 *    still inside calls on the same handle that began before the free did
 *    (a thread blocked in a poll, say): it waits for every such call to
 *    return before it releases the handle (durable_worker_free first
 *    initiates shutdown, which wakes blocked polls). A call that begins
 *    after the free began, and a second free of the same handle, are uses
 *    after free: undefined behavior. So the caller must know that each
 *    other thread's calls have begun (or stopped) before it frees: a poller
 *    thread that may start another poll must be stopped first.
 *
 * Only symbols starting with durable_ are exported by libdurable.so.
 */
#ifndef DURABLE_DURABLE_H_
#define DURABLE_DURABLE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DURABLE_EXPORT __attribute__((visibility("default")))
#else
#define DURABLE_EXPORT
#endif

/* ------------------------------------------------------------------------
 * Status codes. The first sixteen equal gRPC/absl canonical codes.
 * ------------------------------------------------------------------------ */
typedef int durable_status_t;

#define DURABLE_OK 0
#define DURABLE_CANCELED 1
#define DURABLE_UNKNOWN 2
#define DURABLE_INVALID_ARGUMENT 3 /* bad URI, bad request bytes, ... */
#define DURABLE_TIMEOUT 4          /* a wait or poll ran out of time */
#define DURABLE_NOT_FOUND 5        /* unknown instance */
#define DURABLE_ALREADY_EXISTS 6   /* instance id in use by an active run */
#define DURABLE_PERMISSION_DENIED 7
#define DURABLE_RESOURCE_EXHAUSTED 8
#define DURABLE_FAILED_PRECONDITION 9
#define DURABLE_ABORTED 10 /* a task lease was lost to another worker */
#define DURABLE_OUT_OF_RANGE 11
#define DURABLE_UNIMPLEMENTED 12
#define DURABLE_INTERNAL 13
#define DURABLE_UNAVAILABLE 14 /* the backend cannot be reached or is busy */
#define DURABLE_DATA_LOSS 15   /* a stored row cannot be decoded */
/* Replayed workflow code issued commands that differ from its history. The
 * workflow task is failed, the run evicted, history is left untouched, and
 * the task is retried later (so deploying fixed code recovers). */
#define DURABLE_NON_DETERMINISM 100
/* The worker is shutting down. */
#define DURABLE_SHUTDOWN 101

/* The name of a status code, e.g. "NON_DETERMINISM". Static storage. */
DURABLE_EXPORT const char* durable_status_name(durable_status_t status);

/* ------------------------------------------------------------------------
 * Versions and memory.
 * ------------------------------------------------------------------------ */

/* The library version, e.g. "0.1.0". Static storage. */
DURABLE_EXPORT const char* durable_version(void);

/* The ABI version; bumped on any incompatible change to this header.
 * 2: instance ids and cancel reasons are (pointer, length) pairs. */
#define DURABLE_ABI_VERSION 2
DURABLE_EXPORT int durable_abi_version(void);

/* Releases a buffer or string returned by durable. Accepts NULL. */
DURABLE_EXPORT void durable_free(void* ptr);

/* ------------------------------------------------------------------------
 * Backends.
 * ------------------------------------------------------------------------ */
typedef struct durable_backend_t durable_backend_t;

/* Opens the backend named by `uri`:
 *   sqlite:///absolute/path/file.db   an on-disk SQLite database (created if
 *                                     missing; WAL, full durability)
 *   sqlite::memory:                   a private in-memory database, shared by
 *                                     every client and worker of this handle
 * Paths are percent-decoded; the query takes the option busy_timeout_ms=N
 * (default 5000). A malformed or unsupported URI (or one that is not valid
 * UTF-8), a fragment or an unknown option fails with
 * DURABLE_INVALID_ARGUMENT (see docs/backends.md for the errors of a path
 * that cannot hold a database). */
DURABLE_EXPORT durable_status_t durable_backend_open(const char* uri,
                                                     durable_backend_t** out,
                                                     char** error);

/* Releases the caller's reference; waits for durable_client_new and
 * durable_worker_new calls in flight on it. Accepts NULL. */
DURABLE_EXPORT void durable_backend_free(durable_backend_t* backend);

/* ------------------------------------------------------------------------
 * Clients: start workflow instances and observe them.
 * ------------------------------------------------------------------------ */
typedef struct durable_client_t durable_client_t;

DURABLE_EXPORT durable_status_t durable_client_new(durable_backend_t* backend,
                                                   durable_client_t** out,
                                                   char** error);
/* Waits for the calls in flight on the client (a wait for a result returns
 * at its timeout at the latest), then releases it. Accepts NULL. */
DURABLE_EXPORT void durable_client_free(durable_client_t* client);

/* Creates a workflow instance.
 * request: durable.v1.CreateWorkflowInstanceRequest (an empty instance_id
 *          generates a UUID).
 * *out:    durable.v1.WorkflowInstance (instance and execution id).
 * DURABLE_ALREADY_EXISTS if an active instance has the id. */
DURABLE_EXPORT durable_status_t durable_client_create_workflow_instance(
    durable_client_t* client, const uint8_t* request, size_t request_len,
    uint8_t** out, size_t* out_len, char** error);

/* Waits up to `timeout_ms` for the instance to finish.
 * *out: durable.v1.WorkflowResult (a result payload or a failure).
 * DURABLE_TIMEOUT if it is still running; DURABLE_NOT_FOUND if unknown. */
DURABLE_EXPORT durable_status_t durable_client_wait_for_workflow_result(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    int64_t timeout_ms, uint8_t** out, size_t* out_len, char** error);

/* The state of the instance's latest execution.
 * *out: durable.v1.WorkflowInstanceState. */
DURABLE_EXPORT durable_status_t durable_client_get_workflow_instance_state(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    uint8_t** out, size_t* out_len, char** error);

/* The history of the instance's latest execution, oldest event first.
 * *out: durable.v1.History. */
DURABLE_EXPORT durable_status_t durable_client_get_workflow_history(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    uint8_t** out, size_t* out_len, char** error);

/* Every stored execution of the instance, oldest first: earlier executions
 * ended in CONTINUED_AS_NEW (unless they were removed).
 * *out: durable.v1.WorkflowExecutionList. */
DURABLE_EXPORT durable_status_t durable_client_list_workflow_executions(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    uint8_t** out, size_t* out_len, char** error);

/* The live workers of the backend (each worker records itself, with its
 * host, pid, queues and registered names, and renews the entry by
 * heartbeat; a worker that stopped without shutting down drops out once its
 * TTL passed), ordered by worker id.
 * *out: durable.v1.WorkerList. */
DURABLE_EXPORT durable_status_t durable_client_list_workers(
    durable_client_t* client, uint8_t** out, size_t* out_len, char** error);

/* Sends a signal to the instance's active execution; the workflow receives
 * it on the signal channel of that name, in send order.
 * request: durable.v1.SignalWorkflowRequest.
 * DURABLE_NOT_FOUND if the instance is unknown or finished. */
DURABLE_EXPORT durable_status_t durable_client_signal_workflow(
    durable_client_t* client, const uint8_t* request, size_t request_len,
    char** error);

/* Asks the instance's active execution to cancel: its workflow context
 * becomes canceled (the workflow decides how to finish). `reason` may be
 * (NULL, 0). DURABLE_NOT_FOUND if the instance is unknown or finished. */
DURABLE_EXPORT durable_status_t durable_client_cancel_workflow_instance(
    durable_client_t* client, const char* instance_id, size_t instance_id_len,
    const char* reason, size_t reason_len, char** error);

/* ------------------------------------------------------------------------
 * Workers: run workflow and activity tasks for a language layer.
 *
 * The worker owns polling, leases, replay, determinism checks and the
 * executor cache. The caller owns the user's code: it polls activations,
 * runs its coroutines, and answers with completions (see
 * core/proto/protocol.proto). Any number of threads may poll concurrently;
 * the worker never hands out two activations of the same run at once.
 * ------------------------------------------------------------------------ */
typedef struct durable_worker_t durable_worker_t;

/* options: durable.v1.WorkerOptions (NULL/0 bytes for all defaults). */
DURABLE_EXPORT durable_status_t durable_worker_new(durable_backend_t* backend,
                                                   const uint8_t* options,
                                                   size_t options_len,
                                                   durable_worker_t** out,
                                                   char** error);

/* Blocks up to `timeout_ms` for the next workflow activation.
 * *out: durable.v1.WorkflowActivation.
 * DURABLE_TIMEOUT when none arrived; DURABLE_SHUTDOWN once shutdown was
 * initiated and no activation is left to hand out. */
DURABLE_EXPORT durable_status_t durable_worker_poll_workflow_activation(
    durable_worker_t* worker, int64_t timeout_ms, uint8_t** out,
    size_t* out_len, char** error);

/* Answers an activation. completion: durable.v1.WorkflowActivationCompletion.
 * DURABLE_NON_DETERMINISM when replayed commands differ from history (the
 * task is failed and retried later; history is untouched); DURABLE_ABORTED
 * when the task's lease was lost. The run's next activation, if any, becomes
 * available to pollers either way.
 * DURABLE_INVALID_ARGUMENT when the bytes are refused before the worker saw
 * them (not a valid message, invalid UTF-8, ...): then nothing happened and
 * the activation still awaits its answer, its lease renewed meanwhile. The
 * caller must answer it, e.g. with a `failed` completion carrying the
 * message (which fails the workflow task; it is retried later). */
DURABLE_EXPORT durable_status_t durable_worker_complete_workflow_activation(
    durable_worker_t* worker, const uint8_t* completion, size_t completion_len,
    char** error);

/* Blocks up to `timeout_ms` for an activity task.
 * *out: durable.v1.ActivityTask. Same TIMEOUT/SHUTDOWN contract as above.
 * The worker extends the task's lease while the caller works on it. */
DURABLE_EXPORT durable_status_t
durable_worker_poll_activity_task(durable_worker_t* worker, int64_t timeout_ms,
                                  uint8_t** out, size_t* out_len, char** error);

/* Reports an activity attempt's outcome.
 * result: durable.v1.ActivityTaskResult (with the task's task_token).
 * DURABLE_INVALID_ARGUMENT when the bytes are refused (see above): nothing
 * happened and the attempt is still in flight; the caller must report it
 * again, e.g. as failed with the message. */
DURABLE_EXPORT durable_status_t durable_worker_complete_activity_task(
    durable_worker_t* worker, const uint8_t* result, size_t result_len,
    char** error);

/* Records a heartbeat of a running activity attempt: it keeps the attempt's
 * heartbeat timeout from firing (the lease is renewed by the worker either
 * way). heartbeat: durable.v1.ActivityHeartbeat. DURABLE_NOT_FOUND once the
 * attempt is no longer in flight (it timed out): the activity should stop. */
DURABLE_EXPORT durable_status_t durable_worker_record_activity_heartbeat(
    durable_worker_t* worker, const uint8_t* heartbeat, size_t heartbeat_len,
    char** error);

/* Step one of shutdown: stop taking new tasks and wake blocked pollers.
 * Returns at once. In-flight activations and activity tasks may still be
 * completed. */
DURABLE_EXPORT void durable_worker_initiate_shutdown(durable_worker_t* worker);

/* Step two: waits up to `timeout_ms` for in-flight work to be completed, then
 * releases leases that are still held. DURABLE_TIMEOUT if work was still in
 * flight at the deadline (its leases expire on their own). */
DURABLE_EXPORT durable_status_t durable_worker_finalize_shutdown(
    durable_worker_t* worker, int64_t timeout_ms, char** error);

/* Releases the worker: initiates shutdown (waking blocked polls), waits for
 * every call in flight on the worker to return (see Lifetimes above; a call
 * that is still waiting for in-flight work returns at its timeout), then
 * releases the worker. Leases it still holds expire on their own
 * (durable_worker_finalize_shutdown releases them at once). Accepts NULL. */
DURABLE_EXPORT void durable_worker_free(durable_worker_t* worker);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DURABLE_DURABLE_H_ */
