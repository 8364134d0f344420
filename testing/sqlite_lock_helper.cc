// A helper process for sqlite_write_lock_test.cc: the other process on the
// same SQLite file.
//
//   sqlite_lock_helper mode=hold db=<file> log=<file>
//     Takes SQLite's write lock on <db> with a raw connection (BEGIN
//     IMMEDIATE), appends "locked" to <log> and holds the lock until it is
//     killed (at most 60 s): a worker stopped or stalled in the middle of a
//     write transaction.
//   sqlite_lock_helper mode=poll db=<file> log=<file>
//     Idle pollers on queue "q" of a SqliteStore: one thread polls workflow
//     tasks, one activity tasks, each poll waiting at most 100 ms. Appends
//     "ready" once the backend is open, then one line per poll: "empty", or
//     "error <status>"; a workflow task is finished at once and logged as
//     "finished <instance>". Stops on SIGTERM (exit code 0).
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/conformance/history_events.h"
#include "backends/sqlite/sqlite_store.h"
#include "core/storage/store.h"

namespace {

std::atomic<bool> stop_requested{false};

void OnSigterm(int) { stop_requested.store(true); }

// Appends one line to `path` atomically (O_APPEND).
void Append(const std::string& path, const std::string& line) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return;
  const std::string text = line + "\n";
  ssize_t written = write(fd, text.data(), text.size());
  (void)written;
  close(fd);
}

int Hold(const std::string& db_path, const std::string& log) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) !=
      SQLITE_OK) {
    std::cerr << "sqlite_lock_helper: cannot open " << db_path << "\n";
    return 1;
  }
  sqlite3_busy_timeout(db, 10000);
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    std::cerr << "sqlite_lock_helper: BEGIN IMMEDIATE failed: "
              << sqlite3_errmsg(db) << "\n";
    return 1;
  }
  Append(log, "locked");
  absl::SleepFor(absl::Seconds(60));
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return 0;
}

int Poll(const std::string& db_path, const std::string& log) {
  durable::backends::sqlite::SqliteOptions options;
  options.path = db_path;
  auto opened = durable::backends::sqlite::SqliteStore::Open(options);
  if (!opened.ok()) {
    std::cerr << "sqlite_lock_helper: " << opened.status() << "\n";
    return 1;
  }
  std::unique_ptr<durable::core::Store> backend = *std::move(opened);
  const std::vector<std::string> queues = {"q"};
  const absl::Duration lease = absl::Seconds(30);
  const absl::Duration wait = absl::Milliseconds(100);
  Append(log, "ready");
  std::thread workflows([&] {
    while (!stop_requested.load()) {
      auto task =
          backend->GetWorkflowTask(queues, lease, absl::Now() + wait, nullptr);
      if (!task.ok()) {
        Append(log, absl::StrCat("error ", task.status().ToString()));
      } else if (!task->has_value()) {
        Append(log, "empty");
      } else {
        const durable::core::WorkflowTask& leased = **task;
        durable::core::WorkflowTaskCompletion completion;
        completion.executed_events = durable::testing::TaskEvents(leased);
        completion.executed_events.push_back(durable::testing::Finished(
            leased.history_length + 1 +
                static_cast<int64_t>(completion.executed_events.size()),
            "done"));
        completion.state = durable::v1::WORKFLOW_STATE_FINISHED;
        absl::Status done = backend->CompleteWorkflowTask(leased, completion);
        Append(log, done.ok() ? absl::StrCat("finished ", leased.instance_id)
                              : absl::StrCat("error ", done.ToString()));
      }
    }
  });
  std::thread activities([&] {
    while (!stop_requested.load()) {
      auto task =
          backend->GetActivityTask(queues, lease, absl::Now() + wait, nullptr);
      if (!task.ok()) {
        Append(log, absl::StrCat("error ", task.status().ToString()));
      } else {
        Append(log, task->has_value() ? "unexpected activity" : "empty");
      }
    }
  });
  workflows.join();
  activities.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(argv[i], absl::MaxSplits('=', 1));
    args[kv.first] = kv.second;
  }
  signal(SIGTERM, OnSigterm);
  const std::string& mode = args["mode"];
  if (mode == "hold") return Hold(args["db"], args["log"]);
  if (mode == "poll") return Poll(args["db"], args["log"]);
  std::cerr << "usage: sqlite_lock_helper mode=hold|poll db=FILE log=FILE\n";
  return 2;
}
