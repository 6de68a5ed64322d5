"""Score a tool call against a gold call: well-formed, right API, right arguments (after normalising)."""
from __future__ import annotations

import json
from typing import Any

from bus.wire.api_spec import ToolCall


def normalise(value: Any) -> Any:
    """Scalars become trimmed lower-case text with single spaces (15, 15.0 and " 15" agree); containers recurse."""
    if isinstance(value, dict):
        return {str(k).strip(): normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()).lower()


def gold_arguments(action_input: str) -> dict:
    """The gold arguments object (the data set stores it as JSON text)."""
    value = json.loads(action_input) if action_input.strip() else {}
    return value if isinstance(value, dict) else {}


def score_call(call: ToolCall | None, gold_api: str, gold_args: dict) -> dict[str, bool]:
    """{wellformed, api_match, correct}: correct needs the right API and equal normalised arguments."""
    wellformed = call is not None
    api_match = wellformed and call.name == gold_api
    correct = api_match and normalise(call.arguments) == normalise(gold_args)
    return {"wellformed": wellformed, "api_match": api_match, "correct": correct}
