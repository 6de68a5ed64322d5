"""Host side: launch one worker process with its pipes, progress page and jail directory."""
from __future__ import annotations

import fcntl
import json
import mmap
import os
import signal
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import msgpack

from agents.sandbox.config import SandboxConfig

WORKER_MAIN = Path(__file__).with_name("worker_main.py")
PROGRESS = struct.Struct("<qd")  # same layout as in worker_main.py
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PIPE_BYTES = 1 << 20


def _module_dirs() -> list[str]:
    """Directories holding the third-party modules the worker bootstrap imports (msgpack, pyseccomp)."""
    dirs = [str(Path(msgpack.__file__).resolve().parent.parent)]
    try:
        import pyseccomp
    except (ImportError, OSError):
        return dirs
    seccomp_dir = str(Path(pyseccomp.__file__).resolve().parent)
    if seccomp_dir not in dirs:
        dirs.append(seccomp_dir)
    return dirs


def make_jail_dir() -> str:
    """An empty directory nobody can write, used as every worker's filesystem root."""
    path = tempfile.mkdtemp(prefix="latm-sandbox-")
    os.chmod(path, 0o555)
    return path


@dataclass
class LaunchedWorker:
    """A running worker process and the host's ends of its pipes."""

    proc: subprocess.Popen
    to_worker: int
    from_worker: int
    progress: mmap.mmap
    layers: dict = field(default_factory=dict)

    def read_progress(self) -> tuple[int, float]:
        """(index of the running call, its start time on the monotonic clock)."""
        return PROGRESS.unpack_from(self.progress, 0)

    def write_progress(self, index: int, started: float) -> None:
        """Reset the progress page (only while the worker is blocked waiting for the host)."""
        PROGRESS.pack_into(self.progress, 0, index, started)

    def kill(self) -> None:
        """SIGKILL the worker's whole process group, unless the worker was already reaped."""
        # Once reaped, its pid (and group id) can belong to another process: with pid_max at
        # 32768 and a new worker per tool, a stale killpg here would kill another tool's worker.
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close_fds(self) -> None:
        """Release the host's pipe ends and the progress page."""
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.progress.close()
        except (BufferError, ValueError):
            pass


def _widen_pipe(fd: int) -> None:
    """Grow a pipe's buffer to 1 MiB when allowed: a batch frame then crosses in a few wake-ups, not dozens."""
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # above /proc/sys/fs/pipe-max-size for this user: the default 64 KiB still works


def launch(config: SandboxConfig, jail_dir: str) -> LaunchedWorker:
    """Start `python -I -S worker_main.py` in its own session with an empty environment."""
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    for fd in (to_w, from_w):
        _widen_pipe(fd)
    progress_fd = os.memfd_create("latm-progress", 0)
    os.ftruncate(progress_fd, PROGRESS.size)
    page = mmap.mmap(progress_fd, PROGRESS.size)
    PROGRESS.pack_into(page, 0, -2, 0.0)
    settings = dict(config.worker_settings(), paths=_module_dirs(), rfd=to_r, wfd=from_w,
                    progress_fd=progress_fd, jail=jail_dir)
    try:
        proc = subprocess.Popen(
            [config.python or sys.executable, "-I", "-S", str(WORKER_MAIN), json.dumps(settings)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            # Bootstrap failures happen before the worker silences its own stderr.
            stderr=None if os.environ.get("LATM_SANDBOX_DEBUG") else subprocess.DEVNULL,
            env={}, cwd=jail_dir, pass_fds=(to_r, from_w, progress_fd), start_new_session=True,
            close_fds=True,
        )
    finally:
        for fd in (to_r, from_w, progress_fd):
            os.close(fd)
    return LaunchedWorker(proc, to_w, from_r, page)
