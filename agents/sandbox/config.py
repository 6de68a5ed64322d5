"""Settings of the sandbox pool and of each isolated worker."""
from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

INSECURE_ENV = "LATM_SANDBOX_INSECURE"


def _insecure_from_env() -> bool:
    """Opt-in to run without the core isolation layers, read from the environment."""
    return os.environ.get(INSECURE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


class SandboxConfig(BaseModel):
    """Pool size, per-worker limits and which isolation layers to apply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int = Field(2, ge=1, le=256, description="Calls that may run at the same time (one per worker).")
    spares: int = Field(1, ge=0, le=64, description="Extra warm workers kept ready so a killed worker does not stall callers.")
    memory_mb: int = Field(512, ge=64, le=65536, description="Address-space limit of a worker (RLIMIT_AS), in MiB.")
    cpu_s: int = Field(60, ge=1, le=86400, description="CPU seconds a worker may use over its whole life (RLIMIT_CPU).")
    file_size_bytes: int = Field(1 << 20, ge=0, description="Largest file a worker may write (RLIMIT_FSIZE).")
    max_calls_per_worker: int = Field(200_000, ge=1, description="Recycle a worker after this many calls.")
    max_idle_workers: int = Field(8, ge=0, le=1024, description="Idle workers kept warm for the tools they serve (each serves one tool version); the least recently used go first.")
    recycle_on_tool_error: bool = Field(False, description="Also recycle after an ordinary exception raised by a tool (always done for timeout, memory, forbidden, crashes).")
    max_value_bytes: int = Field(4 << 20, ge=1024, description="Largest packed return value of one call; larger ones are invalid_output.")
    max_frame_bytes: int = Field(64 << 20, ge=4096, description="Largest protocol frame the host accepts from a worker before killing it (keep it above 2 x max_value_bytes).")
    max_code_chars: int = Field(200_000, ge=1, description="Longest tool source accepted.")
    start_timeout_s: float = Field(20.0, gt=0, description="How long a new worker may take to set up isolation and say hello.")
    ast_check: bool = Field(True, description="Run the AST check and give code restricted builtins. Tests turn it off to exercise the process layers alone.")
    network_namespace: bool = Field(True, description="Put each worker in its own empty network namespace.")
    filesystem_jail: bool = Field(True, description="chroot each worker into an empty read-only directory.")
    drop_privileges: bool = Field(True, description="When started as root, switch the worker to nobody (uid/gid 65534).")
    rlimits: bool = Field(True, description="Apply address-space, CPU, file-size, process and file-descriptor limits.")
    seccomp: bool = Field(True, description="Load a seccomp filter denying network, exec, fork, file opening, ptrace, signals to others, mount and similar.")
    allow_insecure: bool = Field(default_factory=_insecure_from_env, description="Run untrusted code even when core layers are unavailable (env LATM_SANDBOX_INSECURE=1).")
    python: str | None = Field(None, description="Interpreter for workers; default: the host's own interpreter.")

    def worker_settings(self) -> dict:
        """The subset of settings the worker process needs, as plain JSON-safe data."""
        return {
            "memory_bytes": self.memory_mb << 20,
            "cpu_s": self.cpu_s,
            "file_size_bytes": self.file_size_bytes,
            "ast_check": self.ast_check,
            "network_namespace": self.network_namespace,
            "filesystem_jail": self.filesystem_jail,
            "drop_privileges": self.drop_privileges,
            "rlimits": self.rlimits,
            "seccomp": self.seccomp,
            "max_value_bytes": self.max_value_bytes,
            "max_frame_bytes": self.max_frame_bytes,
        }
