"""Task groups: when a kind whose making failed is due for another attempt."""
from __future__ import annotations

from agents.pipeline.task_groups import TaskGroup


def failed_group(attempts: int) -> TaskGroup:
    group = TaskGroup(key="k", attempts=attempts)
    group.finish(None, "no tool")
    return group


def test_remake_waits_for_enough_answers_and_fresh_examples():
    group = failed_group(attempts=1)
    for i in range(9):
        group.note_solver_answer(f"q{i}", f"a{i}" if i % 3 else None, needed=4)
        assert not group.remake_due(after=10, needed=4)
    group.note_solver_answer("q9", "a9", needed=4)
    assert len(group.retry_examples) == 4 and group.remake_due(after=10, needed=4)


def test_each_failure_doubles_the_wait_and_zero_disables():
    group = failed_group(attempts=3)
    for i in range(39):
        group.note_solver_answer(f"q{i}", "a", needed=2)
    assert not group.remake_due(after=10, needed=2)
    group.note_solver_answer("q39", "a", needed=2)
    assert group.remake_due(after=10, needed=2)  # 10 * 2**2 answers since the last failure
    assert not group.remake_due(after=0, needed=2)


def test_a_new_tool_starts_with_clean_health():
    group = TaskGroup(key="k", tool_uses=40, tool_failures=30)
    group.finish(None, "quarantined")
    assert (group.tool_uses, group.tool_failures, group.since_failure) == (0, 0, 0)
