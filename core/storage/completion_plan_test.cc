#include "core/storage/completion_plan.h"

#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/storage/store.h"
#include "core/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixMicros(1'700'000'000'123'456);

// Deterministic ids: "id-1", "id-2", ... (reset per test).
int next_id = 0;
std::string CountingId() { return absl::StrCat("id-", ++next_id); }

// The task every test plans for. A reference to one long-lived object: a
// plan borrows from its task (completion_plan.h), so a temporary would
// leave the plan dangling once the statement that made it ended.
const WorkflowTask& Task() {
  static const WorkflowTask* const task = [] {
    auto* task = new WorkflowTask;
    task->instance_id = "i1";
    task->execution_id = "e1";
    task->queue = "wq";
    task->lease_token = "lease";
    task->history_length = 2;
    task->inbox_cursor = "7:99";
    return task;
  }();
  return *task;
}

v1::HistoryEvent Event(int64_t id) {
  v1::HistoryEvent event;
  event.set_id(id);
  event.mutable_workflow_task_started();
  return event;
}

v1::HistoryEvent Scheduled(int64_t id, const std::string& name,
                           const std::string& queue) {
  v1::HistoryEvent event;
  event.set_id(id);
  event.mutable_activity_scheduled()->set_activity_name(name);
  event.mutable_activity_scheduled()->set_queue(queue);
  return event;
}

ActivityTaskSpec Spec(int64_t id, const std::string& spec_queue,
                      const std::string& event_queue) {
  ActivityTaskSpec spec;
  spec.scheduled_event = Scheduled(id, absl::StrCat("act", id), event_queue);
  spec.queue = spec_queue;
  spec.metadata = {{"k", "v"}};
  return spec;
}

v1::HistoryEvent Started(const std::string& queue,
                         const std::string& parent_instance = "") {
  v1::HistoryEvent event;
  auto* started = event.mutable_workflow_execution_started();
  started->set_workflow_name("sub");
  started->set_queue(queue);
  if (!parent_instance.empty()) {
    started->mutable_parent()->set_instance_id(parent_instance);
    started->mutable_parent()->set_execution_id("pe");
    started->mutable_parent()->set_scheduled_event_id(5);
  }
  return event;
}

v1::HistoryEvent Signal(const std::string& name) {
  v1::HistoryEvent event;
  event.mutable_signal_received()->set_signal_name(name);
  return event;
}

OutboundEvent To(const std::string& instance, const std::string& execution,
                 v1::HistoryEvent event) {
  OutboundEvent outbound;
  outbound.instance_id = instance;
  outbound.execution_id = execution;
  outbound.event = std::move(event);
  return outbound;
}

// A completion of Task() that appends events 3 and 4.
WorkflowTaskCompletion Completion() {
  WorkflowTaskCompletion completion;
  completion.executed_events = {Event(3), Event(4)};
  completion.state = v1::WORKFLOW_STATE_ACTIVE;
  return completion;
}

PlanInputs Inputs() {
  next_id = 0;
  PlanInputs inputs;
  inputs.history_length = 2;
  inputs.now = kNow;
  inputs.eager_wanted = true;
  inputs.new_id = &CountingId;
  return inputs;
}

TEST(ActivityQueueForTest, SpecThenEventThenWorkflow) {
  EXPECT_EQ(ActivityQueueFor(Spec(3, "sq", "aq"), "wq"), "sq");
  EXPECT_EQ(ActivityQueueFor(Spec(3, "", "aq"), "wq"), "aq");
  EXPECT_EQ(ActivityQueueFor(Spec(3, "", ""), "wq"), "wq");
}

TEST(PolledQueuesTest, DefaultQueueWhenNoneIsGiven) {
  EXPECT_THAT(PolledQueues({}), ElementsAre(kDefaultQueue));
  EXPECT_THAT(PolledQueues({"a", "b"}), ElementsAre("a", "b"));
}

