"""Where an explored call runs: a stored tool in the sandbox, or an external API over HTTP."""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Protocol

from pydantic import Field

from agents.sandbox import Sandbox
from agents.using.answers import render_value
from agents.using.arguments import ArgumentError, argument_list
from bus.wire.api_spec import ApiSpec, ToolCall
from bus.wire.tool_spec import Frozen, ToolSpec

# A result that says nothing: never evidence that a call worked.
EMPTY_RESULTS = {"", "none", "null", "[]", "{}", '""'}


class Observation(Frozen):
    """What a call returned: the result text, or a typed error saying what was wrong."""

    ok: bool = Field(description="True when the call ran and returned something")
    text: str = Field(default="", description="the result, or the error message")
    error: str | None = Field(default=None, description="error code, e.g. 'invalid_arguments', 'tool_exception'")

    @property
    def useful(self) -> bool:
        """Ran without error and returned something non-empty."""
        return self.ok and self.text.strip().lower() not in EMPTY_RESULTS

    def shown(self, width: int = 600) -> str:
        """The observation as the model sees it."""
        text = self.text if len(self.text) <= width else self.text[: width - 3] + "..."
        return text if self.ok else f"ERROR {self.error}: {text}"


class ToolBackend(Protocol):
    """Runs one call of one tool."""

    async def execute(self, call: ToolCall) -> Observation: ...


def schema_problems(api: ApiSpec, arguments: dict) -> str | None:
    """Why the arguments violate the API's JSON schema, or None."""
    import jsonschema  # ships with ray; the LLM layer validates dict schemas the same way
    errors = sorted(jsonschema.Draft202012Validator(api.parameters).iter_errors(arguments),
                    key=lambda e: list(e.path))
    if not errors:
        return None
    return "; ".join(f"{'.'.join(map(str, e.path)) or '(arguments)'}: {e.message}" for e in errors[:5])


def checked(api: ApiSpec, call: ToolCall) -> Observation | None:
    """A typed error for a call to another API or with arguments the schema refuses, else None."""
    if call.name != api.name:
        return Observation(ok=False, error="unknown_tool", text=f"there is no tool {call.name!r}; call {api.name!r}")
    problem = schema_problems(api, call.arguments)
    if problem:
        return Observation(ok=False, error="invalid_arguments",
                           text=f"{problem}; fix the arguments to match the schema of {api.name}")
    return None


class SandboxTool:
    """A stored structured tool, run for real in the sandbox."""

    def __init__(self, spec: ToolSpec, api: ApiSpec, sandbox: Sandbox, timeout_s: float = 2.0) -> None:
        self.spec, self.api, self.sandbox, self.timeout_s = spec, api, sandbox, timeout_s

    async def execute(self, call: ToolCall) -> Observation:
        """Check the arguments, call the entry in a sandbox worker, render the value."""
        refused = checked(self.api, call)
        if refused:
            return refused
        try:
            args = argument_list(self.spec.code, self.spec.entry, call.arguments)
        except ArgumentError as exc:
            return Observation(ok=False, error="invalid_arguments", text=str(exc))
        result = await self.sandbox.call(self.spec.code, self.spec.entry, args, timeout_s=self.timeout_s)
        if not result.ok:
            return Observation(ok=False, error=f"tool_{result.error}", text=result.detail[:500])
        return Observation(ok=True, text=render_value(result.value))


class HttpApi:
    """A real external API: the arguments are POSTed as JSON to the API's configured endpoint."""

    def __init__(self, api: ApiSpec, timeout_s: float = 10.0) -> None:
        if not api.endpoint:
            raise ValueError(f"API {api.name!r} has no endpoint: add \"endpoint\": URL to its description "
                             "or explore it with the simulator")
        self.api, self.timeout_s = api, timeout_s

    async def execute(self, call: ToolCall) -> Observation:
        """One POST; HTTP and connection failures become typed errors."""
        refused = checked(self.api, call)
        if refused:
            return refused
        return await asyncio.to_thread(self._post, call.arguments)

    def _post(self, arguments: dict) -> Observation:
        request = urllib.request.Request(
            self.api.endpoint, data=json.dumps(arguments).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return Observation(ok=True, text=response.read(64_000).decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            body = exc.read(2000).decode("utf-8", "replace")
            return Observation(ok=False, error=f"http_{exc.code}", text=f"{exc.reason}: {body}"[:600])
        except (urllib.error.URLError, OSError) as exc:
            return Observation(ok=False, error="unreachable",
                               text=f"cannot reach {self.api.endpoint} ({exc}); check the API's endpoint")
