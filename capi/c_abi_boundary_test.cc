// What durable.h refuses, and that a refusal leaves nothing behind: text
// that is not valid UTF-8 (named by its field path), instance ids with NUL,
// lengths protobuf cannot parse, NULL arguments (checked before anything is
// done), and frees racing with calls in flight.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "capi/abi_test_support.h"
#include "capi/handles.h"
#include "capi/request_checks.h"
#include "durable/durable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::capi_test {
namespace {

using ::durable::capi::FindInvalidUtf8;
using ::testing::HasSubstr;

class BoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override { Open("sqlite::memory:"); }
  void TearDown() override { Close(); }

  void Open(const std::string& uri) {
    char* error = nullptr;
    ASSERT_EQ(durable_backend_open(uri.c_str(), &backend_, &error), DURABLE_OK)
        << error;
    ASSERT_EQ(durable_client_new(backend_, &client_, &error), DURABLE_OK);
    StartWorker();
  }
  void StartWorker() {
    char* error = nullptr;
    ASSERT_EQ(durable_worker_new(backend_, nullptr, 0, &worker_, &error),
              DURABLE_OK);
  }
  void StopWorker() {
    if (worker_ == nullptr) return;
    durable_worker_initiate_shutdown(worker_);
    durable_worker_finalize_shutdown(worker_, 5000, nullptr);
    durable_worker_free(worker_);
    worker_ = nullptr;
  }
  void Close() {
    StopWorker();
    durable_client_free(client_);
    durable_backend_free(backend_);
    client_ = nullptr;
    backend_ = nullptr;
  }

  // Polls the next activation that is not an eviction (acknowledging
  // evictions on the way).
  v1::WorkflowActivation PollActivation() {
    for (int i = 0; i < 50; ++i) {
      uint8_t* out = nullptr;
      size_t out_len = 0;
      char* error = nullptr;
      Result r = FinishOut(durable_worker_poll_workflow_activation(
                               worker_, 200, &out, &out_len, &error),
                           &error, &out, &out_len);
      if (r.code == DURABLE_TIMEOUT) continue;
      EXPECT_EQ(r.code, DURABLE_OK) << r.error;
      v1::WorkflowActivation activation;
      EXPECT_TRUE(activation.ParseFromString(r.out));
      if (activation.jobs_size() == 1 &&
          activation.jobs(0).has_remove_from_cache()) {
        EXPECT_EQ(CompleteActivation(worker_, Answer(activation)).code,
                  DURABLE_OK);
        continue;
      }
      return activation;
    }
    ADD_FAILURE() << "no activation";
    return {};
  }

  durable_backend_t* backend_ = nullptr;
  durable_client_t* client_ = nullptr;
  durable_worker_t* worker_ = nullptr;
};

// ---------------------------------------------------------------------------
// Item 1: text that is not valid UTF-8.