TEST(PlanCompletionTest, AppendsHistoryNumberedFromTheStoredLength) {
  const WorkflowTask task = Task();
  const WorkflowTaskCompletion completion = Completion();
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->execution.instance_id, "i1");
  EXPECT_EQ(plan->execution.execution_id, "e1");
  EXPECT_EQ(plan->now, kNow);
  // Borrowed, not copied.
  EXPECT_EQ(plan->history.data(), completion.executed_events.data());
  EXPECT_EQ(plan->history.size(), 2u);
  EXPECT_EQ(plan->update.history_length, 4);
}

TEST(PlanCompletionTest, RefusesEventsNotNumberedFromTheStoredLength) {
  const WorkflowTask task = Task();
  WorkflowTaskCompletion completion = Completion();
  completion.executed_events[1].set_id(5);
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(task, completion, Inputs());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("history of workflow instance \"i1\": executed event "
                        "1 has id 5, expected 4"));

  // The store's length is what counts, not the task's.
  PlanInputs inputs = Inputs();
  inputs.history_length = 3;
  const WorkflowTaskCompletion appends_3_and_4 = Completion();
  plan = PlanCompletion(task, appends_3_and_4, inputs);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("has id 3, expected 4"));
}

TEST(PlanCompletionTest, RefusesACompletionWithoutState) {
  WorkflowTaskCompletion completion = Completion();
  completion.state = v1::WORKFLOW_STATE_UNSPECIFIED;
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, Inputs());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("completion of workflow instance \"i1\" has no state"));
  EXPECT_EQ(CheckCompletion(Task(), completion).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PlanCompletionTest, ConsumesTheTaskCursorUnlessFused) {
  const WorkflowTask task = Task();
  const WorkflowTaskCompletion completion = Completion();
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->consume_inbox.has_value());
  EXPECT_EQ(*plan->consume_inbox, "7:99");

  PlanInputs fused = Inputs();
  fused.consume_inbox = false;
  plan = PlanCompletion(task, completion, fused);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->consume_inbox.has_value());
}

TEST(PlanCompletionTest, ActivitiesGetFinalIdsAndQueues) {
  const WorkflowTask task = Task();
  WorkflowTaskCompletion completion = Completion();
  completion.activities = {Spec(3, "sq", "aq"), Spec(4, "", "aq"),
                           Spec(12, "", "")};
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->activities.size(), 3u);
  EXPECT_EQ(plan->activities[0].activity_id, "e1:3");
  EXPECT_EQ(plan->activities[0].queue, "sq");
  EXPECT_EQ(plan->activities[1].activity_id, "e1:4");
  EXPECT_EQ(plan->activities[1].queue, "aq");
  EXPECT_EQ(plan->activities[2].activity_id, "e1:12");
  EXPECT_EQ(plan->activities[2].queue, "wq");
  EXPECT_EQ(plan->activities[2].spec, &completion.activities[2]);
  EXPECT_EQ(ScheduledEventIdOf(plan->activities[2].activity_id), 12);
  for (const PlannedActivity& activity : plan->activities) {
    EXPECT_TRUE(activity.lease_token.empty());  // Nobody asked for eager.
  }
}

TEST(PlanCompletionTest, LeasesAPrefixEagerly) {
  const WorkflowTask task = Task();
  WorkflowTaskCompletion completion = Completion();
  completion.activities = {Spec(3, "", "q"), Spec(4, "", "q"),
                           Spec(5, "", "q")};
  completion.eager_activities = 2;
  completion.eager_activity_lease = absl::Seconds(30);
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->activities[0].lease_token, "id-1");
  EXPECT_EQ(plan->activities[1].lease_token, "id-2");
  EXPECT_EQ(plan->activities[2].lease_token, "");
  EXPECT_EQ(plan->eager_lease_expires_at, kNow + absl::Seconds(30));

  // Clamped to the activities there are.
  completion.eager_activities = 7;
  plan = PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->activities[2].lease_token, "id-3");
  completion.eager_activities = -1;
  plan = PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->activities[0].lease_token, "");

  // Not without a caller to hand them to.
  completion.eager_activities = 2;
  PlanInputs unwanted = Inputs();
  unwanted.eager_wanted = false;
  plan = PlanCompletion(task, completion, unwanted);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->activities[0].lease_token, "");

  // Not when the execution's rows are about to go.
  completion.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
  completion.next_execution_id = "e2";
  completion.remove_previous_executions = true;
  plan = PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->drop_previous_executions);
  EXPECT_EQ(plan->activities[0].lease_token, "");
}

