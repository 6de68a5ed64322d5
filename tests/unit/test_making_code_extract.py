"""Pulling the tool function out of chatty model replies."""
from __future__ import annotations

import pytest

from agents.making.code_extract import (
    CodeExtractionError, extract_function, function_docstring, function_signature)


def test_fenced_block_with_prose_and_example_calls():
    reply = ("Sure! Here it is:\n```python\nimport re\n\ndef solve(question: str) -> str:\n"
             "    \"\"\"Doc.\"\"\"\n    return question.upper()\n\nprint(solve('x'))\n```\nHope it helps.")
    code = extract_function(reply, "solve")
    assert "import re" in code and "def solve" in code
    assert "print(" not in code  # example calls the model added are dropped
    assert function_signature(code, "solve") == "solve(question: str) -> str"
    assert function_docstring(code, "solve") == "Doc."


def test_unfenced_reply_with_trailing_prose_is_trimmed():
    reply = "def solve(q):\n    return q[::-1]\nThis reverses the text."
    assert extract_function(reply, "solve").strip() == "def solve(q):\n    return q[::-1]"


def test_picks_the_block_that_defines_the_entry():
    reply = "```python\nx = 1\n```\n```python\ndef tool(a: int) -> str:\n    return str(a)\n```"
    assert "def tool" in extract_function(reply, "tool")


@pytest.mark.parametrize("reply", ["no code here at all", "```python\ndef other(): pass\n```",
                                   "```python\ndef solve(:\n```"])
def test_unusable_replies_raise_a_typed_error(reply):
    with pytest.raises(CodeExtractionError):
        extract_function(reply, "solve")
