#include "core/replay/workflow_state_machine.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace durable::core {
namespace {

using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

v1::Payload Json(const std::string& text) {
  v1::Payload p;
  p.set_encoding("json/plain");
  p.set_data(text);
  return p;
}

v1::HistoryEvent Started(const std::string& workflow) {
  v1::HistoryEvent e;
  e.set_timestamp_unix_us(absl::ToUnixMicros(kT0));
  auto* started = e.mutable_workflow_execution_started();
  started->set_workflow_name(workflow);
  *started->add_arguments() = Json("\"input\"");
  started->set_queue("default");
  return e;
}

v1::HistoryEvent ActivityDone(int64_t scheduled_id, const std::string& json) {
  v1::HistoryEvent e;
  e.mutable_activity_completed()->set_scheduled_event_id(scheduled_id);
  *e.mutable_activity_completed()->mutable_result() = Json(json);
  return e;
}

v1::WorkflowActivationCompletion Completion(
    const std::string& execution_id, std::vector<v1::WorkflowCommand> commands) {
  v1::WorkflowActivationCompletion c;
  c.set_execution_id(execution_id);
  auto* ok = c.mutable_successful();
  for (auto& command : commands) *ok->add_commands() = command;
  return c;
}

v1::WorkflowCommand Schedule(uint32_t seq, const std::string& name) {
  v1::WorkflowCommand c;
  c.mutable_schedule_activity()->set_seq(seq);
  c.mutable_schedule_activity()->set_activity_name(name);
  *c.mutable_schedule_activity()->add_arguments() = Json("35");
  return c;
}

v1::WorkflowCommand Complete(const std::string& json) {
  v1::WorkflowCommand c;
  *c.mutable_complete_workflow()->mutable_result() = Json(json);
  return c;
}

// Runs the first task of a workflow that schedules Activity1 and returns the
// history it produced.
std::vector<v1::HistoryEvent> FirstTask(WorkflowStateMachine& m) {
  EXPECT_TRUE(m.StartTask(kT0, {Started("Workflow1")}).ok());
  auto activation = m.NextActivation();
  EXPECT_TRUE(activation.ok() && activation->has_value());
  EXPECT_TRUE(
      m.ApplyCompletion(Completion("run-1", {Schedule(1, "Activity1")})).ok());
  EXPECT_TRUE(m.task_done());
  return m.TakeTaskOutput().executed_events;
}

TEST(WorkflowStateMachineTest, FirstTaskStartsWorkflowAndSchedulesActivity) {
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Workflow1")}).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok());
  ASSERT_TRUE(activation->has_value());
  const v1::WorkflowActivation& a = **activation;
  EXPECT_EQ(a.execution_id(), "run-1");
  EXPECT_EQ(a.instance_id(), "instance-1");
  EXPECT_FALSE(a.is_replaying());
  EXPECT_EQ(a.workflow_time_unix_us(), absl::ToUnixMicros(kT0));
  ASSERT_EQ(a.jobs_size(), 1);
  EXPECT_EQ(a.jobs(0).start_workflow().workflow_name(), "Workflow1");
  EXPECT_EQ(a.jobs(0).start_workflow().randomness_seed(),
            RandomnessSeedForRun("run-1"));
  // Nothing more until the activation is completed.
  EXPECT_FALSE(m.NextActivation()->has_value());

  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {Schedule(1, "Activity1")})).ok());
  ASSERT_TRUE(m.task_done());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  ASSERT_EQ(out.executed_events.size(), 3u);
  EXPECT_TRUE(out.executed_events[0].has_workflow_task_started());
  EXPECT_TRUE(out.executed_events[1].has_workflow_execution_started());
  EXPECT_TRUE(out.executed_events[2].has_activity_scheduled());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out.executed_events[i].id(), i + 1);
  ASSERT_EQ(out.scheduled_activities.size(), 1u);
  EXPECT_EQ(out.scheduled_activities[0].activity_scheduled().queue(),
            "default");
  EXPECT_EQ(out.state, v1::WORKFLOW_STATE_ACTIVE);
  EXPECT_EQ(m.history_length(), 3);
}

TEST(WorkflowStateMachineTest, CachedRunResolvesActivityAndFinishes) {
  WorkflowStateMachine m("instance-1", "run-1");
  FirstTask(m);
  ASSERT_TRUE(
      m.StartTask(kT0 + absl::Seconds(1), {ActivityDone(3, "47")}).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  ASSERT_EQ((*activation)->jobs_size(), 1);
  EXPECT_EQ((*activation)->jobs(0).resolve_activity().seq(), 1u);
  EXPECT_EQ((*activation)->jobs(0).resolve_activity().completed().data(), "47");
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {Complete("47")})).ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  ASSERT_EQ(out.executed_events.size(), 3u);
  EXPECT_EQ(out.executed_events[0].id(), 4);
  EXPECT_EQ(out.executed_events[2].id(), 6);
  EXPECT_TRUE(out.executed_events[2].has_workflow_execution_finished());
  EXPECT_EQ(out.state, v1::WORKFLOW_STATE_FINISHED);
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.result->result().data(), "47");
  EXPECT_TRUE(m.finished());
}

