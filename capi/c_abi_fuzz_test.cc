// Fuzz-style tests, in plain gtest: random and mutated input to every entry
// point of durable.h, and mutated histories replayed by the state machine.
// Nothing may crash or hang, every answer must keep the ABI's contract
// (a known status code, an error message exactly when the call failed, valid
// UTF-8 messages, outputs that parse), and damaged history must be reported
// as DATA_LOSS or INVALID_ARGUMENT.
//
// Each test runs for a bounded time (kBudget, and an iteration cap) from a
// fixed seed, printed; DURABLE_FUZZ_SEED=<n> replays another one.
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "capi/abi_test_support.h"
#include "capi/request_checks.h"
#include "core/errors.h"
#include "core/replay/workflow_state_machine.h"
#include "durable/durable.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"

namespace durable::capi_test {
namespace {

using ::durable::capi::FindInvalidUtf8;

constexpr absl::Duration kBudget = absl::Seconds(3);
constexpr int kMaxIterations = 200'000;

uint64_t Seed() {
  const char* env = std::getenv("DURABLE_FUZZ_SEED");
  const uint64_t seed =
      env != nullptr ? std::strtoull(env, nullptr, 10) : 20240612;
  std::cout << "fuzz seed " << seed
            << " (set DURABLE_FUZZ_SEED to replay another)" << std::endl;
  return seed;
}

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  uint64_t Next() { return engine_(); }
  size_t Below(size_t n) { return n == 0 ? 0 : Next() % n; }
  bool OneIn(size_t n) { return Below(n) == 0; }

  // Short text that is often, but not always, valid UTF-8.
  std::string Text() {
    static const char* const kPieces[] = {
        "a",      "Finish", "Wait",         "default",
        "fuzz-0", "fuzz-1", "\xc3\xa9",     "\xf0\x9f\x98\x80",
        "\xff",   "\xc3",   "\xed\xa0\x80", "\xc0\xaf",
        "\x80",   " ",      "\"",           "\\"};
    std::string text;
    const size_t pieces = Below(5);
    for (size_t i = 0; i < pieces; ++i) {
      if (OneIn(8)) {
        text.push_back('\0');
      } else {
        text += kPieces[Below(sizeof kPieces / sizeof kPieces[0])];
      }
    }
    return text;
  }

  std::string Bytes(size_t max) {
    std::string bytes(Below(max + 1), '\0');
    for (char& c : bytes) c = static_cast<char>(Next());
    return bytes;
  }

  // A random change to `bytes`: flips, overwrites, inserts, erases,
  // truncates, duplicates, or splices in `other`.
  std::string Mutate(std::string bytes, const std::string& other) {
    const int rounds = 1 + static_cast<int>(Below(4));
    for (int r = 0; r < rounds; ++r) {
      const size_t at = Below(bytes.size() + 1);
      switch (Below(8)) {
        case 0:
          if (!bytes.empty()) bytes[Below(bytes.size())] ^= 1 << Below(8);
          break;
        case 1:
          if (!bytes.empty()) {
            bytes[Below(bytes.size())] =
                static_cast<char>(OneIn(2) ? 0xff : Next());
          }
          break;
        case 2:
          bytes.insert(at, Bytes(8));
          break;
        case 3:
          bytes.erase(at, Below(8));
          break;
        case 4:
          bytes.resize(at);
          break;
        case 5:
          bytes.insert(at, bytes.substr(Below(bytes.size() + 1), Below(16)));
          break;
        case 6:
          bytes.insert(at, other.substr(Below(other.size() + 1), Below(32)));
          break;
        default:  // a varint-ish length byte
          if (!bytes.empty()) {
            bytes[Below(bytes.size())] = static_cast<char>(0x80 | Next());
          }
          break;
      }
    }
    return bytes;
  }

