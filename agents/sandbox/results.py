"""Typed outcome of one sandboxed call, and the sandbox's typed errors."""
from __future__ import annotations

from typing import Any, Literal, NamedTuple

ErrorKind = Literal["timeout", "memory", "forbidden", "tool_error", "invalid_output", "rejected"]
ERROR_KINDS: tuple[str, ...] = ("timeout", "memory", "forbidden", "tool_error", "invalid_output", "rejected")


# A named tuple, not a pydantic model or a frozen dataclass: batches build tens of thousands of these
# per second, and a tuple is built in C (a frozen dataclass's __init__ costs three times as much).
class CallResult(NamedTuple):
    """One call's result: `value` when ok, else an error kind and a human-readable detail."""

    ok: bool
    value: Any = None
    error: ErrorKind | None = None
    detail: str = ""

    @classmethod
    def success(cls, value: Any) -> "CallResult":
        """A successful call returning a JSON-safe value."""
        return cls(True, value, None, "")

    @classmethod
    def failure(cls, error: ErrorKind, detail: str) -> "CallResult":
        """A failed call with its error kind and an explanation."""
        return cls(False, None, error, detail)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict form (JSON/msgpack-safe) for messages and logs."""
        return self._asdict()


class SandboxError(Exception):
    """Base class of the sandbox's own errors (never raised for a tool's misbehaviour)."""


class ForbiddenCode(SandboxError):
    """The AST check refused the code; the message names the line and what to change."""


class SandboxInsecureError(SandboxError):
    """Isolation layers are missing and the user did not opt in to running without them."""


class SandboxClosedError(SandboxError):
    """The sandbox was used after close(); create a new Sandbox or use `async with Sandbox()`."""


class SandboxNotStartedError(SandboxError):
    """The sandbox was called before start(); start it once (an agent's `start()` does) or use `async with Sandbox()`."""


class WorkerStartError(SandboxError):
    """A worker process could not start or set up its isolation."""