TEST(WorkflowStateMachineTest, ReplaysHistoryThenRunsLiveTask) {
  WorkflowStateMachine first("instance-1", "run-1");
  std::vector<v1::HistoryEvent> history = FirstTask(first);

  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.LoadHistory(history).ok());
  ASSERT_TRUE(
      m.StartTask(kT0 + absl::Seconds(5), {ActivityDone(3, "47")}).ok());

  auto replay = m.NextActivation();
  ASSERT_TRUE(replay.ok() && replay->has_value());
  EXPECT_TRUE((*replay)->is_replaying());
  EXPECT_EQ((*replay)->workflow_time_unix_us(), absl::ToUnixMicros(kT0));
  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {Schedule(1, "Activity1")})).ok());
  EXPECT_FALSE(m.task_done());

  auto live = m.NextActivation();
  ASSERT_TRUE(live.ok() && live->has_value());
  EXPECT_FALSE((*live)->is_replaying());
  EXPECT_EQ((*live)->jobs(0).resolve_activity().seq(), 1u);
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {Complete("47")})).ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  EXPECT_EQ(out.executed_events.front().id(), 4);
  EXPECT_EQ(out.state, v1::WORKFLOW_STATE_FINISHED);
}

TEST(WorkflowStateMachineTest, DifferentActivityOnReplayIsNonDeterminism) {
  WorkflowStateMachine first("instance-1", "run-1");
  std::vector<v1::HistoryEvent> history = FirstTask(first);

  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.LoadHistory(history).ok());
  ASSERT_TRUE(m.StartTask(kT0, {ActivityDone(3, "47")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  absl::Status s =
      m.ApplyCompletion(Completion("run-1", {Schedule(1, "Activity3")}));
  EXPECT_TRUE(IsNonDeterminism(s)) << s;
  EXPECT_EQ(DurableCodeOf(s), DurableCode::kNonDeterminism);
  EXPECT_THAT(s.message(), HasSubstr("ActivityScheduled(\"Activity1\")"));
  EXPECT_THAT(s.message(), HasSubstr("ScheduleActivity(\"Activity3\""));
}

TEST(WorkflowStateMachineTest, MissingCommandOnReplayIsNonDeterminism) {
  WorkflowStateMachine first("instance-1", "run-1");
  std::vector<v1::HistoryEvent> history = FirstTask(first);
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.LoadHistory(history).ok());
  ASSERT_TRUE(m.StartTask(kT0, {ActivityDone(3, "47")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  absl::Status s = m.ApplyCompletion(Completion("run-1", {}));
  EXPECT_TRUE(IsNonDeterminism(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("did not issue it on replay"));
}

TEST(WorkflowStateMachineTest, ExtraCommandOnReplayIsNonDeterminism) {
  WorkflowStateMachine first("instance-1", "run-1");
  std::vector<v1::HistoryEvent> history = FirstTask(first);
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.LoadHistory(history).ok());
  ASSERT_TRUE(m.StartTask(kT0, {ActivityDone(3, "47")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  absl::Status s = m.ApplyCompletion(Completion(
      "run-1", {Schedule(1, "Activity1"), Schedule(2, "Activity2")}));
  EXPECT_TRUE(IsNonDeterminism(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("no further event"));
}

TEST(WorkflowStateMachineTest, RejectsHistoryWithGaps) {
  WorkflowStateMachine first("instance-1", "run-1");
  std::vector<v1::HistoryEvent> history = FirstTask(first);
  history[1].set_id(7);
  WorkflowStateMachine m("instance-1", "run-1");
  absl::Status s = m.LoadHistory(history);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("instance-1"));
}

TEST(WorkflowStateMachineTest, ResultForUnknownActivityIsDataLoss) {
  WorkflowStateMachine m("instance-1", "run-1");
  FirstTask(m);
  ASSERT_TRUE(m.StartTask(kT0, {ActivityDone(99, "1")}).ok());
  auto activation = m.NextActivation();
  EXPECT_EQ(activation.status().code(), absl::StatusCode::kDataLoss);
}

TEST(WorkflowStateMachineTest, RejectsCompletionForOtherRunAndSeqReuse) {
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Workflow1")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  EXPECT_EQ(m.ApplyCompletion(Completion("run-2", {})).code(),
            absl::StatusCode::kInvalidArgument);

  WorkflowStateMachine m2("instance-2", "run-2");
  ASSERT_TRUE(m2.StartTask(kT0, {Started("Workflow1")}).ok());
  ASSERT_TRUE(m2.NextActivation().ok());
  EXPECT_EQ(m2.ApplyCompletion(
                  Completion("run-2", {Schedule(1, "A"), Schedule(1, "B")}))
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WorkflowStateMachineTest, ManyActivitiesInOneTask) {
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Fanout")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  std::vector<v1::WorkflowCommand> commands;
  for (uint32_t seq = 1; seq <= 100; ++seq) {
    commands.push_back(Schedule(seq, "Activity1"));
  }
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", commands)).ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  EXPECT_EQ(out.scheduled_activities.size(), 100u);
  std::vector<v1::HistoryEvent> results;
  for (int i = 0; i < 100; ++i) results.push_back(ActivityDone(3 + i, "1"));
  ASSERT_TRUE(m.StartTask(kT0, results).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  ASSERT_EQ((*activation)->jobs_size(), 100);
  EXPECT_EQ((*activation)->jobs(99).resolve_activity().seq(), 100u);
}

v1::WorkflowCommand StartTimer(uint32_t seq, absl::Duration d) {
  v1::WorkflowCommand c;
  c.mutable_start_timer()->set_seq(seq);
  c.mutable_start_timer()->set_duration_us(absl::ToInt64Microseconds(d));
  return c;
}

v1::WorkflowCommand CancelTimer(uint32_t seq) {
  v1::WorkflowCommand c;
  c.mutable_cancel_timer()->set_seq(seq);
  return c;
}

v1::WorkflowCommand SideEffect(uint32_t seq, const std::string& json) {
  v1::WorkflowCommand c;
  c.mutable_record_side_effect()->set_seq(seq);
  *c.mutable_record_side_effect()->mutable_result() = Json(json);
  return c;
}

std::vector<std::string> Kinds(const std::vector<v1::HistoryEvent>& events) {
  std::vector<std::string> kinds;
  for (const auto& e : events) kinds.push_back(EventKindName(e));
  return kinds;
}

TEST(WorkflowStateMachineTest, TimerSchedulesFutureFiringAndFires) {
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Sleepy")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {StartTimer(1, absl::Seconds(10))}))
          .ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  ASSERT_EQ(out.executed_events.back().timer_scheduled().fire_at_unix_us(),
            absl::ToUnixMicros(kT0 + absl::Seconds(10)));
  ASSERT_EQ(out.outbound_events.size(), 1u);
  const OutboundEvent& fired = out.outbound_events[0];
  EXPECT_EQ(fired.instance_id, "instance-1");
  EXPECT_EQ(fired.execution_id, "run-1");
  EXPECT_EQ(fired.visible_at, kT0 + absl::Seconds(10));
  EXPECT_EQ(fired.event.timer_fired().scheduled_event_id(), 3);
  EXPECT_EQ(fired.key, "timer/3");

  ASSERT_TRUE(m.StartTask(kT0 + absl::Seconds(10), {fired.event}).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  ASSERT_EQ((*activation)->jobs_size(), 1);
  EXPECT_EQ((*activation)->jobs(0).fire_timer().seq(), 1u);
  // Canceling a fired timer is a no-op: no event.
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {CancelTimer(1)})).ok());
  EXPECT_THAT(Kinds(m.TakeTaskOutput().executed_events),
              ::testing::ElementsAre("WorkflowTaskStarted", "TimerFired"));
}

TEST(WorkflowStateMachineTest, CanceledTimerLeavesScheduledCanceledPair) {
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Sleepy")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {StartTimer(1, absl::Seconds(10))}))
          .ok());
  m.TakeTaskOutput();
  v1::HistoryEvent signal;
  signal.mutable_signal_received()->set_signal_name("stop");
  ASSERT_TRUE(m.StartTask(kT0 + absl::Seconds(1), {signal}).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  EXPECT_EQ((*activation)->jobs(0).signal_workflow().signal_name(), "stop");
  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {CancelTimer(1), CancelTimer(1)}))
          .ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  EXPECT_THAT(Kinds(out.executed_events),
              ::testing::ElementsAre("WorkflowTaskStarted", "SignalReceived",
                                     "TimerCanceled"));
  EXPECT_EQ(out.executed_events.back().timer_canceled().scheduled_event_id(),
            3);
  EXPECT_THAT(out.canceled_event_keys, ::testing::ElementsAre("timer/3"));
}

TEST(WorkflowStateMachineTest, TimerCanceledInSameStepLeavesNoTrace) {
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Sleepy")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {StartTimer(1, absl::Seconds(10)),
                                             CancelTimer(1), Complete("1")}))
          .ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  EXPECT_THAT(
      Kinds(out.executed_events),
      ::testing::ElementsAre("WorkflowTaskStarted", "WorkflowExecutionStarted",
                             "WorkflowExecutionFinished"));
  EXPECT_TRUE(out.outbound_events.empty());
}

TEST(WorkflowStateMachineTest, ReplayPreDeliversRecordedSideEffects) {
  WorkflowStateMachine first("instance-1", "run-1");
  ASSERT_TRUE(first.StartTask(kT0, {Started("Effects")}).ok());
  ASSERT_TRUE(first.NextActivation().ok());
  ASSERT_TRUE(first
                  .ApplyCompletion(Completion(
                      "run-1", {SideEffect(1, "3"), SideEffect(2, "4"),
                                StartTimer(1, absl::Seconds(1))}))
                  .ok());
  std::vector<v1::HistoryEvent> history =
      first.TakeTaskOutput().executed_events;

  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.LoadHistory(history).ok());
  v1::HistoryEvent fired;
  fired.mutable_timer_fired()->set_scheduled_event_id(5);
  ASSERT_TRUE(m.StartTask(kT0 + absl::Seconds(1), {fired}).ok());
  auto replay = m.NextActivation();
  ASSERT_TRUE(replay.ok() && replay->has_value());
  ASSERT_EQ((*replay)->jobs_size(), 3);
  EXPECT_TRUE((*replay)->jobs(0).has_start_workflow());
  EXPECT_EQ((*replay)->jobs(1).resolve_side_effect().seq(), 1u);
  EXPECT_EQ((*replay)->jobs(1).resolve_side_effect().result().data(), "3");
  EXPECT_EQ((*replay)->jobs(2).resolve_side_effect().seq(), 2u);
  ASSERT_TRUE(m.ApplyCompletion(
                   Completion("run-1", {SideEffect(1, "3"), SideEffect(2, "4"),
                                        StartTimer(1, absl::Seconds(1))}))
                  .ok());
  auto live = m.NextActivation();
  ASSERT_TRUE(live.ok() && live->has_value());
  EXPECT_EQ((*live)->jobs(0).fire_timer().seq(), 1u);
  // Dropping a side effect on replay is non-determinism.
  WorkflowStateMachine drifted("instance-1", "run-1");
  ASSERT_TRUE(drifted.LoadHistory(history).ok());
  ASSERT_TRUE(drifted.StartTask(kT0, {fired}).ok());
  ASSERT_TRUE(drifted.NextActivation().ok());
  EXPECT_TRUE(IsNonDeterminism(drifted.ApplyCompletion(Completion(
      "run-1", {SideEffect(1, "3"), StartTimer(1, absl::Seconds(1))}))));
}

