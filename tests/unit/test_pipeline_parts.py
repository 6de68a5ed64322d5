"""Pure parts of the main job: request-line parsing, grouping, answer rendering, usage sums."""
from __future__ import annotations

import json

import pytest

from agents.pipeline.request_lines import BadLine, parse_line
from agents.using.answers import render_value
from agents.using.arguments import ArgumentError, argument_list, signature_schema


def test_good_line_parses_with_int_id():
    req = parse_line(json.dumps({"id": 7, "input": "hello", "task": "t", "extra": 1}), 3)
    assert (req.id, req.input, req.task, req.target) == ("7", "hello", "t", None)


@pytest.mark.parametrize("line,fragment", [
    ("{oops", "not JSON"), ("[1]", "not a JSON object"), ('{"id": "a"}', "input"),
    ('{"id": "a", "input": ""}', "input"), ('{"input": "x"}', "id")])
def test_bad_lines_say_what_is_wrong(line, fragment):
    with pytest.raises(BadLine) as err:
        parse_line(line, 12)
    assert fragment in err.value.reason and "line 12" in err.value.reason


@pytest.mark.parametrize("value,text", [
    (None, ""), (3.0, "3"), (2.5, "2.5"), (["b", "a"], "b a"), (True, "True"), ("  x ", "x"), (12, "12")])
def test_render_value(value, text):
    assert render_value(value) == text


def test_signature_schema_and_argument_order():
    code = "def tool(words: list[str], n: int, flag: bool, x) -> str:\n    return ''\n"
    schema = signature_schema(code, "tool")
    assert schema["properties"]["words"] == {"type": "array", "items": {"type": "string"}}
    assert schema["properties"]["n"] == {"type": "integer"} and schema["required"] == ["words", "n", "flag", "x"]
    assert argument_list(code, "tool", {"n": 1, "words": [], "flag": True, "x": "y"}) == [[], 1, True, "y"]
    with pytest.raises(ArgumentError):
        argument_list(code, "tool", {"n": 1})
