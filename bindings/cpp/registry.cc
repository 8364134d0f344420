#include "durable/registry.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace durable {
namespace internal {

absl::Status PanicStatus(const std::exception& e) {
  return FailureStatus(kPanicFailure, e.what());
}

absl::Status UnknownPanicStatus() {
  return FailureStatus(kPanicFailure,
                       "an exception not derived from std::exception");
}

}  // namespace internal

namespace {

template <class Map>
std::vector<std::string> SortedKeys(const Map& map) {
  std::vector<std::string> names;
  names.reserve(map.size());
  for (const auto& [name, unused] : map) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

template <class Map>
const typename Map::mapped_type* Find(const Map& map, absl::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}

absl::Status CheckName(absl::string_view kind, absl::string_view name,
                       bool taken) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot register a ", kind, " with an empty name"));
  }
  if (taken) {
    return absl::AlreadyExistsError(
        absl::StrCat(kind, " \"", name, "\" is already registered"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Registry::AddWorkflow(std::string name, internal::FunctionKey key,
                                   WorkflowFactory factory) {
  absl::Status status = CheckName("workflow", name, workflows_.contains(name));
  if (!status.ok()) return status;
  // A function registered under several names is called by its first one.
  workflow_names_.try_emplace(key, name);
  workflows_.emplace(std::move(name), std::move(factory));
  return absl::OkStatus();
}

absl::Status Registry::AddActivity(std::string name, internal::FunctionKey key,
                                   ActivityInvoker invoker) {
  absl::Status status = CheckName("activity", name, activities_.contains(name));
  if (!status.ok()) return status;
  activity_names_.try_emplace(key, name);
  activities_.emplace(std::move(name), std::move(invoker));
  return absl::OkStatus();
}

const Registry::WorkflowFactory* Registry::FindWorkflow(
    absl::string_view name) const {
  return Find(workflows_, name);
}

const Registry::ActivityInvoker* Registry::FindActivity(
    absl::string_view name) const {
  return Find(activities_, name);
}

std::optional<std::string> Registry::WorkflowName(
    internal::FunctionKey fn) const {
  auto it = workflow_names_.find(fn);
  if (it == workflow_names_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Registry::ActivityName(
    internal::FunctionKey fn) const {
  auto it = activity_names_.find(fn);
  if (it == activity_names_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Registry::WorkflowNames() const {
  return SortedKeys(workflows_);
}

std::vector<std::string> Registry::ActivityNames() const {
  return SortedKeys(activities_);
}

}  // namespace durable