TEST(WorkflowStateMachineTest, CancellationAndExternalSignals) {
  WorkflowStateMachine m("instance-1", "run-1");
  v1::HistoryEvent cancel;
  cancel.mutable_workflow_execution_canceled()->set_reason("user");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Wf"), cancel}).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  ASSERT_EQ((*activation)->jobs_size(), 2);
  EXPECT_EQ((*activation)->jobs(1).cancel_workflow().reason(), "user");
  v1::WorkflowCommand signal;
  signal.mutable_signal_external_workflow()->set_seq(1);
  signal.mutable_signal_external_workflow()->set_instance_id("other");
  signal.mutable_signal_external_workflow()->set_signal_name("ping");
  *signal.mutable_signal_external_workflow()->mutable_input() = Json("1");
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {signal})).ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  EXPECT_TRUE(out.executed_events.back().has_signal_sent());
  ASSERT_EQ(out.outbound_events.size(), 1u);
  EXPECT_EQ(out.outbound_events[0].instance_id, "other");
  EXPECT_TRUE(out.outbound_events[0].execution_id.empty());
  EXPECT_EQ(out.outbound_events[0].event.signal_received().signal_name(),
            "ping");
}

v1::WorkflowCommand StartSubWorkflow(uint32_t seq, const std::string& name) {
  v1::WorkflowCommand c;
  c.mutable_start_sub_workflow()->set_seq(seq);
  c.mutable_start_sub_workflow()->set_workflow_name(name);
  return c;
}