// A cancel reason "\xff" used to be stored in the inbox and to fail every
// later poll of the queue with DATA_LOSS, even after a restart.
TEST_F(BoundaryTest, InvalidCancelReasonIsRefusedAndTheQueueKeepsRunning) {
  Close();
  Open(TempUri("cancel_reason.db"));
  ASSERT_EQ(Create(client_, CreateRequest("victim", "Wait")).code, DURABLE_OK);
  std::string last_error;
  ASSERT_TRUE(Drive(
      worker_,
      [&] {
        // The victim's first task (it started its timer) is committed.
        Result h = History(client_, "victim");
        v1::History history;
        return h.code == DURABLE_OK && history.ParseFromString(h.out) &&
               history.events_size() >= 3;
      },
      absl::Seconds(30), &last_error))
      << last_error;

  Result refused = Cancel(client_, "victim", "\xff");
  EXPECT_EQ(refused.code, DURABLE_INVALID_ARGUMENT);
  EXPECT_EQ(refused.error, "reason: not valid UTF-8 (byte 0xff at offset 0)");

  // Instances created afterwards on the same queue run...
  for (const char* id : {"after-1", "after-2"}) {
    ASSERT_EQ(Create(client_, CreateRequest(id, "Finish")).code, DURABLE_OK);
  }
  EXPECT_TRUE(Drive(
      worker_,
      [&] {
        return Finished(client_, "after-1") && Finished(client_, "after-2");
      },
      absl::Seconds(30), &last_error))
      << last_error;

  // ...and keep running across a worker restart.
  StopWorker();
  StartWorker();
  ASSERT_EQ(Create(client_, CreateRequest("after-restart", "Finish")).code,
            DURABLE_OK);
  EXPECT_TRUE(Drive(
      worker_, [&] { return Finished(client_, "after-restart"); },
      absl::Seconds(30), &last_error))
      << last_error;

  // The victim was not harmed either: a valid cancel reaches it.
  EXPECT_FALSE(Finished(client_, "victim"));
  ASSERT_EQ(Cancel(client_, "victim", "caf\xc3\xa9").code, DURABLE_OK);
  EXPECT_TRUE(Drive(
      worker_, [&] { return Finished(client_, "victim"); }, absl::Seconds(30),
      &last_error))
      << last_error;
  Result result = WaitResult(client_, "victim", 1000);
  ASSERT_EQ(result.code, DURABLE_OK) << result.error;
  v1::WorkflowResult outcome;
  ASSERT_TRUE(outcome.ParseFromString(result.out));
  EXPECT_EQ(outcome.result().data(), "\"canceled: caf\xc3\xa9\"");
}

struct BadRequest {
  std::string name;
  std::function<Result(durable_client_t*, durable_worker_t*)> call;
  std::string expected_error;
};

