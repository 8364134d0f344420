#include "backends/sql/task_poll.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/proto/service.pb.h"

namespace durable::backends::sql {
namespace {

constexpr int64_t kActive = v1::WORKFLOW_STATE_ACTIVE;

// Appends `values` to `bound` and returns their placeholders, "?k, ?k+1,
// ...", numbered after the values bound before them (?1 is the time).
std::string Bind(const std::vector<std::string>& values,
                 std::vector<std::string>* bound) {
  std::string out;
  for (const std::string& value : values) {
    bound->push_back(value);
    absl::StrAppend(&out, out.empty() ? "?" : ", ?", bound->size() + 1);
  }
  return out;
}

// The TaskNameFilter as a condition on the columns `name` and `queue`
// (empty: every task matches). Truth values are comparisons, never bare
// 0/1, which PostgreSQL does not take as booleans.
std::string NameCondition(const core::TaskNameFilter& filter,
                          absl::string_view name, absl::string_view queue,
                          std::vector<std::string>* bound) {
  if (!filter.restricted) return "";
  // Tasks other live workers of their queue may run.
  std::vector<std::string> claimed;
  for (const auto& [claimed_queue, claims] : filter.claimed) {
    if (!claims.all && claims.names.empty()) continue;
    std::string clause =
        absl::StrCat("(", queue, " = ", Bind({claimed_queue}, bound));
    if (!claims.all) {
      absl::StrAppend(&clause, " AND ", name, " IN (",
                      Bind(claims.names, bound), ")");
    }
    claimed.push_back(absl::StrCat(clause, ")"));
  }
  if (claimed.empty()) return "";  // Nobody else: every task.
  // The poller's own names are bound after the claims.
  const std::string own =
      filter.names.empty()
          ? "1 = 0"
          : absl::StrCat(name, " IN (", Bind(filter.names, bound), ")");
  return absl::StrCat(" AND (", own, " OR NOT (",
                      absl::StrJoin(claimed, " OR "), "))");
}

}  // namespace

TaskPoll::TaskPoll(TaskKind kind, const std::vector<std::string>& queues,
                   const core::TaskNameFilter& names, const Dialect& dialect)
    : kind_(kind) {
  const std::string in_queues = Bind(queues, &values_);
  if (kind == TaskKind::kWorkflow) {
    // Walks visible inbox events in (visible_at, id) order and looks each
    // one's execution up by primary key, stopping at the first ready one:
    // O(events skipped), not O(active instances). The dialect's ordered
    // join keeps the planner to that loop order.
    pick_sql_ = absl::StrCat(
        "SELECT i.instance_id, i.execution_id, i.queue, i.history_length, "
        "i.metadata, i.workflow_name, i.parent FROM inbox e",
        dialect.ordered_join,
        "instances i ON i.instance_id = e.instance_id "
        "AND i.execution_id = e.execution_id "
        "WHERE e.visible_at <= ?1 AND i.state = ",
        kActive,
        " AND i.ready_at <= ?1 "
        "AND (i.lease_token IS NULL OR i.lease_expires_at <= ?1) "
        "AND i.queue IN (",
        in_queues, ")",
        NameCondition(names, "i.workflow_name", "i.queue", &values_),
        " ORDER BY e.visible_at, e.id LIMIT 1");
  } else {
    pick_sql_ = absl::StrCat(
        "SELECT id, activity_id, instance_id, execution_id, queue, "
        "scheduled_event, attempt, metadata, scheduled_at FROM activities "
        "WHERE visible_at <= ?1 "
        "AND (lease_token IS NULL OR lease_expires_at <= ?1) "
        "AND queue IN (",
        in_queues, ")",
        NameCondition(names, "activity_name", "queue", &values_),
        " ORDER BY visible_at, id LIMIT 1");
  }
  lease_pick_sql_ = absl::StrCat(pick_sql_, dialect.skip_locked);
  // The SQL fixes kind and filter shape; the values fill in the rest.
  key_ = absl::StrCat(pick_sql_, "\x1e", absl::StrJoin(values_, "\x1f"));
}

}  // namespace durable::backends::sql
