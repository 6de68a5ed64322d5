"""The task group's state machine, transition by transition, without a coordinator."""
from __future__ import annotations

import pytest

from agents.pipeline.task_groups import BadTransition, TaskGroup, TaskGroups, group_key
from bus.wire.tool_spec import ToolSpec

TOOL = ToolSpec(tool_id="t", code="def solve(q):\n    return q\n")


def failed_group(attempts: int, needed: int = 4, remake_after: int = 10) -> TaskGroup:
    group = TaskGroup(key="k", needed=needed, remake_after=remake_after, attempts=attempts)
    group.finish(None, "no tool")
    return group


def test_group_key_prefers_task_then_template_words():
    assert group_key("anything", "word_sorting") == "word_sorting"
    a = group_key("There is a ship of no more than 95765 apricots. If we ...", None)
    b = group_key("There is a ship of no more than 1200 pears. If ...", None)
    assert a == b and a.startswith("fp:")
    assert a != group_key("Sort the following words alphabetically: List: a b", None)


def test_labelled_requests_collect_distinct_examples_then_start_making():
    group = TaskGroup(key="k", needed=2)
    assert group.step("q1", "a1", wait_for_tool=True) == "wait"
    assert group.step("q1", "a1", wait_for_tool=True) == "wait"  # duplicate text ignored
    assert group.step("q3", "a3", wait_for_tool=True) == "make"
    assert group.state == "making" and [e.input for e in group.examples] == ["q1", "q3"]
    assert group.step("q4", "a4", wait_for_tool=True) == "await"  # labelled requests wait for the tool
    assert group.step("q4", "a4", wait_for_tool=False) == "solve"  # serving: the solver answers meanwhile
    assert len(group.examples) == 2


def test_unlabelled_requests_are_labelled_by_the_solver_until_enough_are_on_their_way():
    group = TaskGroup(key="k", needed=2)
    assert [group.step(f"q{i}", None, wait_for_tool=True) for i in range(3)] == ["label", "label", "wait"]
    assert group.step("q3", None, wait_for_tool=False) == "solve"
    assert group.pending_labels == 2
    assert not group.labelled("q0", None)  # the solver failed: no example, the label is no longer pending
    assert group.step("q4", None, wait_for_tool=True) == "label"
    assert not group.labelled("q1", "a1") and group.labelled("q4", "a4")
    assert group.state == "making" and group.pending_labels == 0


def test_an_attempt_settles_to_ready_or_failed_and_wakes_waiters():
    ready = TaskGroup(key="k", state="making")
    ready.finish(TOOL)
    assert ready.state == "ready" and ready.made.is_set() and ready.step("q", "a", True) == "use"
    failed = TaskGroup(key="k", state="making")
    failed.finish(None, "no candidate passed")
    assert failed.state == "failed" and failed.made.is_set() and failed.reason == "no candidate passed"
    assert failed.step("q", "a", True) == "retry"
    for settled in (ready, failed):
        with pytest.raises(BadTransition):
            settled.finish(TOOL)


def test_input_end_makes_from_what_was_collected_or_fails():
    enough = TaskGroup(key="k", needed=6)
    for i in range(2):
        enough.add_example(f"q{i}", "a")
    assert enough.input_ended(min_examples=2) and enough.state == "making"
    assert not enough.input_ended(min_examples=2)  # only collecting groups settle
    too_few = TaskGroup(key="k", needed=6)
    too_few.add_example("q", "a")
    assert not too_few.input_ended(min_examples=2)
    assert too_few.state == "failed" and too_few.reason == "only 1 labelled example(s)"


def test_earlier_failures_start_a_fresh_kind_on_the_solver_path():
    group = TaskGroup(key="k")
    assert group.recall_failure(3, "nothing verified")
    assert (group.state, group.attempts) == ("failed", 3) and "earlier runs (3x)" in group.reason
    started = TaskGroup(key="k")
    started.add_example("q", "a")
    assert not started.recall_failure(3, "nothing verified") and started.state == "collecting"


def test_remake_waits_for_enough_answers_and_fresh_examples():
    group = failed_group(attempts=1)
    for i in range(9):
        assert not group.solver_answered(f"q{i}", f"a{i}" if i % 3 else None)
    assert group.solver_answered("q9", "a9")
    assert group.state == "remaking" and len(group.examples) == 4 and group.retry_examples == []
    assert group.step("q", "a", True) == "retry"  # the solver keeps answering while the remake runs
    assert not group.solver_answered("q10", "a10")  # one remake at a time
    group.finish(TOOL)
    assert group.state == "ready"


def test_each_failure_doubles_the_wait_and_zero_disables():
    group = failed_group(attempts=3, needed=2)
    for i in range(39):
        assert not group.solver_answered(f"q{i}", "a")
    assert group.solver_answered("q39", "a")  # 10 * 2**2 answers since the last failure
    never = failed_group(attempts=1, needed=2, remake_after=0)
    assert not any(never.solver_answered(f"q{i}", "a") for i in range(50))


def test_a_tool_failing_too_often_is_quarantined_and_its_kind_can_be_remade():
    group = TaskGroup(key="k", needed=1, remake_after=2, state="making")
    group.finish(TOOL)
    assert not any(group.tool_used("t", ok=ok, after=4, rate=0.5) for ok in (False, False, True))
    assert not group.tool_used("t", ok=True, after=4, rate=0.5)  # 2 of 4 failed, but a success never pulls it
    assert group.tool_used("t", ok=False, after=4, rate=0.5)  # 3 of 5 failed
    assert group.state == "quarantined" and group.tool is None and "tool t quarantined" in group.reason
    assert (group.tool_uses, group.tool_failures, group.since_failure) == (0, 0, 0)
    assert group.step("q", "a", True) == "retry"
    assert not group.solver_answered("q1", "a") and group.solver_answered("q2", "a")
    assert group.state == "remaking"


def test_a_kinds_own_tool_may_settle_after_a_dispatched_tool_was_pulled():
    group = TaskGroup(key="k", needed=1, state="making")
    assert group.tool_used("stored", ok=False, after=1, rate=0.5)
    group.finish(TOOL)
    assert group.state == "ready" and group.tool == TOOL


def test_groups_share_the_runs_settings():
    groups = TaskGroups(needed=4, remake_after=7)
    group = groups.get("Sort the following words alphabetically: List: b a", None)
    assert groups.get("Sort the following words alphabetically: List: c d", None) is group
    assert (group.needed, group.remake_after) == (4, 7) and groups.all() == [group]