TEST_F(BoundaryTest, InvalidTextIsRefusedNamingTheFieldPath) {
  auto create = [](v1::CreateWorkflowInstanceRequest request) {
    return [request](durable_client_t* client, durable_worker_t*) {
      return Create(client, request);
    };
  };
  auto request = [](const std::string& id) {
    return CreateRequest(id, "Finish");
  };
  std::vector<BadRequest> cases;
  {
    auto r = request("meta-value");
    (*r.mutable_metadata())["k"] = "ab\xff";
    cases.push_back(
        {"metadata value", create(r),
         "CreateWorkflowInstanceRequest.metadata[\"k\"]: not valid UTF-8 "
         "(byte 0xff at offset 2)"});
  }
  {
    auto r = request("meta-key");
    (*r.mutable_metadata())["\xffk"] = "v";
    cases.push_back({"metadata key", create(r),
                     "CreateWorkflowInstanceRequest.metadata[\"\\xffk\"] (the "
                     "key): not valid UTF-8 (byte 0xff at offset 0)"});
  }
  {
    auto r = request("name");
    r.set_workflow_name("W\xc3");  // a truncated two-byte sequence
    cases.push_back({"workflow name", create(r),
                     "CreateWorkflowInstanceRequest.workflow_name: not valid "
                     "UTF-8 (byte 0xc3 at offset 1)"});
  }
  {
    auto r = request("queue");
    r.set_queue("\xed\xa0\x80");  // a surrogate, U+D800
    cases.push_back({"queue", create(r),
                     "CreateWorkflowInstanceRequest.queue: not valid UTF-8 "
                     "(byte 0xed at offset 0)"});
  }
  {
    auto r = request("argument");
    *r.add_arguments() = Json("1");
    *r.add_arguments() = Json("2");
    r.mutable_arguments(1)->set_encoding("json\xc0\xaf");  // overlong '/'
    cases.push_back({"argument encoding", create(r),
                     "CreateWorkflowInstanceRequest.arguments[1].encoding: not "
                     "valid UTF-8 (byte 0xc0 at offset 4)"});
  }
  {
    auto r = request("bad-id-\xf4\x90\x80\x80");  // above U+10FFFF
    cases.push_back({"instance id", create(r),
                     "CreateWorkflowInstanceRequest.instance_id: not valid "
                     "UTF-8 (byte 0xf4 at offset 7)"});
  }
  {
    v1::SignalWorkflowRequest signal;
    signal.set_instance_id("victim");
    signal.set_signal_name("go\xff");
    cases.push_back({"signal name",
                     [signal](durable_client_t* client, durable_worker_t*) {
                       const std::string bytes = signal.SerializeAsString();
                       char* error = nullptr;
                       durable_status_t code = durable_client_signal_workflow(
                           client, Data(bytes), bytes.size(), &error);
                       return Finish(code, &error);
                     },
                     "SignalWorkflowRequest.signal_name: not valid UTF-8 "
                     "(byte 0xff at offset 2)"});
  }
  {
    v1::WorkerOptions options;
    options.add_queues("default");
    options.add_queues("q\xff");
    cases.push_back(
        {"worker queue",
         [options](durable_client_t*, durable_worker_t*) {
           // durable_worker_new needs a backend: use a fresh one.
           durable_backend_t* backend = nullptr;
           durable_backend_open("sqlite::memory:", &backend, nullptr);
           const std::string bytes = options.SerializeAsString();
           durable_worker_t* worker = nullptr;
           char* error = nullptr;
           durable_status_t code = durable_worker_new(
               backend, Data(bytes), bytes.size(), &worker, &error);
           durable_worker_free(worker);
           durable_backend_free(backend);
           return Finish(code, &error);
         },
         "WorkerOptions.queues[1]: not valid UTF-8 (byte 0xff at offset 1)"});
  }
  {
    v1::ActivityTaskResult result;
    result.set_task_token("\xff\xfe any bytes");
    result.mutable_failed()->set_message("disk \xff full");
    cases.push_back(
        {"activity failure message",
         [result](durable_client_t*, durable_worker_t* worker) {
           const std::string bytes = result.SerializeAsString();
           char* error = nullptr;
           durable_status_t code = durable_worker_complete_activity_task(
               worker, Data(bytes), bytes.size(), &error);
           return Finish(code, &error);
         },
         "ActivityTaskResult.failed.message: not valid UTF-8 (byte 0xff at "
         "offset 5)"});
  }
  {
    v1::ActivityHeartbeat beat;
    beat.set_task_token("token");
    beat.mutable_details()->set_encoding("\x80");
    cases.push_back({"heartbeat details",
                     [beat](durable_client_t*, durable_worker_t* worker) {
                       const std::string bytes = beat.SerializeAsString();
                       char* error = nullptr;
                       durable_status_t code =
                           durable_worker_record_activity_heartbeat(
                               worker, Data(bytes), bytes.size(), &error);
                       return Finish(code, &error);
                     },
                     "ActivityHeartbeat.details.encoding: not valid UTF-8 "
                     "(byte 0x80 at offset 0)"});
  }
  cases.push_back({"cancel reason",
                   [](durable_client_t* client, durable_worker_t*) {
                     return Cancel(client, "victim", "ok \xff");
                   },
                   "reason: not valid UTF-8 (byte 0xff at offset 3)"});
  cases.push_back({"instance id argument",
                   [](durable_client_t* client, durable_worker_t*) {
                     return State(client, "\xff");
                   },
                   "instance_id: not valid UTF-8 (byte 0xff at offset 0)"});

  for (const BadRequest& c : cases) {
    SCOPED_TRACE(c.name);
    Result r = c.call(client_, worker_);
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT) << r.error;
    EXPECT_EQ(r.error, c.expected_error);
    EXPECT_FALSE(FindInvalidUtf8(r.error).has_value());
  }
  // Nothing was created.
  for (const char* id :
       {"meta-value", "meta-key", "name", "queue", "argument"}) {
    EXPECT_EQ(State(client_, id).code, DURABLE_NOT_FOUND) << id;
  }
}