v1::WorkflowCommand CancelSubWorkflow(uint32_t seq) {
  v1::WorkflowCommand c;
  c.mutable_cancel_sub_workflow()->set_seq(seq);
  return c;
}

v1::WorkflowCommand Patch(const std::string& id, bool deprecated = false) {
  v1::WorkflowCommand c;
  c.mutable_set_patch_marker()->set_patch_id(id);
  c.mutable_set_patch_marker()->set_deprecated(deprecated);
  return c;
}

TEST(WorkflowStateMachineTest, SubWorkflowStartsWithParentAndResolves) {
  WorkflowStateMachine m("parent", "run-1");
  v1::HistoryEvent started = Started("Parent");
  (*started.mutable_workflow_execution_started()->mutable_metadata())["trace"] =
      "t-1";
  ASSERT_TRUE(m.StartTask(kT0, {started}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {StartSubWorkflow(1, "Kid")}))
          .ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  ASSERT_EQ(out.outbound_events.size(), 1u);
  const auto& sub_workflow_start =
      out.outbound_events[0].event.workflow_execution_started();
  EXPECT_EQ(out.outbound_events[0].instance_id, "run-1/child-1");
  EXPECT_EQ(sub_workflow_start.workflow_name(), "Kid");
  EXPECT_EQ(sub_workflow_start.parent().instance_id(), "parent");
  EXPECT_EQ(sub_workflow_start.parent().scheduled_event_id(), 3);
  EXPECT_EQ(sub_workflow_start.metadata().at("trace"), "t-1");

  v1::HistoryEvent done;
  done.mutable_sub_workflow_completed()->set_scheduled_event_id(3);
  *done.mutable_sub_workflow_completed()->mutable_result() = Json("5");
  ASSERT_TRUE(m.StartTask(kT0, {done}).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  EXPECT_EQ((*activation)->jobs(0).resolve_sub_workflow().seq(), 1u);
  // Canceling a sub-workflow that already finished is a no-op.
  ASSERT_TRUE(m.ApplyCompletion(
                   Completion("run-1", {CancelSubWorkflow(1), Complete("5")}))
                  .ok());
  EXPECT_THAT(
      Kinds(m.TakeTaskOutput().executed_events),
      ::testing::ElementsAre("WorkflowTaskStarted", "SubWorkflowCompleted",
                             "WorkflowExecutionFinished"));
}

TEST(WorkflowStateMachineTest,
     SubWorkflowFinishNotifiesParentAndCancelReachesIt) {
  WorkflowStateMachine sub_workflow("run-1/child-1", "sub-run");
  v1::HistoryEvent started = Started("Kid");
  auto* parent = started.mutable_workflow_execution_started()->mutable_parent();
  parent->set_instance_id("parent");
  parent->set_execution_id("run-1");
  parent->set_scheduled_event_id(3);
  ASSERT_TRUE(sub_workflow.StartTask(kT0, {started}).ok());
  ASSERT_TRUE(sub_workflow.NextActivation().ok());
  ASSERT_TRUE(
      sub_workflow.ApplyCompletion(Completion("sub-run", {Complete("5")}))
          .ok());
  WorkflowTaskOutput out = sub_workflow.TakeTaskOutput();
  ASSERT_EQ(out.outbound_events.size(), 1u);
  EXPECT_EQ(out.outbound_events[0].instance_id, "parent");
  EXPECT_EQ(out.outbound_events[0].execution_id, "run-1");
  EXPECT_EQ(out.outbound_events[0]
                .event.sub_workflow_completed()
                .scheduled_event_id(),
            3);

  WorkflowStateMachine m("parent", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Parent")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {StartSubWorkflow(1, "Kid")}))
          .ok());
  m.TakeTaskOutput();
  v1::HistoryEvent cancel;
  cancel.mutable_workflow_execution_canceled();
  ASSERT_TRUE(m.StartTask(kT0, {cancel}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  ASSERT_TRUE(
      m.ApplyCompletion(Completion("run-1", {CancelSubWorkflow(1)})).ok());
  out = m.TakeTaskOutput();
  ASSERT_EQ(out.outbound_events.size(), 1u);
  EXPECT_EQ(out.outbound_events[0].instance_id, "run-1/child-1");
  EXPECT_TRUE(out.outbound_events[0].event.has_workflow_execution_canceled());
}

TEST(WorkflowStateMachineTest,
     SubWorkflowStartedAndCanceledInOneStepNeverRuns) {
  WorkflowStateMachine m("parent", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Parent")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  ASSERT_TRUE(m.ApplyCompletion(
                   Completion("run-1", {StartSubWorkflow(1, "Kid"),
                                        CancelSubWorkflow(1), Complete("0")}))
                  .ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  EXPECT_TRUE(out.outbound_events.empty());
}

TEST(WorkflowStateMachineTest, ContinueAsNewStartsNextExecution) {
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Loop")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  v1::WorkflowCommand next;
  *next.mutable_continue_as_new()->add_arguments() = Json("2");
  next.mutable_continue_as_new()->set_remove_previous_executions(true);
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {next})).ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  EXPECT_EQ(out.state, v1::WORKFLOW_STATE_CONTINUED_AS_NEW);
  EXPECT_TRUE(out.remove_previous_executions);
  ASSERT_EQ(out.outbound_events.size(), 1u);
  const auto& started =
      out.outbound_events[0].event.workflow_execution_started();
  EXPECT_EQ(started.workflow_name(), "Loop");
  EXPECT_EQ(started.arguments(0).data(), "2");
  EXPECT_EQ(started.continued_from_execution_id(), "run-1");
  const std::string next_id = out.outbound_events[0].execution_id;
  EXPECT_EQ(next_id, out.executed_events.back()
                         .workflow_execution_continued_as_new()
                         .next_execution_id());
  EXPECT_EQ(next_id.size(), 36u);
}

TEST(WorkflowStateMachineTest, ContinueAsNewHandsUnreceivedSignalsOn) {
  WorkflowStateMachine m("instance-1", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Loop")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  v1::WorkflowCommand next;
  for (const char* name : {"b", "a"}) {
    v1::SignalWorkflow* signal =
        next.mutable_continue_as_new()->add_unreceived_signals();
    signal->set_signal_name(name);
    signal->mutable_input()->set_data(absl::StrCat("\"", name, "\""));
  }
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {next})).ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  const std::string next_id = out.next_execution_id;
  EXPECT_EQ(next_id, out.executed_events.back()
                         .workflow_execution_continued_as_new()
                         .next_execution_id());
  EXPECT_EQ(out.executed_events.back()
                .workflow_execution_continued_as_new()
                .carried_signals_size(),
            2);
  // The next execution starts, then receives the signals in their order.
  ASSERT_EQ(out.outbound_events.size(), 3u);
  EXPECT_TRUE(out.outbound_events[0].event.has_workflow_execution_started());
  for (size_t i : {1u, 2u}) {
    EXPECT_EQ(out.outbound_events[i].instance_id, "instance-1");
    EXPECT_EQ(out.outbound_events[i].execution_id, next_id);
  }
  EXPECT_EQ(out.outbound_events[1].event.signal_received().signal_name(), "b");
  EXPECT_EQ(out.outbound_events[2].event.signal_received().signal_name(), "a");
  EXPECT_EQ(out.outbound_events[2].event.signal_received().input().data(),
            "\"a\"");
}