TEST(PlanCompletionTest, FinishTimeIsTheCompletionTimeOrNow) {
  const WorkflowTask task = Task();
  WorkflowTaskCompletion completion = Completion();
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->update.finished_at.has_value());
  EXPECT_FALSE(plan->settle_inbox.has_value());

  completion.state = v1::WORKFLOW_STATE_FINISHED;
  completion.result.emplace();
  plan = PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->update.state, v1::WORKFLOW_STATE_FINISHED);
  EXPECT_EQ(plan->update.finished_at, kNow);
  EXPECT_EQ(plan->update.result, &completion.result.value());
  ASSERT_TRUE(plan->settle_inbox.has_value());
  EXPECT_EQ(plan->settle_inbox->next_execution_id, "");

  completion.completed_at = kNow - absl::Seconds(3);
  plan = PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->update.finished_at, kNow - absl::Seconds(3));
}

TEST(PlanCompletionTest, EndedInboxCarriesSignalsAndCancellationsOnly) {
  WorkflowTaskCompletion completion = Completion();
  completion.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
  completion.next_execution_id = "e2";
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, Inputs());
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->settle_inbox.has_value());
  EXPECT_EQ(plan->settle_inbox->next_execution_id, "e2");
  EXPECT_FALSE(plan->drop_previous_executions);
  auto carries = plan->settle_inbox->carries_over;
  EXPECT_TRUE(carries(Signal("s")));
  v1::HistoryEvent cancel;
  cancel.mutable_workflow_execution_canceled();
  EXPECT_TRUE(carries(cancel));
  v1::HistoryEvent timer;
  timer.mutable_timer_fired();
  EXPECT_FALSE(carries(timer));
  v1::HistoryEvent result;
  result.mutable_activity_completed();
  EXPECT_FALSE(carries(result));
}

// Whatever the order of the commands, executions start before anything is
// delivered.
TEST(PlanCompletionTest, StartsComeBeforeDeliveriesInCompletionOrder) {
  WorkflowTaskCompletion completion = Completion();
  completion.outbound_events = {
      To("sub", "", Signal("early")), To("sub", "ce", Started("q")),
      To("i1", "e1", Signal("timer")), To("other", "", Started("q"))};
  completion.outbound_events[2].visible_at = kNow + absl::Minutes(1);
  completion.outbound_events[2].key = "timer/3";
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, Inputs());
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->outbound.size(), 4u);
  const auto* first = std::get_if<ExecutionStart>(&plan->outbound[0]);
  const auto* second = std::get_if<ExecutionStart>(&plan->outbound[1]);
  const auto* third = std::get_if<Delivery>(&plan->outbound[2]);
  const auto* fourth = std::get_if<Delivery>(&plan->outbound[3]);
  ASSERT_TRUE(first && second && third && fourth);
  EXPECT_EQ(first->instance_id, "sub");
  EXPECT_EQ(first->execution_id, "ce");
  EXPECT_EQ(first->created_at, kNow);
  EXPECT_EQ(first->visible_at, kNow);
  EXPECT_EQ(second->instance_id, "other");
  // Assigned by the planner when the event names none.
  EXPECT_EQ(second->execution_id, "id-1");
  EXPECT_EQ(third->instance_id, "sub");
  EXPECT_EQ(third->execution_id, "");  // The store resolves it.
  EXPECT_EQ(third->event->signal_received().signal_name(), "early");
  EXPECT_EQ(third->visible_at, kNow);
  EXPECT_EQ(fourth->event->signal_received().signal_name(), "timer");
  EXPECT_EQ(fourth->visible_at, kNow + absl::Minutes(1));
  EXPECT_EQ(fourth->key, "timer/3");
  // Borrowed from the completion.
  EXPECT_EQ(third->event, &completion.outbound_events[0].event);
  EXPECT_EQ(&first->started(), &completion.outbound_events[1].event);
}