 private:
  std::mt19937_64 engine_;
};

bool KnownCode(durable_status_t code) {
  return (code >= DURABLE_OK && code <= DURABLE_DATA_LOSS) ||
         code == DURABLE_NON_DETERMINISM || code == DURABLE_SHUTDOWN;
}

// The contract every answer keeps.
void CheckAnswer(const char* what, durable_status_t code, const Result& r) {
  ASSERT_TRUE(KnownCode(code)) << what << ": code " << code;
  if (code == DURABLE_OK) {
    EXPECT_FALSE(r.error_set) << what;
  } else {
    EXPECT_TRUE(r.error_set)
        << what << ": no message for " << durable_status_name(code);
    EXPECT_FALSE(FindInvalidUtf8(r.error).has_value())
        << what << ": message is not UTF-8: " << r.error;
  }
}

// Lengths chosen for a buffer: mostly the real one, sometimes one that
// protobuf cannot parse (must be refused before reading), sometimes NULL.
struct Buffer {
  std::string bytes;
  const uint8_t* data;
  size_t len;
  bool huge = false;
  bool null_with_length = false;
};

Buffer Choose(Random& random, std::string bytes) {
  Buffer b{std::move(bytes), nullptr, 0};
  b.data = Data(b.bytes);
  b.len = b.bytes.size();
  switch (random.Below(20)) {
    case 0:
      b.len = (size_t{1} << 31) + random.Below(4);
      b.huge = true;
      break;
    case 1:
      b.len = (size_t{1} << 32) + b.bytes.size();
      b.huge = true;
      break;
    case 2:
      b.len = SIZE_MAX;
      b.huge = true;
      break;
    case 3:
      b.data = nullptr;
      b.null_with_length = b.len > 0;
      break;
    default:
      break;
  }
  return b;
}

class AbiFuzzer {
 public:
  explicit AbiFuzzer(uint64_t seed) : random_(seed) {
    char* error = nullptr;
    EXPECT_EQ(durable_backend_open("sqlite::memory:", &backend_, &error),
              DURABLE_OK);
    EXPECT_EQ(durable_client_new(backend_, &client_, &error), DURABLE_OK);
    v1::WorkerOptions options;
    options.set_workflow_task_retry_delay_us(1000);
    const std::string bytes = options.SerializeAsString();
    EXPECT_EQ(durable_worker_new(backend_, Data(bytes), bytes.size(), &worker_,
                                 &error),
              DURABLE_OK);
    BuildCorpus();
  }

  ~AbiFuzzer() {
    // Activations may be left unpolled: do not wait long for them.
    durable_worker_initiate_shutdown(worker_);
    durable_worker_finalize_shutdown(worker_, 200, nullptr);
    durable_worker_free(worker_);
    durable_client_free(client_);
    durable_backend_free(backend_);
  }

  void Step() {
    using Entry = void (AbiFuzzer::*)();
    static const Entry kEntries[] = {&AbiFuzzer::OpenBackend,
                                     &AbiFuzzer::NewClient,
                                     &AbiFuzzer::NewWorker,
                                     &AbiFuzzer::CreateInstance,
                                     &AbiFuzzer::CreateInstance,
                                     &AbiFuzzer::ReadInstance,
                                     &AbiFuzzer::Signal,
                                     &AbiFuzzer::CancelInstance,
                                     &AbiFuzzer::PollAndAnswerActivation,
                                     &AbiFuzzer::PollAndAnswerActivation,
                                     &AbiFuzzer::CompleteGarbage,
                                     &AbiFuzzer::PollAndAnswerActivityTask,
                                     &AbiFuzzer::Misc};
    (this->*kEntries[random_.Below(sizeof kEntries / sizeof kEntries[0])])();
    ++calls_;
  }

  int calls() const { return calls_; }
  int activations() const { return activations_; }
  int activity_tasks() const { return activity_tasks_; }

 private:
  std::string Pick(const std::vector<std::string>& corpus) {
    return corpus[random_.Below(corpus.size())];
  }
  // A corpus entry, mutated most of the time, or random bytes.
  std::string Input(const std::vector<std::string>& corpus) {
    if (random_.OneIn(10)) return random_.Bytes(64);
    const std::string base = Pick(corpus);
    if (random_.OneIn(4)) return base;
    return random_.Mutate(base, Pick(corpus));
  }
  std::string InstanceId() {
    return random_.OneIn(2) ? absl::StrCat("fuzz-", random_.Below(8))
                            : random_.Text();
  }

