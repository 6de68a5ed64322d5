"""Scoring forgives formatting (letters, spaces, case, number forms) but not wrong content."""
from __future__ import annotations

import pytest

from agents.tasks.bbh import PAPER_TASKS, load_task
from agents.tasks.scoring import is_correct, normalise


@pytest.mark.parametrize("answer,target,task,expected", [
    ("A", "(A)", "logical_deduction_five_objects", True),
    ("(a)", "(A)", "logical_deduction_five_objects", True),
    ("(A) The quail is the rightmost", "(A)", "logical_deduction_five_objects", True),
    ("Answer: (C)", "(C)", "tracking_shuffled_objects_five_objects", True),
    ("B", "(A)", "tracking_shuffled_objects_five_objects", False),
    ("A", "(A)", "", True),                     # unknown task, choice target
    ("Alice", "(A)", "logical_deduction_five_objects", False),
    ("14687.0", "14687", "chinese_remainder_theorem", True),
    ("14,687", "14687", "chinese_remainder_theorem", True),
    (" 14687 \n", "14687", "chinese_remainder_theorem", True),
    (14687, "14687", "chinese_remainder_theorem", True),
    ("14688", "14687", "chinese_remainder_theorem", False),
    ("146870", "14687", "chinese_remainder_theorem", False),
    ("] ] >", "]]>", "dyck_languages", True),
    ("]]>", "] ] >", "dyck_languages", True),
    ("] >", "] ] >", "dyck_languages", False),
    ("Barn  Damp\ndelmarva", "barn damp delmarva", "word_sorting", True),
    ("barn, damp, delmarva", "barn damp delmarva", "word_sorting", True),
    ("damp barn delmarva", "barn damp delmarva", "word_sorting", False),
    ("answer apple", "answer apple", "word_sorting", True),
    ("9:30-11:00", "09:30 - 11:00", "schedule_meeting", True),
    ("09:30 - 11:00.", "09:30 - 11:00", "schedule_meeting", True),
    ("no time slot works", "No time slot works.", "schedule_meeting", True),
    ("09:30 - 10:30", "09:30 - 11:00", "schedule_meeting", False),
    ("No", "No time slot works.", "schedule_meeting", False),
    ("Yes.", "yes", "sports_understanding", True),
    ("-35.0", "-35", "multistep_arithmetic_two", True),
    (None, "14687", "chinese_remainder_theorem", False),
    ("", "(A)", "logical_deduction_five_objects", False),
])
def test_is_correct(answer, target, task, expected):
    assert is_correct(answer, target, task) is expected


def test_every_target_is_correct_against_itself_and_stable():
    for task in PAPER_TASKS:
        for example in load_task(task)[:60]:
            assert is_correct(example.target, example.target, task)
            once = normalise(example.target, task)
            assert normalise(once, task) == once


def test_normalise_numbers():
    assert normalise("1e3", "chinese_remainder_theorem") == "1000"
    assert normalise("2.50", "") == "2.5"
    assert normalise("  Hello   World. ", "") == "hello world"