TEST(PlanCompletionTest, RefusedSubWorkflowStartTellsTheParentPrebuilt) {
  WorkflowTaskCompletion completion = Completion();
  completion.outbound_events = {To("sub", "ce", Started("q", "parent")),
                                To("next", "ne", Started("q"))};
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, Inputs());
  ASSERT_TRUE(plan.ok());
  const auto& start = std::get<ExecutionStart>(plan->outbound[0]);
  ASSERT_TRUE(start.refused_notice.has_value());
  EXPECT_EQ(start.refused_notice->instance_id, "parent");
  EXPECT_EQ(start.refused_notice->execution_id, "pe");
  const v1::HistoryEvent& notice = start.refused_notice->event;
  EXPECT_EQ(notice.timestamp_unix_us(), core::ToUnixMicros(kNow));
  ASSERT_TRUE(notice.has_sub_workflow_failed());
  EXPECT_EQ(notice.sub_workflow_failed().scheduled_event_id(), 5);
  EXPECT_EQ(notice.sub_workflow_failed().failure().type(),
            "InstanceAlreadyExists");
  EXPECT_TRUE(notice.sub_workflow_failed().failure().non_retryable());
  EXPECT_THAT(notice.sub_workflow_failed().failure().message(),
              HasSubstr("\"sub\""));
  // No parent, nobody to tell.
  EXPECT_FALSE(
      std::get<ExecutionStart>(plan->outbound[1]).refused_notice.has_value());
}

TEST(PlanCompletionTest, StartedEventsAreNormalizedOnlyWhenNeeded) {
  WorkflowTaskCompletion completion = Completion();
  v1::HistoryEvent numbered = Started("q");
  numbered.set_id(9);
  completion.outbound_events = {To("a", "x", Started("")),
                                To("b", "y", numbered)};
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, Inputs());
  ASSERT_TRUE(plan.ok());
  const auto& a = std::get<ExecutionStart>(plan->outbound[0]);
  EXPECT_EQ(a.attributes().queue(), kDefaultQueue);
  EXPECT_NE(&a.started(), &completion.outbound_events[0].event);
  const auto& b = std::get<ExecutionStart>(plan->outbound[1]);
  EXPECT_EQ(b.started().id(), 0);
  EXPECT_EQ(b.attributes().queue(), "q");
  // A moved start keeps its normalized copy.
  ExecutionStart moved = std::get<ExecutionStart>(std::move(plan->outbound[0]));
  EXPECT_EQ(moved.attributes().queue(), kDefaultQueue);
}

// A PlanExecutor that records the primitives it was asked for.
class RecordingExecutor : public PlanExecutor {
 public:
  std::vector<std::string> calls;
  StartOutcome start_outcome = StartOutcome::kStarted;
  bool deliver_result = true;
  std::vector<Delivery> deliveries;