TEST_F(BoundaryTest, RefusedCompletionLeavesTheActivationAwaitingAnAnswer) {
  ASSERT_EQ(Create(client_, CreateRequest("refused", "Finish")).code,
            DURABLE_OK);
  v1::WorkflowActivation activation = PollActivation();
  ASSERT_FALSE(activation.execution_id().empty());

  v1::WorkflowActivationCompletion bad;
  bad.set_execution_id(activation.execution_id());
  auto* commands = bad.mutable_successful();
  auto* timer = commands->add_commands()->mutable_start_timer();
  timer->set_seq(1);
  timer->set_duration_us(1000);
  auto* failure =
      commands->add_commands()->mutable_fail_workflow()->mutable_failure();
  failure->set_type("Oops");
  failure->set_message("outer");
  failure->mutable_cause()->set_message("\xff inner");
  Result refused = CompleteActivation(worker_, bad);
  EXPECT_EQ(refused.code, DURABLE_INVALID_ARGUMENT);
  EXPECT_EQ(refused.error,
            "WorkflowActivationCompletion.successful.commands[1].fail_workflow"
            ".failure.cause.message: not valid UTF-8 (byte 0xff at offset 0)");

  // The activation still awaits its answer; a valid one finishes the run.
  Result answered = CompleteActivation(worker_, Answer(activation));
  EXPECT_EQ(answered.code, DURABLE_OK) << answered.error;
  std::string last_error;
  EXPECT_TRUE(Drive(
      worker_, [&] { return Finished(client_, "refused"); }, absl::Seconds(30),
      &last_error))
      << last_error;
}

TEST_F(BoundaryTest, BytesFieldsTakeAnyBytes) {
  v1::CreateWorkflowInstanceRequest request = CreateRequest("bytes", "Finish");
  request.add_arguments()->set_data(std::string("\xff\x00\xfe", 3));
  EXPECT_EQ(Create(client_, request).code, DURABLE_OK);
}

TEST_F(BoundaryTest, ErrorMessagesAreValidUtf8) {
  durable_backend_t* backend = nullptr;
  char* error = nullptr;
  Result r =
      Finish(durable_backend_open("sqlite:\xff.db", &backend, &error), &error);
  EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
  EXPECT_EQ(r.error, "uri: not valid UTF-8 (byte 0xff at offset 7)");
  EXPECT_EQ(backend, nullptr);
}

// ---------------------------------------------------------------------------
// Item 10: instance ids with NUL.

TEST_F(BoundaryTest, InstanceIdsWithNulAreRefused) {
  const std::string nul_id("a\0b", 3);
  Result created = Create(client_, CreateRequest(nul_id, "Finish"));
  EXPECT_EQ(created.code, DURABLE_INVALID_ARGUMENT);
  EXPECT_EQ(created.error,
            "CreateWorkflowInstanceRequest.instance_id: an instance id cannot "
            "contain NUL (found at offset 1)");
  EXPECT_EQ(State(client_, "a").code, DURABLE_NOT_FOUND);

  for (Result r : {State(client_, nul_id), WaitResult(client_, nul_id, 0),
                   Cancel(client_, nul_id, "why")}) {
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
    EXPECT_EQ(r.error,
              "instance_id: an instance id cannot contain NUL (found at "
              "offset 1)");
  }

  v1::SignalWorkflowRequest signal;
  signal.set_instance_id(nul_id);
  signal.set_signal_name("s");
  const std::string bytes = signal.SerializeAsString();
  char* error = nullptr;
  Result signaled = Finish(durable_client_signal_workflow(client_, Data(bytes),
                                                          bytes.size(), &error),
                           &error);
  EXPECT_EQ(signaled.code, DURABLE_INVALID_ARGUMENT);
  EXPECT_THAT(signaled.error,
              HasSubstr("SignalWorkflowRequest.instance_id: an instance id "
                        "cannot contain NUL"));

  // A sub-workflow's id, in a completion.
  ASSERT_EQ(Create(client_, CreateRequest("parent", "Finish")).code,
            DURABLE_OK);
  v1::WorkflowActivation activation = PollActivation();
  v1::WorkflowActivationCompletion completion;
  completion.set_execution_id(activation.execution_id());
  auto* sub_workflow = completion.mutable_successful()
                           ->add_commands()
                           ->mutable_start_sub_workflow();
  sub_workflow->set_seq(1);
  sub_workflow->set_workflow_name("Finish");
  sub_workflow->set_instance_id(std::string("c\0d", 3));
  Result refused = CompleteActivation(worker_, completion);
  EXPECT_EQ(refused.code, DURABLE_INVALID_ARGUMENT);
  EXPECT_EQ(refused.error,
            "WorkflowActivationCompletion.successful.commands[0]"
            ".start_sub_workflow.instance_id: an instance id cannot contain "
            "NUL (found at offset 1)");
  EXPECT_EQ(CompleteActivation(worker_, Answer(activation)).code, DURABLE_OK);
}

