#include "testing/servers/process_table.h"

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace durable::testing {

std::optional<ProcessInfo> ReadProcess(pid_t pid) {
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!std::getline(stat_file, stat)) return std::nullopt;
  // "PID (COMM) STATE PPID PGRP ... STARTTIME(22nd) ...": COMM may contain
  // spaces and parentheses, so parse from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  if (fields.size() < 20) return std::nullopt;
  ProcessInfo info;
  info.state = fields[0][0];
  int parent = 0;
  int group = 0;
  if (!absl::SimpleAtoi(fields[1], &parent) ||
      !absl::SimpleAtoi(fields[2], &group) ||
      !absl::SimpleAtoi(fields[19], &info.start_ticks)) {
    return std::nullopt;
  }
  info.parent = parent;
  info.process_group = group;
  std::ifstream status_file(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status_file, line);) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "Uid:")) {
      std::vector<std::string> ids =
          absl::StrSplit(rest, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      unsigned int uid = 0;
      if (!ids.empty() && absl::SimpleAtoi(ids[0], &uid)) info.uid = uid;
    }
  }
  return info;
}

bool StillRunning(pid_t pid, unsigned long long start_ticks) {
  std::optional<ProcessInfo> info = ReadProcess(pid);
  return info.has_value() && info->state != 'Z' &&
         info->start_ticks == start_ticks;
}

std::vector<ProcessRef> ProcessTree(pid_t pid) {
  std::optional<ProcessInfo> root = ReadProcess(pid);
  if (!root.has_value() || root->state == 'Z') return {};
  // Every live process with its parent, then a walk down from `pid`.
  std::vector<std::pair<ProcessRef, pid_t>> all;
  if (DIR* proc = opendir("/proc")) {
    while (dirent* entry = readdir(proc)) {
      int other = 0;
      if (!absl::SimpleAtoi(entry->d_name, &other)) continue;
      std::optional<ProcessInfo> info = ReadProcess(other);
      if (info.has_value() && info->state != 'Z') {
        all.push_back({{other, info->start_ticks}, info->parent});
      }
    }
    closedir(proc);
  }
  std::vector<ProcessRef> tree = {{pid, root->start_ticks}};
  for (size_t next = 0; next < tree.size(); ++next) {
    for (const auto& [process, parent] : all) {
      if (parent == tree[next].pid) tree.push_back(process);
    }
  }
  return tree;
}

std::vector<ProcessRef> WaitUntilAllGone(
    const std::vector<ProcessRef>& processes, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::vector<ProcessRef> running = processes;
  while (true) {
    std::vector<ProcessRef> still;
    for (const ProcessRef& process : running) {
      if (StillRunning(process.pid, process.start_ticks)) {
        still.push_back(process);
      }
    }
    running = std::move(still);
    if (running.empty() || absl::Now() >= deadline) return running;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace durable::testing