  absl::Status AppendHistory(
      const ExecutionKey& execution,
      absl::Span<const v1::HistoryEvent> events) override {
    calls.push_back(absl::StrCat("append ", execution.instance_id, "/",
                                 execution.execution_id, " ", events.size()));
    return absl::OkStatus();
  }
  absl::Status ConsumeInbox(const ExecutionKey&,
                            absl::string_view cursor) override {
    calls.push_back(absl::StrCat("consume ", cursor));
    return absl::OkStatus();
  }
  absl::Status WithdrawKeyedEvents(
      const ExecutionKey&, absl::Span<const std::string> keys) override {
    calls.push_back(absl::StrCat("withdraw ", keys.size()));
    return absl::OkStatus();
  }
  absl::Status EnqueueActivity(const ExecutionKey&,
                               const PlannedActivity& activity, absl::Time,
                               absl::Time) override {
    calls.push_back(absl::StrCat("enqueue ", activity.activity_id));
    return absl::OkStatus();
  }
  absl::Status UpdateExecution(const ExecutionKey&,
                               const ExecutionUpdate& update) override {
    calls.push_back(absl::StrCat("update ", update.state));
    return absl::OkStatus();
  }
  absl::StatusOr<StartOutcome> StartExecution(
      const ExecutionStart& start) override {
    calls.push_back(absl::StrCat("start ", start.instance_id));
    return start_outcome;
  }
  absl::StatusOr<bool> Deliver(const Delivery& delivery) override {
    calls.push_back(absl::StrCat("deliver ", delivery.instance_id));
    deliveries.push_back(delivery);
    return deliver_result;
  }
  absl::Status SettleEndedInbox(const ExecutionKey&,
                                const InboxSettlement& settlement) override {
    calls.push_back(absl::StrCat("settle ", settlement.next_execution_id));
    return absl::OkStatus();
  }
  absl::Status DropPreviousExecutions(absl::string_view instance_id) override {
    calls.push_back(absl::StrCat("drop ", instance_id));
    return absl::OkStatus();
  }
};

TEST(ExecutePlanTest, RunsThePrimitivesInPlanOrder) {
  const WorkflowTask task = Task();
  WorkflowTaskCompletion completion = Completion();
  completion.canceled_event_keys = {"timer/1"};
  completion.activities = {Spec(3, "", "q"), Spec(4, "", "q")};
  completion.state = v1::WORKFLOW_STATE_CONTINUED_AS_NEW;
  completion.next_execution_id = "e2";
  completion.remove_previous_executions = true;
  completion.outbound_events = {To("x", "", Signal("s")),
                                To("i1", "e2", Started("q"))};
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  RecordingExecutor store;
  WorkflowTaskCommitResult result;
  ASSERT_TRUE(ExecutePlan(*plan, store, &result).ok());
  EXPECT_THAT(
      store.calls,
      ElementsAre("append i1/e1 2", "consume 7:99", "withdraw 1",
                  "enqueue e1:3", "enqueue e1:4",
                  absl::StrCat("update ", v1::WORKFLOW_STATE_CONTINUED_AS_NEW),
                  "start i1", "deliver x", "settle e2", "drop i1"));
  EXPECT_TRUE(result.workflow_task_committed);
  EXPECT_TRUE(result.eager_activities.empty());
}

TEST(ExecutePlanTest, SkipsEmptySteps) {
  WorkflowTaskCompletion completion;
  completion.state = v1::WORKFLOW_STATE_ACTIVE;
  PlanInputs inputs = Inputs();
  inputs.consume_inbox = false;
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, inputs);
  ASSERT_TRUE(plan.ok());
  RecordingExecutor store;
  ASSERT_TRUE(ExecutePlan(*plan, store, nullptr).ok());
  EXPECT_THAT(store.calls,
              ElementsAre(absl::StrCat("update ", v1::WORKFLOW_STATE_ACTIVE)));
}

TEST(ExecutePlanTest, ReturnsTheEagerActivitiesAsPollsWould) {
  const WorkflowTask task = Task();
  WorkflowTaskCompletion completion = Completion();
  completion.activities = {Spec(3, "", "q"), Spec(4, "", "q")};
  completion.eager_activities = 1;
  completion.eager_activity_lease = absl::Seconds(10);
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(task, completion, Inputs());
  ASSERT_TRUE(plan.ok());
  RecordingExecutor store;
  WorkflowTaskCommitResult result;
  ASSERT_TRUE(ExecutePlan(*plan, store, &result).ok());
  ASSERT_EQ(result.eager_activities.size(), 1u);
  const ActivityTask& eager = result.eager_activities[0];
  EXPECT_EQ(eager.activity_id, "e1:3");
  EXPECT_EQ(eager.instance_id, "i1");
  EXPECT_EQ(eager.execution_id, "e1");
  EXPECT_EQ(eager.queue, "q");
  EXPECT_EQ(eager.scheduled_event.activity_scheduled().activity_name(), "act3");
  EXPECT_EQ(eager.attempt, 0);
  EXPECT_EQ(eager.metadata.at("k"), "v");
  EXPECT_EQ(eager.lease_token, "id-1");
  // As stored: whole microseconds.
  EXPECT_EQ(eager.scheduled_at, core::FromUnixMicros(core::ToUnixMicros(kNow)));
}