// ---------------------------------------------------------------------------
// Item 8: lengths protobuf cannot parse.

// A valid request at the very end of a readable page, followed by an
// inaccessible one: reading a byte past the request faults.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(const std::string& bytes) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    base_ =
        static_cast<uint8_t*>(mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mprotect(base_ + page_, page_, PROT_NONE);
    data_ = base_ + page_ - bytes.size();
    std::memcpy(data_, bytes.data(), bytes.size());
  }
  ~GuardedBuffer() { munmap(base_, 2 * page_); }
  const uint8_t* data() const { return data_; }

 private:
  size_t page_;
  uint8_t* base_;
  uint8_t* data_;
};

TEST_F(BoundaryTest, LengthsProtobufCannotParseAreRefusedBeforeReading) {
  const std::string create =
      CreateRequest("truncated", "Finish").SerializeAsString();
  GuardedBuffer buffer(create);
  for (uint64_t len : {uint64_t{1} << 31, (uint64_t{1} << 32) + create.size(),
                       uint64_t{SIZE_MAX}}) {
    SCOPED_TRACE(len);
    const std::string expected =
        absl::StrCat(len,
                     " bytes exceed the largest message protobuf can parse "
                     "(2147483647 bytes)");
    uint8_t* out = nullptr;
    size_t out_len = 0;
    char* error = nullptr;
    Result r =
        FinishOut(durable_client_create_workflow_instance(
                      client_, buffer.data(), len, &out, &out_len, &error),
                  &error, &out, &out_len);
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
    EXPECT_EQ(r.error, "request: " + expected);

    r = Finish(
        durable_client_signal_workflow(client_, buffer.data(), len, &error),
        &error);
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
    EXPECT_EQ(r.error, "request: " + expected);

    durable_worker_t* worker = nullptr;
    r = Finish(
        durable_worker_new(backend_, buffer.data(), len, &worker, &error),
        &error);
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
    EXPECT_EQ(r.error, "options: " + expected);
    EXPECT_EQ(worker, nullptr);

    r = Finish(durable_worker_complete_workflow_activation(
                   worker_, buffer.data(), len, &error),
               &error);
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
    EXPECT_EQ(r.error, "completion: " + expected);

    r = Finish(durable_worker_complete_activity_task(worker_, buffer.data(),
                                                     len, &error),
               &error);
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
    EXPECT_EQ(r.error, "result: " + expected);

    r = Finish(durable_worker_record_activity_heartbeat(worker_, buffer.data(),
                                                        len, &error),
               &error);
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
    EXPECT_EQ(r.error, "heartbeat: " + expected);
  }
  // In particular the 2^32 + n buffer was not taken for its first n bytes.
  EXPECT_EQ(State(client_, "truncated").code, DURABLE_NOT_FOUND);
}

