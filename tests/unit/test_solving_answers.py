"""Answer extraction and program extraction for the solver."""
from __future__ import annotations

import pytest

from agents.llm.reply_code import extract_program
from agents.solving.answer_extract import extract_answer, normalize_answer
from agents.tasks.scoring import is_correct

QUESTION = "Which is a planet?\nOptions:\n(A) the Moon\n(B) Mars\n(C) the Sun"


@pytest.mark.parametrize("text, expected", [
    ("Mars orbits the Sun. So the answer is (B).", "(B)"),
    ("The answer is B", "(B)"),
    ("answer: Mars", "(B)"),
    ("I first thought (A). Actually the answer is (B).", "(B)"),
    ("(C)", "(C)"),
])
def test_option_answers_map_to_letters(text, expected):
    assert extract_answer(text, QUESTION) == expected


def test_free_form_answers():
    assert extract_answer("4 * 6 = 24, minus 9. So the answer is 15.") == "15"
    assert extract_answer("Step 1...\nStep 2...\n1,024") == "1024"
    assert extract_answer("") is None
    assert normalize_answer("12.0") == "12"
    assert normalize_answer("**'10:30 - 12:00'**") == "10:30 - 12:00"


def test_solver_answers_are_scored_with_the_task_rules():
    assert is_correct(extract_answer("So the answer is ] ]."), "]]", "dyck_languages")
    assert not is_correct(extract_answer("So the answer is ] ]."), "]]", "")
    assert is_correct(extract_answer("So the answer is Yes."), "yes", "web_of_lies")
    assert is_correct(normalize_answer("24.0"), "24", "multistep_arithmetic_two")
    assert not is_correct(normalize_answer("25"), "24", "multistep_arithmetic_two")
    assert not is_correct(None, "x")


def test_program_extraction_takes_fence_and_trims_unfinished_tail():
    reply = "Here you go:\n```python\nx = 1\nanswer = x + 1\nif x >\n```\ntrailing prose"
    assert extract_program(reply) == "x = 1\nanswer = x + 1\n"
    assert extract_program("answer = 3") == "answer = 3\n"
    assert extract_program("no code at all, sorry!") is None
