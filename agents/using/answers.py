"""Turn whatever a tool returned into the answer text a request gets back."""
from __future__ import annotations

from typing import Any


def render_value(value: Any) -> str:
    """A tool's JSON-safe return value as answer text: lists joined by spaces, floats tidied."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return " ".join(render_value(v) for v in value)
    return str(value).strip()