// ---------------------------------------------------------------------------
// Item 9: every argument is checked before anything is done.

TEST_F(BoundaryTest, NullOutputOfCreateCreatesNothing) {
  const std::string bytes = CreateRequest("once", "Finish").SerializeAsString();
  uint8_t* out = nullptr;
  size_t out_len = 0;
  char* error = nullptr;
  Result r =
      Finish(durable_client_create_workflow_instance(
                 client_, Data(bytes), bytes.size(), nullptr, &out_len, &error),
             &error);
  EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
  EXPECT_EQ(r.error, "out and out_len must not be NULL");
  r = Finish(durable_client_create_workflow_instance(
                 client_, Data(bytes), bytes.size(), &out, nullptr, &error),
             &error);
  EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT);
  EXPECT_EQ(State(client_, "once").code, DURABLE_NOT_FOUND);
  // So the retry creates it, rather than finding it ALREADY_EXISTS.
  EXPECT_EQ(Create(client_, CreateRequest("once", "Finish")).code, DURABLE_OK);
}

TEST_F(BoundaryTest, NullArgumentsAreRefusedFirstEverywhere) {
  uint8_t* out = reinterpret_cast<uint8_t*>(0x1);  // must be reset to NULL
  size_t out_len = 7;
  char* error = nullptr;
  const std::string id = "unknown";
  auto expect_invalid = [&](durable_status_t code, absl::string_view what) {
    Result r = Finish(code, &error);
    EXPECT_EQ(r.code, DURABLE_INVALID_ARGUMENT) << what << ": " << r.error;
    EXPECT_FALSE(r.error.empty()) << what;
  };
  // Reads of an unknown instance: INVALID_ARGUMENT for the NULL output, not
  // NOT_FOUND for the instance (which would mean the read was done first).
  expect_invalid(
      durable_client_wait_for_workflow_result(client_, id.data(), id.size(), 0,
                                              nullptr, &out_len, &error),
      "wait");
  expect_invalid(durable_client_get_workflow_instance_state(
                     client_, id.data(), id.size(), &out, nullptr, &error),
                 "state");
  expect_invalid(durable_client_get_workflow_history(
                     client_, id.data(), id.size(), nullptr, nullptr, &error),
                 "history");
  expect_invalid(durable_client_list_workflow_executions(
                     client_, id.data(), id.size(), nullptr, &out_len, &error),
                 "executions");
  EXPECT_EQ(out, nullptr);  // a non-NULL *out is reset on failure
  EXPECT_EQ(out_len, 0u);
  expect_invalid(durable_client_get_workflow_instance_state(
                     client_, nullptr, 3, &out, &out_len, &error),
                 "NULL instance id");
  expect_invalid(durable_client_cancel_workflow_instance(client_, nullptr, 0,
                                                         "r", 1, &error),
                 "cancel NULL instance id");
  expect_invalid(durable_client_cancel_workflow_instance(
                     client_, id.data(), id.size(), nullptr, 1, &error),
                 "cancel NULL reason with a length");
  expect_invalid(durable_client_create_workflow_instance(
                     nullptr, nullptr, 0, &out, &out_len, &error),
                 "NULL client");
  expect_invalid(durable_client_create_workflow_instance(
                     client_, nullptr, 5, &out, &out_len, &error),
                 "NULL request with a length");
  expect_invalid(durable_client_signal_workflow(nullptr, nullptr, 0, &error),
                 "signal NULL client");
  expect_invalid(durable_backend_open("sqlite::memory:", nullptr, &error),
                 "open NULL out");
  durable_backend_t* backend = reinterpret_cast<durable_backend_t*>(0x1);
  expect_invalid(durable_backend_open(nullptr, &backend, &error), "NULL uri");
  EXPECT_EQ(backend, nullptr);
  expect_invalid(durable_client_new(backend_, nullptr, &error),
                 "client NULL out");
  durable_client_t* client = nullptr;
  expect_invalid(durable_client_new(nullptr, &client, &error),
                 "client NULL backend");
  expect_invalid(durable_worker_new(backend_, nullptr, 0, nullptr, &error),
                 "worker NULL out");
  durable_worker_t* worker = nullptr;
  expect_invalid(durable_worker_new(nullptr, nullptr, 0, &worker, &error),
                 "worker NULL backend");
  expect_invalid(durable_worker_new(backend_, nullptr, 4, &worker, &error),
                 "worker NULL options with a length");
  expect_invalid(durable_worker_poll_workflow_activation(worker_, 0, nullptr,
                                                         &out_len, &error),
                 "poll NULL out");
  expect_invalid(
      durable_worker_poll_activity_task(nullptr, 0, &out, &out_len, &error),
      "poll NULL worker");
  expect_invalid(
      durable_worker_complete_workflow_activation(worker_, nullptr, 3, &error),
      "complete NULL data");
  expect_invalid(
      durable_worker_complete_activity_task(nullptr, nullptr, 0, &error),
      "complete activity NULL worker");
  expect_invalid(
      durable_worker_record_activity_heartbeat(worker_, nullptr, 2, &error),
      "heartbeat NULL data");
  expect_invalid(durable_worker_finalize_shutdown(nullptr, 0, &error),
                 "finalize NULL worker");
  // `error` itself may be NULL.
  EXPECT_EQ(durable_client_get_workflow_instance_state(
                client_, id.data(), id.size(), &out, &out_len, nullptr),
            DURABLE_NOT_FOUND);
  durable_worker_initiate_shutdown(nullptr);
}