  void BuildCorpus() {
    for (int i = 0; i < 4; ++i) {
      v1::CreateWorkflowInstanceRequest r =
          CreateRequest(absl::StrCat("fuzz-", i), i % 2 ? "Wait" : "Finish");
      *r.add_arguments() = Json("[1, 2]");
      (*r.mutable_metadata())["k"] = "v";
      if (i == 3) r.set_queue("other");
      creates_.push_back(r.SerializeAsString());
    }
    v1::SignalWorkflowRequest signal;
    signal.set_instance_id("fuzz-1");
    signal.set_signal_name("go");
    *signal.mutable_input() = Json("\"x\"");
    signals_.push_back(signal.SerializeAsString());
    v1::WorkerOptions options;
    options.add_queues("default");
    options.set_max_cached_workflows(3);
    options.set_workflow_task_lease_us(1'000'000);
    options_.push_back(options.SerializeAsString());
    options_.push_back("");

    v1::WorkflowActivationCompletion c;
    c.set_execution_id("run");
    auto* commands = c.mutable_successful();
    auto* activity = commands->add_commands()->mutable_schedule_activity();
    activity->set_seq(1);
    activity->set_activity_name("A");
    *activity->add_arguments() = Json("1");
    activity->mutable_retry_policy()->set_maximum_attempts(2);
    auto* timer = commands->add_commands()->mutable_start_timer();
    timer->set_seq(1);
    timer->set_duration_us(1000);
    auto* sub_workflow = commands->add_commands()->mutable_start_sub_workflow();
    sub_workflow->set_seq(1);
    sub_workflow->set_workflow_name("Finish");
    auto* signal_out =
        commands->add_commands()->mutable_signal_external_workflow();
    signal_out->set_seq(1);
    signal_out->set_instance_id("fuzz-1");
    signal_out->set_signal_name("go");
    commands->add_commands()->mutable_cancel_timer()->set_seq(1);
    commands->add_commands()->mutable_set_patch_marker()->set_patch_id("p");
    completions_.push_back(c.SerializeAsString());
    v1::WorkflowActivationCompletion done;
    done.set_execution_id("run");
    *done.mutable_successful()
         ->add_commands()
         ->mutable_complete_workflow()
         ->mutable_result() = Json("1");
    completions_.push_back(done.SerializeAsString());
    v1::WorkflowActivationCompletion can;
    can.set_execution_id("run");
    can.mutable_successful()
        ->add_commands()
        ->mutable_continue_as_new()
        ->set_workflow_name("Finish");
    completions_.push_back(can.SerializeAsString());
    v1::WorkflowActivationCompletion failed;
    failed.set_execution_id("run");
    failed.mutable_failed()->set_message("boom");
    completions_.push_back(failed.SerializeAsString());

    v1::ActivityTaskResult result;
    result.set_task_token("token");
    *result.mutable_completed() = Json("2");
    results_.push_back(result.SerializeAsString());
    result.mutable_failed()->set_type("E");
    result.mutable_failed()->mutable_cause()->set_message("m");
    results_.push_back(result.SerializeAsString());
    v1::ActivityHeartbeat beat;
    beat.set_task_token("token");
    *beat.mutable_details() = Json("3");
    heartbeats_.push_back(beat.SerializeAsString());
  }

  // Calls that take an output buffer: sometimes NULL pointers.
  struct Out {
    uint8_t* data = reinterpret_cast<uint8_t*>(0x1);  // must be reset
    size_t len = 99;
    bool null = false;
    uint8_t** data_ptr() { return null ? nullptr : &data; }
    size_t* len_ptr() { return null ? nullptr : &len; }
  };
  Out ChooseOut() {
    Out out;
    out.null = random_.OneIn(12);
    return out;
  }

  template <typename Message>
  void CheckOutput(const char* what, durable_status_t code, Out& out,
                   const Buffer* in, char** error) {
    Result r = Finish(code, error);
    CheckAnswer(what, code, r);
    if (in != nullptr && (in->huge || in->null_with_length)) {
      EXPECT_EQ(code, DURABLE_INVALID_ARGUMENT) << what << ": " << r.error;
    }
    if (out.null) {
      EXPECT_EQ(code, DURABLE_INVALID_ARGUMENT) << what << ": " << r.error;
      return;
    }
    if (code != DURABLE_OK) {
      EXPECT_EQ(out.data, nullptr) << what;
      EXPECT_EQ(out.len, 0u) << what;
      return;
    }
    ASSERT_NE(out.data, nullptr) << what;
    Message message;
    EXPECT_TRUE(message.ParseFromArray(out.data, static_cast<int>(out.len)))
        << what;
    last_output_.assign(reinterpret_cast<char*>(out.data), out.len);
    durable_free(out.data);
  }