TEST(ExecutePlanTest, ARefusedStartDeliversTheParentNotice) {
  WorkflowTaskCompletion completion = Completion();
  completion.outbound_events = {To("sub", "ce", Started("q", "parent"))};
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, Inputs());
  ASSERT_TRUE(plan.ok());
  for (StartOutcome outcome :
       {StartOutcome::kOtherActive, StartOutcome::kExecutionExists}) {
    RecordingExecutor store;
    store.start_outcome = outcome;
    ASSERT_TRUE(ExecutePlan(*plan, store, nullptr).ok());
    ASSERT_EQ(store.deliveries.size(), 1u);
    EXPECT_EQ(store.deliveries[0].instance_id, "parent");
    EXPECT_EQ(store.deliveries[0].execution_id, "pe");
    EXPECT_EQ(store.deliveries[0].visible_at, kNow);
    EXPECT_TRUE(store.deliveries[0].event->has_sub_workflow_failed());
  }
  for (StartOutcome outcome :
       {StartOutcome::kStarted, StartOutcome::kAlreadyActive}) {
    RecordingExecutor store;
    store.start_outcome = outcome;
    ASSERT_TRUE(ExecutePlan(*plan, store, nullptr).ok());
    EXPECT_TRUE(store.deliveries.empty());
  }
}

TEST(ExecutePlanTest, TheSenderGetsTheAnswerTheStoreChose) {
  WorkflowTaskCompletion completion = Completion();
  OutboundEvent signal = To("receiver", "", Signal("s"));
  signal.reply.emplace();
  signal.reply->instance_id = "i1";
  signal.reply->execution_id = "e1";
  signal.reply->delivered.mutable_signal_external_delivered();
  signal.reply->not_delivered.mutable_signal_external_failed();
  completion.outbound_events = {signal};
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, Inputs());
  ASSERT_TRUE(plan.ok());
  for (bool delivered : {true, false}) {
    RecordingExecutor store;
    store.deliver_result = delivered;
    ASSERT_TRUE(ExecutePlan(*plan, store, nullptr).ok());
    ASSERT_EQ(store.deliveries.size(), 2u);
    const Delivery& answer = store.deliveries[1];
    EXPECT_EQ(answer.instance_id, "i1");
    EXPECT_EQ(answer.execution_id, "e1");
    EXPECT_EQ(answer.visible_at, kNow);
    EXPECT_EQ(answer.reply, nullptr);
    EXPECT_EQ(answer.event->has_signal_external_delivered(), delivered);
    EXPECT_EQ(answer.event->has_signal_external_failed(), !delivered);
  }
}