// ---------------------------------------------------------------------------
// Item 11: a free waits for the calls in flight.

template <typename Handle>
void AwaitCallsInFlight(Handle* handle, int n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (handle->calls.count() < n && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(handle->calls.count(), n);
}

TEST_F(BoundaryTest, WorkerFreeWaitsForPollsInFlight) {
  // The worker keeps the backend alive; drop every other reference so that
  // a free that did not wait would also destroy what the polls wait on.
  durable_client_free(client_);
  client_ = nullptr;
  durable_backend_free(backend_);
  backend_ = nullptr;
  std::vector<std::thread> pollers;
  std::vector<durable_status_t> codes(4, DURABLE_OK);
  for (int i = 0; i < 4; ++i) {
    pollers.emplace_back([this, i, &codes] {
      uint8_t* out = nullptr;
      size_t out_len = 0;
      char* error = nullptr;
      durable_status_t code =
          i % 2 == 0 ? durable_worker_poll_workflow_activation(
                           worker_, 30'000, &out, &out_len, &error)
                     : durable_worker_poll_activity_task(worker_, 30'000, &out,
                                                         &out_len, &error);
      codes[i] = FinishOut(code, &error, &out, &out_len).code;
    });
  }
  AwaitCallsInFlight(worker_, 4);
  durable_worker_free(worker_);  // initiates shutdown, waits for the polls
  worker_ = nullptr;
  for (std::thread& t : pollers) t.join();
  for (durable_status_t code : codes) EXPECT_EQ(code, DURABLE_SHUTDOWN);
}

TEST_F(BoundaryTest, ClientFreeWaitsForAWaitInFlight) {
  ASSERT_EQ(Create(client_, CreateRequest("slow", "Wait")).code, DURABLE_OK);
  StopWorker();
  durable_backend_free(backend_);
  backend_ = nullptr;
  durable_status_t code = DURABLE_OK;
  std::thread waiter(
      [this, &code] { code = WaitResult(client_, "slow", 1500).code; });
  AwaitCallsInFlight(client_, 1);
  durable_client_free(client_);  // returns once the wait timed out
  client_ = nullptr;
  waiter.join();
  EXPECT_EQ(code, DURABLE_TIMEOUT);
}

}  // namespace
}  // namespace durable::capi_test