  void CheckStatus(const char* what, durable_status_t code, const Buffer* in,
                   char** error) {
    Result r = Finish(code, error);
    CheckAnswer(what, code, r);
    if (in != nullptr && (in->huge || in->null_with_length)) {
      EXPECT_EQ(code, DURABLE_INVALID_ARGUMENT) << what << ": " << r.error;
    }
  }

  void OpenBackend() {
    std::string uri = random_.OneIn(2)
                          ? random_.Mutate("sqlite::memory:", "sqlite:")
                          : random_.Text();
    // Never let a mutation name a file: nothing may be created outside the
    // test's directory.
    if (uri.find('/') != std::string::npos || uri == "sqlite::memory:") {
      uri = "sqlite:relative.db";
    }
    uri = uri.substr(0, uri.find('\0'));
    durable_backend_t* backend = reinterpret_cast<durable_backend_t*>(0x1);
    char* error = nullptr;
    const bool null_out = random_.OneIn(8);
    durable_status_t code =
        durable_backend_open(random_.OneIn(12) ? nullptr : uri.c_str(),
                             null_out ? nullptr : &backend, &error);
    CheckStatus("durable_backend_open", code, nullptr, &error);
    if (null_out) {
      EXPECT_EQ(code, DURABLE_INVALID_ARGUMENT);
      return;
    }
    if (code == DURABLE_OK) {
      durable_backend_free(backend);
    } else {
      EXPECT_EQ(backend, nullptr);
    }
  }

  void NewClient() {
    durable_client_t* client = nullptr;
    char* error = nullptr;
    const bool null_backend = random_.OneIn(4);
    durable_status_t code =
        durable_client_new(null_backend ? nullptr : backend_,
                           random_.OneIn(8) ? nullptr : &client, &error);
    CheckStatus("durable_client_new", code, nullptr, &error);
    durable_client_free(client);
  }

  void NewWorker() {
    Buffer in = Choose(random_, Input(options_));
    durable_worker_t* worker = nullptr;
    char* error = nullptr;
    durable_status_t code = durable_worker_new(
        random_.OneIn(8) ? nullptr : backend_, in.data, in.len,
        random_.OneIn(8) ? nullptr : &worker, &error);
    CheckStatus("durable_worker_new", code, &in, &error);
    if (worker != nullptr) {
      // A throwaway worker: poll once, shut down, free.
      Out out;
      durable_status_t polled = durable_worker_poll_activity_task(
          worker, 0, out.data_ptr(), out.len_ptr(), &error);
      CheckOutput<v1::ActivityTask>("poll (new worker)", polled, out, nullptr,
                                    &error);
      if (polled == DURABLE_OK) {
        // Leave it: its lease expires; the main worker may get it later.
      }
      durable_worker_initiate_shutdown(worker);
      durable_worker_free(worker);
    }
  }

  void CreateInstance() {
    Buffer in = Choose(random_, Input(creates_));
    Out out = ChooseOut();
    char* error = nullptr;
    durable_status_t code = durable_client_create_workflow_instance(
        random_.OneIn(16) ? nullptr : client_, in.data, in.len, out.data_ptr(),
        out.len_ptr(), &error);
    CheckOutput<v1::WorkflowInstance>("create", code, out, &in, &error);
  }

  void ReadInstance() {
    const std::string id = InstanceId();
    const char* id_data = random_.OneIn(16) ? nullptr : id.data();
    size_t id_len = id.size();
    if (random_.OneIn(16)) id_len = SIZE_MAX;  // past the end: never read
    if (id_len == SIZE_MAX) id_data = nullptr;
    Out out = ChooseOut();
    char* error = nullptr;
    switch (random_.Below(4)) {
      case 0:
        CheckOutput<v1::WorkflowResult>(
            "wait",
            durable_client_wait_for_workflow_result(client_, id_data, id_len, 0,
                                                    out.data_ptr(),
                                                    out.len_ptr(), &error),
            out, nullptr, &error);
        break;
      case 1:
        CheckOutput<v1::WorkflowInstanceState>(
            "state",
            durable_client_get_workflow_instance_state(client_, id_data, id_len,
                                                       out.data_ptr(),
                                                       out.len_ptr(), &error),
            out, nullptr, &error);
        break;
      case 2:
        CheckOutput<v1::History>("history",
                                 durable_client_get_workflow_history(
                                     client_, id_data, id_len, out.data_ptr(),
                                     out.len_ptr(), &error),
                                 out, nullptr, &error);
        break;
      default:
        CheckOutput<v1::WorkflowExecutionList>(
            "executions",
            durable_client_list_workflow_executions(client_, id_data, id_len,
                                                    out.data_ptr(),
                                                    out.len_ptr(), &error),
            out, nullptr, &error);
        break;
    }
  }