TEST(WorkflowStateMachineTest, PatchMarkersReplayAndDeprecatedOnesAreLenient) {
  WorkflowStateMachine first("instance-1", "run-1");
  ASSERT_TRUE(first.StartTask(kT0, {Started("Versioned")}).ok());
  ASSERT_TRUE(first.NextActivation().ok());
  ASSERT_TRUE(first
                  .ApplyCompletion(Completion(
                      "run-1", {Patch("add-step"), Schedule(1, "Step")}))
                  .ok());
  std::vector<v1::HistoryEvent> patched =
      first.TakeTaskOutput().executed_events;
  EXPECT_EQ(patched[2].marker_recorded().id(), "add-step");

  // Replay announces the marker first; the same commands match.
  WorkflowStateMachine replay("instance-1", "run-1");
  ASSERT_TRUE(replay.LoadHistory(patched).ok());
  ASSERT_TRUE(replay.StartTask(kT0, {ActivityDone(4, "1")}).ok());
  auto activation = replay.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  EXPECT_TRUE((*activation)->jobs(0).has_start_workflow());
  EXPECT_EQ((*activation)->jobs(1).notify_has_patch().patch_id(), "add-step");
  ASSERT_TRUE(replay
                  .ApplyCompletion(Completion(
                      "run-1", {Patch("add-step"), Schedule(1, "Step")}))
                  .ok());

  // Code that no longer asks about the patch skips the recorded marker.
  WorkflowStateMachine cleaned("instance-1", "run-1");
  ASSERT_TRUE(cleaned.LoadHistory(patched).ok());
  ASSERT_TRUE(cleaned.StartTask(kT0, {ActivityDone(4, "1")}).ok());
  ASSERT_TRUE(cleaned.NextActivation().ok());
  EXPECT_TRUE(
      cleaned.ApplyCompletion(Completion("run-1", {Schedule(1, "Step")})).ok());

  // A deprecated patch replays histories recorded before the patch existed.
  WorkflowStateMachine old("instance-1", "run-1");
  ASSERT_TRUE(old.StartTask(kT0, {Started("Versioned")}).ok());
  ASSERT_TRUE(old.NextActivation().ok());
  ASSERT_TRUE(
      old.ApplyCompletion(Completion("run-1", {Schedule(1, "Step")})).ok());
  std::vector<v1::HistoryEvent> unpatched =
      old.TakeTaskOutput().executed_events;
  WorkflowStateMachine deprecated("instance-1", "run-1");
  ASSERT_TRUE(deprecated.LoadHistory(unpatched).ok());
  ASSERT_TRUE(deprecated.StartTask(kT0, {ActivityDone(3, "1")}).ok());
  ASSERT_TRUE(deprecated.NextActivation().ok());
  EXPECT_TRUE(deprecated
                  .ApplyCompletion(Completion(
                      "run-1", {Patch("add-step", true), Schedule(1, "Step")}))
                  .ok());
}

