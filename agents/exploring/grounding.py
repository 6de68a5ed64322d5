"""Whether an explored call's arguments come from its query: the demos a tool user should learn from."""
from __future__ import annotations

import re
from typing import Any

from bus.wire.api_spec import ApiSpec, ToolCall

_TOKENS = re.compile(r"[a-z0-9]+")


def _text(value: Any) -> str:
    """A value as lower-case alphanumeric words (15 and 15.0 alike)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(_TOKENS.findall(str(value).lower()))


def ungrounded(api: ApiSpec, call: ToolCall, query: str) -> list[str]:
    """The arguments whose value neither appears in the query nor is the argument's default."""
    # A demo teaches a small model to copy values from the request; a value the explorer made up
    # (a schema word, a placeholder) would teach it to make values up too.
    said = f" {_text(query)} "
    props = api.parameters.get("properties") or {}
    bad = []
    for name, value in call.arguments.items():
        items = value if isinstance(value, list) else [value]
        default = props.get(name, {}).get("default")
        for item in items:
            words = _text(item)
            if isinstance(item, bool) or (default is not None and words == _text(default)):
                continue
            if not words or f" {words} " not in said:
                bad.append(name)
                break
    return bad