  void Signal() {
    Buffer in = Choose(random_, Input(signals_));
    char* error = nullptr;
    CheckStatus(
        "signal",
        durable_client_signal_workflow(client_, in.data, in.len, &error), &in,
        &error);
  }

  void CancelInstance() {
    const std::string id = InstanceId();
    const std::string reason = random_.Text();
    const bool null_reason = random_.OneIn(10);
    char* error = nullptr;
    durable_status_t code = durable_client_cancel_workflow_instance(
        client_, id.data(), id.size(), null_reason ? nullptr : reason.data(),
        reason.size(), &error);
    CheckStatus("cancel", code, nullptr, &error);
    if (null_reason && !reason.empty()) {
      EXPECT_EQ(code, DURABLE_INVALID_ARGUMENT);
    }
  }

  // Polls an activation and answers it with a (mutated) completion for its
  // run; a refused answer is replaced by a failed completion, as the
  // bindings do, so the run never hangs.
  void PollAndAnswerActivation() {
    Out out = ChooseOut();
    char* error = nullptr;
    durable_status_t code = durable_worker_poll_workflow_activation(
        worker_, 1, out.data_ptr(), out.len_ptr(), &error);
    CheckOutput<v1::WorkflowActivation>("poll activation", code, out, nullptr,
                                        &error);
    if (code != DURABLE_OK || out.null) return;
    ++activations_;
    v1::WorkflowActivation activation;
    ASSERT_TRUE(activation.ParseFromString(last_output_));
    v1::WorkflowActivationCompletion completion;
    if (random_.OneIn(3)) {
      completion = Answer(activation);
    } else {
      v1::WorkflowActivationCompletion base;
      base.ParseFromString(Pick(completions_));
      base.set_execution_id(activation.execution_id());
      std::string bytes = base.SerializeAsString();
      if (!random_.OneIn(3)) bytes = random_.Mutate(bytes, Pick(completions_));
      if (!completion.ParseFromString(bytes)) {
        // Send the damaged bytes as they are.
        CheckStatus("complete (damaged)",
                    durable_worker_complete_workflow_activation(
                        worker_, Data(bytes), bytes.size(), &error),
                    nullptr, &error);
        completion = v1::WorkflowActivationCompletion();
      }
      completion.set_execution_id(activation.execution_id());
    }
    const std::string bytes = completion.SerializeAsString();
    code = durable_worker_complete_workflow_activation(worker_, Data(bytes),
                                                       bytes.size(), &error);
    CheckStatus("complete", code, nullptr, &error);
    if (code == DURABLE_INVALID_ARGUMENT) {
      v1::WorkflowActivationCompletion failed;
      failed.set_execution_id(activation.execution_id());
      failed.mutable_failed()->set_message("refused");
      const std::string again = failed.SerializeAsString();
      code = durable_worker_complete_workflow_activation(worker_, Data(again),
                                                         again.size(), &error);
      CheckStatus("complete (failed)", code, nullptr, &error);
      EXPECT_NE(code, DURABLE_INVALID_ARGUMENT);
    }
  }

  void CompleteGarbage() {
    Buffer in = Choose(random_, Input(completions_));
    char* error = nullptr;
    CheckStatus(
        "complete garbage",
        durable_worker_complete_workflow_activation(
            random_.OneIn(16) ? nullptr : worker_, in.data, in.len, &error),
        &in, &error);
    Buffer result = Choose(random_, Input(results_));
    CheckStatus("complete activity garbage",
                durable_worker_complete_activity_task(worker_, result.data,
                                                      result.len, &error),
                &result, &error);
    Buffer beat = Choose(random_, Input(heartbeats_));
    CheckStatus("heartbeat garbage",
                durable_worker_record_activity_heartbeat(worker_, beat.data,
                                                         beat.len, &error),
                &beat, &error);
  }