TEST(WorkflowStateMachineTest, FailedSubWorkflowIsRestartedPerItsRetryPolicy) {
  WorkflowStateMachine m("parent", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Parent")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  v1::WorkflowCommand start = StartSubWorkflow(1, "Flaky");
  auto* policy = start.mutable_start_sub_workflow()->mutable_retry_policy();
  policy->set_maximum_attempts(2);
  policy->set_initial_interval_us(1'000'000);
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {start})).ok());
  const std::string first_execution = m.TakeTaskOutput()
                                          .executed_events.back()
                                          .sub_workflow_scheduled()
                                          .execution_id();

  v1::HistoryEvent failed;
  failed.mutable_sub_workflow_failed()->set_scheduled_event_id(3);
  failed.mutable_sub_workflow_failed()->mutable_failure()->set_type("Boom");
  // First failure: no job for the code, the sub-workflow is started again
  // later.
  const absl::Time t1 = kT0 + absl::Seconds(5);
  ASSERT_TRUE(m.StartTask(t1, {failed}).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  EXPECT_EQ((*activation)->jobs_size(), 0);
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {})).ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  ASSERT_EQ(out.outbound_events.size(), 1u);
  EXPECT_EQ(out.outbound_events[0].instance_id, "run-1/child-1");
  EXPECT_EQ(out.outbound_events[0].visible_at, t1 + absl::Seconds(1));
  EXPECT_EQ(out.outbound_events[0]
                .event.workflow_execution_started()
                .parent()
                .scheduled_event_id(),
            3);
  // The new attempt is a new execution of the sub-workflow, with an id of its
  // own.
  EXPECT_EQ(out.outbound_events[0].execution_id.size(), 36u);
  EXPECT_NE(out.outbound_events[0].execution_id, first_execution);
  // Second failure: attempts are used up, the code sees it.
  ASSERT_TRUE(m.StartTask(t1 + absl::Seconds(2), {failed}).ok());
  activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  ASSERT_EQ((*activation)->jobs_size(), 1);
  EXPECT_EQ((*activation)->jobs(0).resolve_sub_workflow().failed().type(),
            "Boom");
}

// --- The order of outbound events ------------------------------------------

v1::WorkflowCommand SignalExternal(uint32_t seq, const std::string& instance,
                                   const std::string& name) {
  v1::WorkflowCommand c;
  c.mutable_signal_external_workflow()->set_seq(seq);
  c.mutable_signal_external_workflow()->set_instance_id(instance);
  c.mutable_signal_external_workflow()->set_signal_name(name);
  *c.mutable_signal_external_workflow()->mutable_input() = Json("1");
  return c;
}

// What an outbound event does, for order checks: "start <id>",
// "signal <id>", "timer", ...
std::vector<std::string> Deliveries(const std::vector<OutboundEvent>& events) {
  std::vector<std::string> out;
  for (const OutboundEvent& e : events) {
    if (e.event.has_workflow_execution_started()) {
      out.push_back("start " + e.instance_id);
    } else if (e.event.has_signal_received()) {
      out.push_back("signal " + e.instance_id);
    } else {
      out.push_back(EventKindName(e.event) + " " + e.instance_id);
    }
  }
  return out;
}