TEST(ExecutePlanTest, APrimitiveErrorStopsThePlan) {
  class Failing : public RecordingExecutor {
    absl::Status UpdateExecution(const ExecutionKey&,
                                 const ExecutionUpdate&) override {
      return absl::UnavailableError("disk full");
    }
  };
  WorkflowTaskCompletion completion = Completion();
  completion.outbound_events = {To("x", "", Signal("s"))};
  absl::StatusOr<CompletionPlan> plan =
      PlanCompletion(Task(), completion, Inputs());
  ASSERT_TRUE(plan.ok());
  Failing store;
  WorkflowTaskCommitResult result;
  EXPECT_EQ(ExecutePlan(*plan, store, &result).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(store.deliveries.empty());
  EXPECT_FALSE(result.workflow_task_committed);
}

TEST(ActivityResultDeliveryTest, GoesToTheSchedulingExecution) {
  ActivityTask task;
  task.instance_id = "i1";
  task.execution_id = "e1";
  v1::HistoryEvent result;
  result.mutable_activity_completed();
  const Delivery delivery = ActivityResultDelivery(task, result, kNow);
  EXPECT_EQ(delivery.instance_id, "i1");
  EXPECT_EQ(delivery.execution_id, "e1");
  EXPECT_EQ(delivery.event, &result);
  EXPECT_EQ(delivery.visible_at, kNow);
  EXPECT_EQ(delivery.key, "");
  EXPECT_EQ(delivery.reply, nullptr);
}

TEST(AsInboxEventTest, ClearsTheId) {
  v1::HistoryEvent signal = Signal("s");
  signal.set_id(17);
  const v1::HistoryEvent inbound = AsInboxEvent(signal);
  EXPECT_EQ(inbound.id(), 0);
  EXPECT_EQ(inbound.signal_received().signal_name(), "s");
}

TEST(InstanceCreationTest, ValidatesAndMapsOutcomes) {
  v1::WorkflowInstance instance;
  instance.set_instance_id("i1");
  v1::HistoryEvent started = Started("");
  EXPECT_EQ(PlanInstanceCreation(instance, started, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  instance.set_execution_id("e1");
  EXPECT_EQ(PlanInstanceCreation(instance, Signal("s"), kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ExecutionStart> start =
      PlanInstanceCreation(instance, started, kNow);
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->execution_id, "e1");
  EXPECT_EQ(start->created_at, kNow);
  EXPECT_EQ(start->visible_at, kNow);
  EXPECT_EQ(start->attributes().queue(), kDefaultQueue);
  EXPECT_FALSE(start->refused_notice.has_value());

  RecordingExecutor store;
  EXPECT_TRUE(ExecuteInstanceCreation(*start, store).ok());
  store.start_outcome = StartOutcome::kOtherActive;
  absl::Status status = ExecuteInstanceCreation(*start, store);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("already exists and is active"));
  store.start_outcome = StartOutcome::kExecutionExists;
  status = ExecuteInstanceCreation(*start, store);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("execution \"e1\""));
}

TEST(FusedStepTest, CommitsOnlyOnAnUnleasedUnchangedActiveExecution) {
  const WorkflowTask task = Task();  // history_length 2
  ExecutionLeaseState free;
  free.state = v1::WORKFLOW_STATE_ACTIVE;
  free.history_length = 2;
  EXPECT_TRUE(FusedStepMayCommit(free, task, kNow));
  EXPECT_FALSE(FusedStepMayCommit(std::nullopt, task, kNow));

  ExecutionLeaseState ended = free;
  ended.state = v1::WORKFLOW_STATE_FINISHED;
  EXPECT_FALSE(FusedStepMayCommit(ended, task, kNow));

  ExecutionLeaseState moved_on = free;
  moved_on.history_length = 3;
  EXPECT_FALSE(FusedStepMayCommit(moved_on, task, kNow));

  ExecutionLeaseState leased = free;
  leased.lease_expires_at = kNow + absl::Microseconds(1);
  EXPECT_FALSE(FusedStepMayCommit(leased, task, kNow));
  leased.lease_expires_at = kNow;  // Expired at `now`.
  EXPECT_TRUE(FusedStepMayCommit(leased, task, kNow));
  leased.lease_expires_at = absl::InfiniteFuture();
  EXPECT_FALSE(FusedStepMayCommit(leased, task, kNow));
}

TEST(FusedStepTest, TheActivityMustBelongToTheTask) {
  ActivityTask activity;
  activity.activity_id = "e2:3";
  activity.instance_id = "i1";
  activity.execution_id = "e2";
  absl::Status status = CheckFusedStep(activity, Task(), Completion());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("\"e2\""));
  activity.execution_id = "e1";
  EXPECT_TRUE(CheckFusedStep(activity, Task(), Completion()).ok());
  WorkflowTaskCompletion stateless = Completion();
  stateless.state = v1::WORKFLOW_STATE_UNSPECIFIED;
  EXPECT_EQ(CheckFusedStep(activity, Task(), stateless).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace durable::core
