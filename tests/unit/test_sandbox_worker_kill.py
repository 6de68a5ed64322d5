"""Killing a worker never signals a process that reused the pid of a worker already reaped."""
from __future__ import annotations

import mmap
import subprocess
import sys

import pytest

from agents.sandbox.worker_process import LaunchedWorker


def test_kill_after_reap_leaves_a_process_that_reused_the_pid_alone():
    gone = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    gone.wait()  # reaped: its pid is free for the next process
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        gone.pid = bystander.pid  # what pid reuse looks like to the stale handle (pid_max is small here)
        LaunchedWorker(gone, -1, -1, mmap.mmap(-1, 16)).kill()
        with pytest.raises(subprocess.TimeoutExpired):  # still running a while later: not killed
            bystander.wait(timeout=0.5)
        live = LaunchedWorker(bystander, -1, -1, mmap.mmap(-1, 16))
        live.kill()
        assert bystander.wait(timeout=10) == -9  # a live worker is killed, its whole group
    finally:
        if bystander.poll() is None:
            bystander.kill()
            bystander.wait()