  void PollAndAnswerActivityTask() {
    Out out = ChooseOut();
    char* error = nullptr;
    durable_status_t code = durable_worker_poll_activity_task(
        worker_, 1, out.data_ptr(), out.len_ptr(), &error);
    CheckOutput<v1::ActivityTask>("poll activity", code, out, nullptr, &error);
    if (code != DURABLE_OK || out.null) return;
    ++activity_tasks_;
    v1::ActivityTask task;
    ASSERT_TRUE(task.ParseFromString(last_output_));
    v1::ActivityHeartbeat beat;
    beat.ParseFromString(random_.Mutate(Pick(heartbeats_), ""));
    beat.set_task_token(task.task_token());
    std::string bytes = beat.SerializeAsString();
    CheckStatus("heartbeat",
                durable_worker_record_activity_heartbeat(worker_, Data(bytes),
                                                         bytes.size(), &error),
                nullptr, &error);
    v1::ActivityTaskResult result;
    result.ParseFromString(random_.Mutate(Pick(results_), ""));
    result.set_task_token(task.task_token());
    bytes = result.SerializeAsString();
    code = durable_worker_complete_activity_task(worker_, Data(bytes),
                                                 bytes.size(), &error);
    CheckStatus("complete activity", code, nullptr, &error);
    if (code == DURABLE_INVALID_ARGUMENT) {
      v1::ActivityTaskResult failed;
      failed.set_task_token(task.task_token());
      failed.mutable_failed()->set_message("refused");
      bytes = failed.SerializeAsString();
      code = durable_worker_complete_activity_task(worker_, Data(bytes),
                                                   bytes.size(), &error);
      CheckStatus("complete activity (failed)", code, nullptr, &error);
      EXPECT_NE(code, DURABLE_INVALID_ARGUMENT);
    }
  }

  void Misc() {
    const int code = static_cast<int>(random_.Next());
    EXPECT_NE(durable_status_name(code), nullptr);
    durable_free(nullptr);
    char* error = nullptr;
    CheckStatus("finalize NULL",
                durable_worker_finalize_shutdown(nullptr, 0, &error), nullptr,
                &error);
  }

