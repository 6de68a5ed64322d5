"""Schema targets: JSON extraction, validation messages, schemas from signatures."""
from __future__ import annotations

import pytest
from pydantic import BaseModel

from agents.llm.structured import SchemaMismatch, SchemaTarget, extract_json, model_from_signature


class Point(BaseModel):
    x: int
    y: int


@pytest.mark.parametrize("text", [
    '{"x": 1, "y": 2}',
    'Sure! Here it is:\n```json\n{"x": 1, "y": 2}\n```',
    'The answer is {"x": 1, "y": 2} as requested. {"x": 9}',
])
def test_extract_json_finds_the_first_object(text):
    assert extract_json(text) == {"x": 1, "y": 2}


@pytest.mark.parametrize("text", ["", "no json here", "{broken: ", "```json\n{x}\n```"])
def test_extract_json_raises_schema_mismatch_on_garbage(text):
    with pytest.raises(SchemaMismatch):
        extract_json(text)


def test_pydantic_target_validates_and_explains():
    target = SchemaTarget(Point)
    assert target.parse('{"x": 1, "y": "2"}') == Point(x=1, y=2)
    with pytest.raises(SchemaMismatch, match="y"):
        target.parse('{"x": 1}')
    assert target.response_format("json_schema")["json_schema"]["schema"]["required"] == ["x", "y"]
    assert target.tool()["function"]["name"] == "Point"


def test_dict_schema_target_uses_json_schema_rules():
    schema = {"type": "object", "properties": {"tags": {"type": "array",
              "items": {"type": "string"}}}, "required": ["tags"]}
    target = SchemaTarget(schema)
    assert target.parse('{"tags": ["a"]}') == {"tags": ["a"]}
    with pytest.raises(SchemaMismatch, match="tags"):
        target.parse('{"tags": [1]}')


def test_schema_from_function_and_signature_text():
    def solve(question: str, limit: int = 3) -> str:
        return question

    from_fn = model_from_signature(solve).model_json_schema()
    from_text = model_from_signature("solve(question: str, limit: int = 3) -> str"
                                     ).model_json_schema()
    for schema in (from_fn, from_text):
        assert schema["required"] == ["question"]
        assert schema["properties"]["limit"]["type"] == "integer"
    nested = model_from_signature("f(xs: list[int], m: dict[str, float], z: Weird)")
    assert nested.model_validate({"xs": [1], "m": {"a": 1.5}, "z": object()}).xs == [1]
    with pytest.raises(ValueError, match="cannot parse"):
        model_from_signature("not a signature(")