TEST(WorkflowStateMachineTest, OutboundEventsStartExecutionsFirst) {
  WorkflowStateMachine m("parent", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Parent")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  v1::WorkflowCommand kid = StartSubWorkflow(1, "Kid");
  kid.mutable_start_sub_workflow()->set_instance_id("kid");
  v1::WorkflowCommand other = StartSubWorkflow(2, "Kid");
  other.mutable_start_sub_workflow()->set_instance_id("kid-2");
  // The signals come first in command order; the sub-workflows must exist when
  // they are delivered. Everything else keeps its order.
  ASSERT_TRUE(
      m.ApplyCompletion(
           Completion("run-1", {SignalExternal(1, "kid", "go"),
                                StartTimer(1, absl::Seconds(1)),
                                SignalExternal(2, "elsewhere", "go"), kid,
                                SignalExternal(3, "kid-2", "go"), other}))
          .ok());
  EXPECT_THAT(Deliveries(m.TakeTaskOutput().outbound_events),
              ::testing::ElementsAre("start kid", "start kid-2", "signal kid",
                                     "TimerFired parent", "signal elsewhere",
                                     "signal kid-2"));
}

// --- Late duplicates of resolutions ----------------------------------------

v1::HistoryEvent ActivityFailedEvent(int64_t scheduled_id) {
  v1::HistoryEvent e;
  e.mutable_activity_failed()->set_scheduled_event_id(scheduled_id);
  e.mutable_activity_failed()->mutable_failure()->set_type("Late");
  return e;
}

v1::HistoryEvent SubWorkflowDone(int64_t scheduled_id,
                                 const std::string& json) {
  v1::HistoryEvent e;
  e.mutable_sub_workflow_completed()->set_scheduled_event_id(scheduled_id);
  *e.mutable_sub_workflow_completed()->mutable_result() = Json(json);
  return e;
}

v1::HistoryEvent SubWorkflowFailedEvent(int64_t scheduled_id) {
  v1::HistoryEvent e;
  e.mutable_sub_workflow_failed()->set_scheduled_event_id(scheduled_id);
  e.mutable_sub_workflow_failed()->mutable_failure()->set_type("Late");
  return e;
}

// The resolution jobs of an activation, e.g. "activity 1 ok".
std::vector<std::string> Resolutions(const v1::WorkflowActivation& a) {
  std::vector<std::string> out;
  for (const v1::WorkflowActivationJob& job : a.jobs()) {
    if (job.has_resolve_activity()) {
      out.push_back(absl::StrCat(
          "activity ", job.resolve_activity().seq(),
          job.resolve_activity().has_failed() ? " failed" : " ok"));
    } else if (job.has_resolve_sub_workflow()) {
      out.push_back(absl::StrCat(
          "sub-workflow ", job.resolve_sub_workflow().seq(),
          job.resolve_sub_workflow().has_failed() ? " failed" : " ok"));
    }
  }
  return out;
}

TEST(WorkflowStateMachineTest, LateDuplicateResolutionsAreDropped) {
  WorkflowStateMachine m("parent", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Parent")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  // Event 3: activity seq 1; event 4: sub-workflow seq 1.
  ASSERT_TRUE(
      m.ApplyCompletion(
           Completion("run-1", {Schedule(1, "A"), StartSubWorkflow(1, "Kid")}))
          .ok());
  std::vector<v1::HistoryEvent> history = m.TakeTaskOutput().executed_events;

  // Each result twice in one task: the second copy resolves nothing.
  ASSERT_TRUE(m.StartTask(kT0 + absl::Seconds(1),
                          {ActivityDone(3, "1"), ActivityDone(3, "2"),
                           SubWorkflowDone(4, "5"), SubWorkflowFailedEvent(4)})
                  .ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value())
      << activation.status();
  EXPECT_THAT(Resolutions(**activation),
              ::testing::ElementsAre("activity 1 ok", "sub-workflow 1 ok"));
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {})).ok());
  std::vector<v1::HistoryEvent> second = m.TakeTaskOutput().executed_events;
  history.insert(history.end(), second.begin(), second.end());

  // And again in a later task, for either outcome.
  ASSERT_TRUE(m.StartTask(kT0 + absl::Seconds(2),
                          {ActivityFailedEvent(3), SubWorkflowDone(4, "6")})
                  .ok());
  activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value())
      << activation.status();
  EXPECT_THAT(Resolutions(**activation), ::testing::IsEmpty());
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {Complete("1")})).ok());
  std::vector<v1::HistoryEvent> third = m.TakeTaskOutput().executed_events;
  history.insert(history.end(), third.begin(), third.end());

  // Replay drops the recorded duplicates the same way.
  WorkflowStateMachine replay("parent", "run-1");
  ASSERT_TRUE(replay.LoadHistory(history).ok());
  std::vector<std::vector<std::string>> replayed;
  const std::vector<std::vector<v1::WorkflowCommand>> commands = {
      {Schedule(1, "A"), StartSubWorkflow(1, "Kid")}, {}, {Complete("1")}};
  for (const auto& task_commands : commands) {
    auto next = replay.NextActivation();
    ASSERT_TRUE(next.ok() && next->has_value()) << next.status();
    EXPECT_TRUE((*next)->is_replaying());
    replayed.push_back(Resolutions(**next));
    ASSERT_TRUE(
        replay.ApplyCompletion(Completion("run-1", task_commands)).ok());
  }
  EXPECT_THAT(replayed,
              ::testing::ElementsAre(
                  ::testing::IsEmpty(),
                  ::testing::ElementsAre("activity 1 ok", "sub-workflow 1 ok"),
                  ::testing::IsEmpty()));
}

// --- Sub-workflow execution ids ----------------------------------------------

