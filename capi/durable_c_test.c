/* A plain C11 program against durable.h only: it opens a backend, creates a
 * workflow instance, runs that workflow with the poll/complete protocol,
 * reads the instance's state and history back, checks error reporting, and
 * frees everything. Built with AddressSanitizer/LeakSanitizer.
 *
 * Protocol buffers are encoded and decoded by hand with the few lines of
 * wire-format code below: a C program needs no protobuf runtime to use the
 * ABI for simple requests. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable/durable.h"

static int failures = 0;

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
              #cond);                                                \
      ++failures;                                                    \
    }                                                                \
  } while (0)

#define CHECK_OK(status, error)                                          \
  do {                                                                   \
    durable_status_t s_ = (status);                                      \
    if (s_ != DURABLE_OK) {                                              \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__,             \
              durable_status_name(s_), (error) ? (error) : "(no message)"); \
      durable_free(error);                                               \
      error = NULL;                                                      \
      ++failures;                                                        \
    }                                                                    \
  } while (0)

/* --- minimal protobuf wire format ------------------------------------- */

typedef struct {
  uint8_t data[1024];
  size_t len;
} Buffer;

static void put_varint(Buffer* b, uint64_t v) {
  while (v >= 0x80) {
    b->data[b->len++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  b->data[b->len++] = (uint8_t)v;
}

static void put_bytes(Buffer* b, int field, const void* data, size_t len) {
  put_varint(b, ((uint64_t)field << 3) | 2);
  put_varint(b, len);
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void put_string(Buffer* b, int field, const char* s) {
  put_bytes(b, field, s, strlen(s));
}

static int get_varint(const uint8_t* p, size_t len, size_t* pos,
                      uint64_t* out) {
  uint64_t v = 0;
  int shift = 0;
  while (*pos < len && shift < 64) {
    uint8_t byte = p[(*pos)++];
    v |= (uint64_t)(byte & 0x7F) << shift;
    if (!(byte & 0x80)) {
      *out = v;
      return 1;
    }
    shift += 7;
  }
  return 0;
}

/* Finds top-level field `field` of `msg`. For a length-delimited field it
 * returns a pointer to its bytes and sets *out_len; for a varint it stores
 * the value in *out_len and returns msg. Returns NULL if absent. With
 * `count`, counts the occurrences instead. */
static const uint8_t* find_field(const uint8_t* msg, size_t len, int field,
                                 size_t* out_len, int* count) {
  size_t pos = 0;
  const uint8_t* found = NULL;
  if (count) *count = 0;
  while (pos < len) {
    uint64_t key, value;
    if (!get_varint(msg, len, &pos, &key)) return NULL;
    int wire = (int)(key & 7);
    if (wire == 0) {
      if (!get_varint(msg, len, &pos, &value)) return NULL;
      if ((int)(key >> 3) == field) {
        if (count) ++*count;
        *out_len = (size_t)value;
        found = msg;
      }
    } else if (wire == 2) {
      if (!get_varint(msg, len, &pos, &value) || pos + value > len) {
        return NULL;
      }
      if ((int)(key >> 3) == field) {
        if (count) ++*count;
        if (!found || count == NULL) {
          *out_len = (size_t)value;
          found = msg + pos;
          if (!count) return found;
        }
      }
      pos += (size_t)value;
    } else {
      return NULL; /* no fixed32/64 fields in the messages read here */
    }
  }
  return found;
}

static int contains(const uint8_t* data, size_t len, const char* needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; ++i) {
    if (memcmp(data + i, needle, n) == 0) return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */

int main(void) {
  char* error = NULL;

  CHECK(strcmp(durable_status_name(DURABLE_NON_DETERMINISM),
               "NON_DETERMINISM") == 0);
  CHECK(durable_abi_version() == DURABLE_ABI_VERSION);
  CHECK(strlen(durable_version()) > 0);
  durable_free(NULL);
  durable_backend_free(NULL);
  durable_client_free(NULL);
  durable_worker_free(NULL);

  /* A malformed URI is INVALID_ARGUMENT with a message naming it. */
  durable_backend_t* bad = NULL;
  CHECK(durable_backend_open("sqlite:relative.db", &bad, &error) ==
        DURABLE_INVALID_ARGUMENT);
  CHECK(bad == NULL);
  CHECK(error != NULL && strstr(error, "sqlite:relative.db") != NULL);
  if (error) printf("malformed URI rejected: %s\n", error);
  durable_free(error);
  error = NULL;

  const char* tmp = getenv("TEST_TMPDIR");
  char uri[512];
  snprintf(uri, sizeof uri, "sqlite://%s/c_abi_test.db", tmp ? tmp : "/tmp");
  durable_backend_t* backend = NULL;
  CHECK_OK(durable_backend_open(uri, &backend, &error), error);
  if (backend == NULL) return 1;

  durable_client_t* client = NULL;
  CHECK_OK(durable_client_new(backend, &client, &error), error);

  /* CreateWorkflowInstanceRequest{instance_id=1, workflow_name=2} */
  Buffer request = {{0}, 0};
  put_string(&request, 1, "c-instance");
  put_string(&request, 2, "CWorkflow");
  uint8_t* out = NULL;
  size_t out_len = 0;
  CHECK_OK(durable_client_create_workflow_instance(
               client, request.data, request.len, &out, &out_len, &error),
           error);
  size_t n = 0;
  const uint8_t* id = find_field(out, out_len, 1, &n, NULL);
  CHECK(id != NULL && n == strlen("c-instance") &&
        memcmp(id, "c-instance", n) == 0);
  durable_free(out);

  /* A second create with the same id while active: ALREADY_EXISTS. */
  CHECK(durable_client_create_workflow_instance(client, request.data,
                                                request.len, &out, &out_len,
                                                &error) ==
        DURABLE_ALREADY_EXISTS);
  CHECK(error != NULL && strstr(error, "c-instance") != NULL);
  durable_free(error);
  error = NULL;

  /* State: WorkflowInstanceState.state (field 5) is ACTIVE (1). */
  CHECK_OK(durable_client_get_workflow_instance_state(
               client, "c-instance", strlen("c-instance"), &out, &out_len,
               &error),
           error);
  size_t state = 0;
  CHECK(find_field(out, out_len, 5, &state, NULL) != NULL && state == 1);
  durable_free(out);

  /* Text that is not valid UTF-8 is refused, naming the argument, and
   * nothing is stored. */
  CHECK(durable_client_cancel_workflow_instance(
            client, "c-instance", strlen("c-instance"), "\xff", 1, &error) ==
        DURABLE_INVALID_ARGUMENT);
  CHECK(error != NULL &&
        strcmp(error, "reason: not valid UTF-8 (byte 0xff at offset 0)") == 0);
  durable_free(error);
  error = NULL;

  /* Run the workflow: poll its activation, answer CompleteWorkflow("42"). */
  durable_worker_t* worker = NULL;
  CHECK_OK(durable_worker_new(backend, NULL, 0, &worker, &error), error);
  CHECK_OK(durable_worker_poll_workflow_activation(worker, 10000, &out,
                                                   &out_len, &error),
           error);
  char execution_id[128] = {0};
  const uint8_t* run = find_field(out, out_len, 1, &n, NULL);
  CHECK(run != NULL && n < sizeof execution_id);
  if (run) memcpy(execution_id, run, n);
  CHECK(contains(out, out_len, "CWorkflow"));
  durable_free(out);

  Buffer payload = {{0}, 0}, complete = {{0}, 0}, command = {{0}, 0},
         success = {{0}, 0}, completion = {{0}, 0};
  put_string(&payload, 1, "json/plain");
  put_string(&payload, 2, "42");
  put_bytes(&complete, 1, payload.data, payload.len);   /* CompleteWorkflow */
  put_bytes(&command, 9, complete.data, complete.len);  /* WorkflowCommand */
  put_bytes(&success, 1, command.data, command.len);    /* Success */
  put_string(&completion, 1, execution_id);
  put_bytes(&completion, 2, success.data, success.len);
  CHECK_OK(durable_worker_complete_workflow_activation(
               worker, completion.data, completion.len, &error),
           error);

  /* Garbage bytes are INVALID_ARGUMENT, naming the message type. */
  const uint8_t garbage[] = {0xFF, 0xFF, 0xFF};
  CHECK(durable_worker_complete_workflow_activation(
            worker, garbage, sizeof garbage, &error) ==
        DURABLE_INVALID_ARGUMENT);
  CHECK(error != NULL &&
        strstr(error, "WorkflowActivationCompletion") != NULL);
  durable_free(error);
  error = NULL;

  /* WorkflowResult.result (field 1) is the payload we returned. */
  CHECK_OK(durable_client_wait_for_workflow_result(
               client, "c-instance", strlen("c-instance"), 10000, &out,
               &out_len, &error),
           error);
  const uint8_t* result = find_field(out, out_len, 1, &n, NULL);
  CHECK(result != NULL && contains(result, n, "42"));
  durable_free(out);

  /* History: task started, execution started, execution finished. */
  CHECK_OK(durable_client_get_workflow_history(
               client, "c-instance", strlen("c-instance"), &out, &out_len,
               &error),
           error);
  int events = 0;
  find_field(out, out_len, 1, &n, &events);
  CHECK(events == 3);
  durable_free(out);

  CHECK_OK(durable_client_get_workflow_instance_state(
               client, "c-instance", strlen("c-instance"), &out, &out_len,
               &error),
           error);
  CHECK(find_field(out, out_len, 5, &state, NULL) != NULL && state == 2);
  durable_free(out);

  CHECK(durable_client_get_workflow_instance_state(
            client, "missing", strlen("missing"), &out, &out_len, &error) ==
        DURABLE_NOT_FOUND);
  durable_free(error);
  error = NULL;

  /* WorkerList.workers (field 1): our worker, live. */
  CHECK_OK(durable_client_list_workers(client, &out, &out_len, &error), error);
  int workers = 0;
  find_field(out, out_len, 1, &n, &workers);
  CHECK(workers == 1);
  durable_free(out);

  /* The run finished, so the worker evicts it: an activation whose only job
   * is RemoveFromCache (job field 9), acknowledged with an empty completion. */
  CHECK_OK(durable_worker_poll_workflow_activation(worker, 10000, &out,
                                                   &out_len, &error),
           error);
  const uint8_t* job = find_field(out, out_len, 5, &n, NULL);
  size_t job_len = n;
  CHECK(job != NULL && find_field(job, job_len, 9, &n, NULL) != NULL);
  durable_free(out);
  Buffer ack = {{0}, 0};
  put_string(&ack, 1, execution_id);
  put_bytes(&ack, 2, "", 0);
  CHECK_OK(durable_worker_complete_workflow_activation(worker, ack.data,
                                                       ack.len, &error),
           error);

  durable_worker_initiate_shutdown(worker);
  CHECK(durable_worker_poll_workflow_activation(worker, 1000, &out, &out_len,
                                                &error) == DURABLE_SHUTDOWN);
  durable_free(error);
  error = NULL;
  CHECK_OK(durable_worker_finalize_shutdown(worker, 5000, &error), error);
  durable_worker_free(worker);
  durable_client_free(client);
  durable_backend_free(backend);

  if (failures == 0) printf("durable C ABI test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
