"""Sandbox: run untrusted, model-written code in isolated worker processes with typed results."""
from agents.sandbox.ast_check import check_code
from agents.sandbox.config import SandboxConfig
from agents.sandbox.layers import CORE_LAYERS, active_layers
from agents.sandbox.pool import Sandbox
from agents.sandbox.results import (CallResult, ErrorKind, ForbiddenCode, SandboxClosedError, SandboxError,
                                    SandboxInsecureError, SandboxNotStartedError, WorkerStartError)


def host_call(payload: dict) -> dict:
    """Only meaningful inside sandboxed code, where the worker provides the real builtin."""
    raise RuntimeError("host_call is a builtin of sandboxed code; run the code with Sandbox.call(..., on_callback=...)")


__all__ = [
    "CORE_LAYERS", "CallResult", "ErrorKind", "ForbiddenCode", "Sandbox", "SandboxClosedError",
    "SandboxConfig", "SandboxError", "SandboxInsecureError", "SandboxNotStartedError", "WorkerStartError", "active_layers",
    "check_code", "host_call",
]