TEST(WorkflowStateMachineTest, SubWorkflowExecutionIdIsDerivedAndRecorded) {
  auto first_task = [](const std::string& execution_id) {
    WorkflowStateMachine m("parent", execution_id);
    EXPECT_TRUE(m.StartTask(kT0, {Started("Parent")}).ok());
    EXPECT_TRUE(m.NextActivation().ok());
    EXPECT_TRUE(m.ApplyCompletion(
                     Completion(execution_id, {StartSubWorkflow(1, "Kid"),
                                               StartSubWorkflow(2, "Kid")}))
                    .ok());
    return m.TakeTaskOutput();
  };
  WorkflowTaskOutput out = first_task("run-1");
  ASSERT_EQ(out.outbound_events.size(), 2u);
  const auto& scheduled = out.executed_events[2].sub_workflow_scheduled();
  EXPECT_EQ(scheduled.execution_id().size(), 36u) << scheduled.execution_id();
  // The sub-workflow starts under the recorded id; each sub-workflow has its
  // own.
  EXPECT_EQ(out.outbound_events[0].execution_id, scheduled.execution_id());
  EXPECT_EQ(out.outbound_events[1].execution_id,
            out.executed_events[3].sub_workflow_scheduled().execution_id());
  EXPECT_NE(out.outbound_events[0].execution_id,
            out.outbound_events[1].execution_id);
  // A pure function of the run and the event: the same run derives the same
  // id, another run another one.
  EXPECT_EQ(first_task("run-1").outbound_events[0].execution_id,
            scheduled.execution_id());
  EXPECT_NE(first_task("run-2").outbound_events[0].execution_id,
            scheduled.execution_id());
}

// --- Answers to signals sent to other instances -----------------------------

TEST(WorkflowStateMachineTest, SentSignalCarriesBothAnswersAndIsResolved) {
  WorkflowStateMachine m("sender", "run-1");
  ASSERT_TRUE(m.StartTask(kT0, {Started("Sender")}).ok());
  ASSERT_TRUE(m.NextActivation().ok());
  ASSERT_TRUE(m.ApplyCompletion(
                   Completion("run-1", {SignalExternal(1, "there", "go"),
                                        SignalExternal(2, "nowhere", "go")}))
                  .ok());
  WorkflowTaskOutput out = m.TakeTaskOutput();
  std::vector<v1::HistoryEvent> history = out.executed_events;
  ASSERT_EQ(out.outbound_events.size(), 2u);
  const OutboundEvent& signal = out.outbound_events[0];
  ASSERT_TRUE(signal.reply.has_value());
  EXPECT_EQ(signal.reply->instance_id, "sender");
  EXPECT_EQ(signal.reply->execution_id, "run-1");
  EXPECT_EQ(
      signal.reply->delivered.signal_external_delivered().scheduled_event_id(),
      3);
  const v1::SignalExternalFailed& failed =
      out.outbound_events[1].reply->not_delivered.signal_external_failed();
  EXPECT_EQ(failed.scheduled_event_id(), 4);
  EXPECT_EQ(failed.failure().type(), "InstanceNotFound");
  EXPECT_TRUE(failed.failure().non_retryable());
  EXPECT_THAT(failed.failure().message(), HasSubstr("\"nowhere\""));

  // The store put one answer each in the sender's inbox; a late copy of the
  // first resolves nothing.
  const std::vector<v1::HistoryEvent> answers = {
      signal.reply->delivered,
      out.outbound_events[1].reply->not_delivered,
      signal.reply->not_delivered,
  };
  ASSERT_TRUE(m.StartTask(kT0 + absl::Seconds(1), answers).ok());
  auto activation = m.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value())
      << activation.status();
  ASSERT_EQ((*activation)->jobs_size(), 2);
  EXPECT_EQ((*activation)->jobs(0).resolve_signal_external().seq(), 1u);
  EXPECT_FALSE((*activation)->jobs(0).resolve_signal_external().has_failure());
  EXPECT_EQ((*activation)->jobs(1).resolve_signal_external().seq(), 2u);
  EXPECT_EQ((*activation)->jobs(1).resolve_signal_external().failure().type(),
            "InstanceNotFound");
  ASSERT_TRUE(m.ApplyCompletion(Completion("run-1", {Complete("1")})).ok());
  std::vector<v1::HistoryEvent> second = m.TakeTaskOutput().executed_events;
  history.insert(history.end(), second.begin(), second.end());

  // Replay resolves the same sequence numbers from history.
  WorkflowStateMachine replay("sender", "run-1");
  ASSERT_TRUE(replay.LoadHistory(history).ok());
  ASSERT_TRUE(replay.NextActivation().ok());
  ASSERT_TRUE(replay
                  .ApplyCompletion(
                      Completion("run-1", {SignalExternal(1, "there", "go"),
                                           SignalExternal(2, "nowhere", "go")}))
                  .ok());
  activation = replay.NextActivation();
  ASSERT_TRUE(activation.ok() && activation->has_value());
  EXPECT_TRUE((*activation)->is_replaying());
  ASSERT_EQ((*activation)->jobs_size(), 2);
  EXPECT_FALSE((*activation)->jobs(0).resolve_signal_external().has_failure());
  EXPECT_TRUE((*activation)->jobs(1).resolve_signal_external().has_failure());
}

TEST(WorkflowStateMachineTest, AnswerForUnsentSignalIsDataLossAndSeqIsUnique) {
  WorkflowStateMachine m("sender", "run-1");
  FirstTask(m);
  v1::HistoryEvent answer;
  answer.mutable_signal_external_delivered()->set_scheduled_event_id(3);
  ASSERT_TRUE(m.StartTask(kT0, {answer}).ok());
  EXPECT_EQ(m.NextActivation().status().code(), absl::StatusCode::kDataLoss);

  WorkflowStateMachine twice("sender", "run-1");
  ASSERT_TRUE(twice.StartTask(kT0, {Started("Sender")}).ok());
  ASSERT_TRUE(twice.NextActivation().ok());
  EXPECT_EQ(
      twice
          .ApplyCompletion(Completion("run-1", {SignalExternal(1, "a", "go"),
                                                SignalExternal(1, "b", "go")}))
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace durable::core
