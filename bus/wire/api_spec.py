"""What a caller needs to know about a callable tool or external API, and one call of it."""
from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from bus.wire.tool_spec import Frozen


class ApiSpec(Frozen):
    """A tool as its callers see it: a name, what it does and a JSON schema of its arguments."""

    name: str = Field(description="the name a call uses, e.g. 'add_date' or a stored tool id")
    description: str = Field(default="", description="what the API does and how to call it (prompt text)")
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON schema of the arguments object")
    endpoint: str | None = Field(default=None, description="HTTP URL that runs the API, when a user configured one")


class ToolCall(Frozen):
    """One call: which tool, with which JSON arguments."""

    name: str = Field(description="the tool or API called")
    arguments: dict[str, Any] = Field(default_factory=dict, description="the JSON arguments object")

    def canonical(self) -> str:
        """The arguments as canonical JSON: sorted keys, no whitespace (cache and dedupe key)."""
        return canonical_json(self.arguments)


def canonical_json(value: Any) -> str:
    """A stable text form of a JSON value: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