  Random random_;
  durable_backend_t* backend_ = nullptr;
  durable_client_t* client_ = nullptr;
  durable_worker_t* worker_ = nullptr;
  std::vector<std::string> creates_, signals_, options_, completions_, results_,
      heartbeats_;
  std::string last_output_;
  int calls_ = 0;
  int activations_ = 0;
  int activity_tasks_ = 0;
};

TEST(AbiFuzzTest, EveryEntryPointSurvivesRandomAndMutatedInput) {
  google::protobuf::LogSilencer quiet;  // protobuf logs each bad UTF-8 parse
  AbiFuzzer fuzzer(Seed());
  const absl::Time deadline = absl::Now() + kBudget;
  while (absl::Now() < deadline && fuzzer.calls() < kMaxIterations &&
         !HasFatalFailure()) {
    fuzzer.Step();
  }
  std::cout << fuzzer.calls() << " calls; answered " << fuzzer.activations()
            << " activations and " << fuzzer.activity_tasks()
            << " activity tasks" << std::endl;
  EXPECT_GT(fuzzer.calls(), 100);
  EXPECT_GT(fuzzer.activations(), 0);
}

// ---------------------------------------------------------------------------
// History replay.

using core::WorkflowStateMachine;
using v1::HistoryEvent;
using v1::WorkflowCommand;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

// The workflow every fuzzed history was recorded from: a pure function of
// the activation's jobs, so a replay issues the same commands.
v1::WorkflowActivationCompletion Script(const v1::WorkflowActivation& a) {
  v1::WorkflowActivationCompletion c;
  c.set_execution_id(a.execution_id());
  auto* commands = c.mutable_successful();
  for (const v1::WorkflowActivationJob& job : a.jobs()) {
    if (job.has_start_workflow()) {
      auto* activity = commands->add_commands()->mutable_schedule_activity();
      activity->set_seq(1);
      activity->set_activity_name("A");
      auto* timer = commands->add_commands()->mutable_start_timer();
      timer->set_seq(1);
      timer->set_duration_us(1'000'000);
      auto* sub_workflow =
          commands->add_commands()->mutable_start_sub_workflow();
      sub_workflow->set_seq(1);
      sub_workflow->set_workflow_name("SubWorkflow");
      commands->add_commands()->mutable_set_patch_marker()->set_patch_id("p");
    } else if (job.has_resolve_activity() &&
               job.resolve_activity().seq() == 1) {
      auto* activity = commands->add_commands()->mutable_schedule_activity();
      activity->set_seq(2);
      activity->set_activity_name("B");
      auto* signal =
          commands->add_commands()->mutable_signal_external_workflow();
      signal->set_seq(1);
      signal->set_instance_id("other");
      signal->set_signal_name("hello");
    } else if (job.has_fire_timer() && job.fire_timer().seq() == 1) {
      auto* timer = commands->add_commands()->mutable_start_timer();
      timer->set_seq(2);
      timer->set_duration_us(1000);
      commands->add_commands()->mutable_cancel_timer()->set_seq(2);
    } else if (job.has_signal_workflow()) {
      *commands->add_commands()->mutable_complete_workflow()->mutable_result() =
          Json("\"done\"");
    }
  }
  return c;
}

// Runs tasks live, feeding each the inbound events the previous one made
// possible, and returns the recorded history.
std::vector<HistoryEvent> RecordHistory() {
  WorkflowStateMachine m("instance", "run");
  std::vector<HistoryEvent> history;
  auto run_task = [&](std::vector<HistoryEvent> inbox, absl::Time now) {
    EXPECT_TRUE(m.StartTask(now, std::move(inbox)).ok());
    while (true) {
      auto activation = m.NextActivation();
      EXPECT_TRUE(activation.ok()) << activation.status();
      if (!activation.ok() || !activation->has_value()) break;
      EXPECT_TRUE(m.ApplyCompletion(Script(**activation)).ok());
    }
    for (HistoryEvent& e : m.TakeTaskOutput().executed_events) {
      history.push_back(std::move(e));
    }
  };
  HistoryEvent started;
  started.set_timestamp_unix_us(absl::ToUnixMicros(kT0));
  started.mutable_workflow_execution_started()->set_workflow_name("W");
  started.mutable_workflow_execution_started()->set_queue("default");
  run_task({started}, kT0);

  auto id_of = [&](HistoryEvent::AttributesCase kind, int nth) -> int64_t {
    for (const HistoryEvent& e : history) {
      if (e.attributes_case() == kind && nth-- == 0) return e.id();
    }
    return 0;
  };
  HistoryEvent activity_done, timer_fired, sub_workflow_done;
  activity_done.mutable_activity_completed()->set_scheduled_event_id(
      id_of(HistoryEvent::kActivityScheduled, 0));
  *activity_done.mutable_activity_completed()->mutable_result() = Json("1");
  timer_fired.mutable_timer_fired()->set_scheduled_event_id(
      id_of(HistoryEvent::kTimerScheduled, 0));
  sub_workflow_done.mutable_sub_workflow_completed()->set_scheduled_event_id(
      id_of(HistoryEvent::kSubWorkflowScheduled, 0));
  run_task({activity_done, timer_fired, sub_workflow_done},
           kT0 + absl::Seconds(1));

  HistoryEvent second_done, signal;
  second_done.mutable_activity_completed()->set_scheduled_event_id(
      id_of(HistoryEvent::kActivityScheduled, 1));
  signal.mutable_signal_received()->set_signal_name("finish");
  run_task({second_done, signal}, kT0 + absl::Seconds(2));
  return history;
}

// Message-level damage: events dropped, duplicated, swapped, renumbered,
// emptied or pointed elsewhere.
void Damage(Random& random, std::vector<HistoryEvent>& events) {
  if (events.empty()) return;
  const size_t i = random.Below(events.size());
  const size_t j = random.Below(events.size());
  switch (random.Below(8)) {
    case 0:
      events.erase(events.begin() + i);
      break;
    case 1:
      events.insert(events.begin() + i, events[j]);
      break;
    case 2:
      std::swap(events[i], events[j]);
      break;
    case 3:
      events[i].set_id(static_cast<int64_t>(random.Next() % 64) - 8);
      break;
    case 4:
      events[i].clear_attributes();
      break;
    case 5:
      events.resize(i);
      break;
    case 6: {
      // Point a resolution at another event.
      const int64_t target = static_cast<int64_t>(random.Below(40)) - 4;
      if (events[i].has_activity_completed()) {
        events[i].mutable_activity_completed()->set_scheduled_event_id(target);
      } else if (events[i].has_timer_fired()) {
        events[i].mutable_timer_fired()->set_scheduled_event_id(target);
      } else if (events[i].has_sub_workflow_completed()) {
        events[i].mutable_sub_workflow_completed()->set_scheduled_event_id(
            target);
      } else {
        events[i].set_timestamp_unix_us(random.OneIn(2) ? INT64_MAX
                                                        : INT64_MIN);
      }
      break;
    }
    default: {
      // Another event's attributes under this event's id.
      const int64_t id = events[i].id();
      events[i] = events[j];
      events[i].set_id(id);
      break;
    }
  }
}

// Replays `events` with the recording workflow. Damage must be reported as
// DATA_LOSS or INVALID_ARGUMENT when history is loaded or walked; answers
// that no longer match are NON_DETERMINISM (or another error), never a
// crash. Returns a short outcome name.
std::string Replay(const std::vector<HistoryEvent>& events) {
  WorkflowStateMachine m("instance", "run");
  absl::Status loaded = m.LoadHistory(events);
  if (!loaded.ok()) {
    EXPECT_TRUE(absl::IsDataLoss(loaded) || absl::IsInvalidArgument(loaded))
        << "LoadHistory: " << loaded;
    return absl::StrCat("load:", absl::StatusCodeToString(loaded.code()));
  }
  absl::Status started = m.StartTask(kT0 + absl::Seconds(3), {});
  if (!started.ok()) {
    return absl::StrCat("start:", absl::StatusCodeToString(started.code()));
  }
  for (int step = 0; step < 100; ++step) {
    auto activation = m.NextActivation();
    if (!activation.ok()) {
      EXPECT_TRUE(absl::IsDataLoss(activation.status()) ||
                  absl::IsInvalidArgument(activation.status()))
          << "NextActivation: " << activation.status();
      return absl::StrCat("next:",
                          absl::StatusCodeToString(activation.status().code()));
    }
    if (!activation->has_value()) return "replayed";
    absl::Status applied = m.ApplyCompletion(Script(**activation));
    if (!applied.ok()) {
      return core::IsNonDeterminism(applied)
                 ? "apply:NON_DETERMINISM"
                 : absl::StrCat("apply:",
                                absl::StatusCodeToString(applied.code()));
    }
  }
  return "steps";
}

TEST(HistoryFuzzTest, DamagedHistoriesAreReportedNeverCrash) {
  google::protobuf::LogSilencer quiet;
  Random random(Seed());
  const std::vector<HistoryEvent> recorded = RecordHistory();
  ASSERT_GE(recorded.size(), 12u);
  ASSERT_EQ(Replay(recorded), "replayed");  // the undamaged history replays

  v1::History whole;
  for (const HistoryEvent& e : recorded) *whole.add_events() = e;
  const std::string serialized = whole.SerializeAsString();

  std::map<std::string, int> outcomes;
  int runs = 0;
  const absl::Time deadline = absl::Now() + kBudget;
  while (absl::Now() < deadline && runs < kMaxIterations && !HasFailure()) {
    ++runs;
    std::vector<HistoryEvent> events;
    if (random.OneIn(2)) {
      // Bytes as a store might hand them back.
      v1::History history;
      if (!history.ParseFromString(random.Mutate(serialized, serialized))) {
        ++outcomes["parse:refused"];  // a store reports DATA_LOSS
        continue;
      }
      events.assign(history.events().begin(), history.events().end());
    } else {
      events = recorded;
      for (size_t n = 1 + random.Below(3); n > 0; --n) Damage(random, events);
    }
    ++outcomes[Replay(events)];
  }
  for (const auto& [outcome, count] : outcomes) {
    std::cout << outcome << ": " << count << std::endl;
  }
  std::cout << runs << " histories" << std::endl;
  EXPECT_GT(runs, 100);
}

}  // namespace
}  // namespace durable::capi_test
