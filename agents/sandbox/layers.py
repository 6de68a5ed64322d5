"""Which isolation layers this machine actually provides, probed with a real worker."""
from __future__ import annotations

import os
import select
import subprocess

import msgpack

from agents.sandbox.config import SandboxConfig

# Without these, untrusted code is refused unless the user opts in.
CORE_LAYERS = ("network_namespace", "rlimits", "privilege_drop", "seccomp")
_PROBED: dict[str, bool] | None = None


def _read_hello(fd: int, timeout_s: float) -> list | None:
    """Blocking read of the worker's first frame, or None on timeout or garbage."""
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], timeout_s)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        data += chunk
        if len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[:4], "big"):
            try:
                return msgpack.unpackb(data[4:4 + int.from_bytes(data[:4], "big")], raw=False)
            except Exception:
                return None


def probe_layers(config: SandboxConfig | None = None) -> dict[str, bool]:
    """Start one worker synchronously and report the layers it managed to apply."""
    from agents.sandbox.worker_process import launch, make_jail_dir

    config = config or SandboxConfig()
    jail = make_jail_dir()
    worker = launch(config, jail)
    try:
        hello = _read_hello(worker.from_worker, config.start_timeout_s)
    finally:
        worker.kill()
        try:
            worker.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        worker.close_fds()
        os.rmdir(jail)
    layers = {name: False for name in CORE_LAYERS}
    layers["filesystem_jail"] = False
    if hello and hello[0] == "hello" and isinstance(hello[1], dict):
        layers.update({str(k): bool(v) for k, v in hello[1].items()})
    layers["ast_check"] = config.ast_check
    return layers


def active_layers() -> dict[str, bool]:
    """Layers a default Sandbox gets on this machine (probed once per process); `latm doctor` prints it."""
    global _PROBED
    if _PROBED is None:
        _PROBED = probe_layers()
    return dict(_PROBED)


def missing_core_layers(layers: dict[str, bool]) -> list[str]:
    """Core layers that are not active."""
    return [name for name in CORE_LAYERS if not layers.get(name)]
