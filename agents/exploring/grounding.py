"""Whether an explored call's arguments come from its query: the only demos a tool user should learn from."""
from __future__ import annotations

import re
from typing import Any

from bus.wire.api_spec import ToolCall

_TOKENS = re.compile(r"[a-z0-9]+")


def _text(value: Any) -> str:
    """A value as lower-case alphanumeric words (15 and 15.0 alike)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(_TOKENS.findall(str(value).lower()))


def ungrounded(call: ToolCall, query: str) -> list[str]:
    """The arguments whose value does not appear in the query (booleans excepted)."""
    # A demo teaches a small model to copy values from the request; a value the explorer made up
    # or took from the description (a default, a placeholder) would teach it to copy those instead:
    # SmolLM2-135M's demos answered "Can you show me a character?" with the default name "Cabel".
    said = f" {_text(query)} "
    bad = []
    for name, value in call.arguments.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            words = _text(item)
            if isinstance(item, bool):
                continue
            if not words or f" {words} " not in said:
                bad.append(name)
                break
    return bad
