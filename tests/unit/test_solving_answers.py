"""Answer extraction and program extraction for the solver."""
from __future__ import annotations

import pytest

from agents.lmulator.answer_extract import answers_match, extract_answer, normalize_answer
from agents.lmulator.program_extract import extract_program

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


def test_answers_match_is_lenient_on_spacing_case_and_numbers():
    assert answers_match("] ]", "]]") and answers_match("Yes", "yes")
    assert answers_match("24.0", "24") and not answers_match("25", "24")
    assert not answers_match(None, "x")


def test_program_extraction_takes_fence_and_trims_unfinished_tail():
    reply = "Here you go:\n```python\nx = 1\nanswer = x + 1\nif x >\n```\ntrailing prose"
    assert extract_program(reply) == "x = 1\nanswer = x + 1\n"
    assert extract_program("answer = 3") == "answer = 3\n"
    assert extract_program("no code at all, sorry!") is None
