"""`latm run` on a store locked by another process or on a full disk: a clear error and exit code 2,
an intact store, and `--resume` afterwards answers every request exactly once."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from store.tool_store import ToolStore

from .pipeline_helpers import word_sort_requests
from .run_process import finish, read_records, reverse_reply, reverse_requests, script_maker, start_run

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE store_meta SET value = value WHERE key = 'generation'")
print("locked", flush=True)
time.sleep(120)
"""


def _integrity_ok(path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _answered_once(out, lines) -> bool:
    records = read_records(out)
    ids = [r["id"] for r in records]
    return (sorted(ids) == sorted(json.loads(line)["id"] for line in lines)
            and all(r["route"] in ("tool", "solver") for r in records))


def test_store_locked_by_another_process(ray_session, llm_stub, tmp_path):
    address = ray_session.get_runtime_context().gcs_address
    script_maker(llm_stub)
    llm_stub.script(reverse_reply, role="solver")
    lines = word_sort_requests(10) + reverse_requests(3)
    requests, out, store = tmp_path / "requests.jsonl", tmp_path / "results.jsonl", tmp_path / "s" / "tools.sqlite"
    requests.write_text("\n".join(lines) + "\n")
    ToolStore(store)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, stdout, stderr = finish(start_run(llm_stub, address, requests, out, store,
                                                env_extra={"LATM_STORE_BUSY_TIMEOUT_S": "0.5"}))
    finally:
        holder.kill()
        holder.wait()
    assert code == 2, stderr[-3000:]
    assert "locked by another process" in stderr and "--resume" in stderr and "Traceback" not in stderr
    assert _integrity_ok(store)
    code, stdout, stderr = finish(start_run(llm_stub, address, requests, out, store, "--resume"))
    assert code == 0, stderr[-3000:]
    assert _answered_once(out, lines)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB file system of its own (tmpfs), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a small tmpfs needs root: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_stops_with_a_clear_error_and_resume_completes(ray_session, llm_stub, tmp_path, small_disk):
    address = ray_session.get_runtime_context().gcs_address
    script_maker(llm_stub)
    llm_stub.script(reverse_reply, role="solver")
    lines = word_sort_requests(400) + reverse_requests(10)
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(lines) + "\n")
    out, store = small_disk / "results.jsonl", small_disk / "s" / "tools.sqlite"
    ToolStore(store)
    filler = small_disk / "filler"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * (free - 256 * 1024))  # room to open the files and write part of the results
    code, stdout, stderr = finish(start_run(llm_stub, address, requests, out, store))
    assert code == 2, stderr[-3000:]
    assert ("full" in stderr or "No space left" in stderr) and "--resume" in stderr and "Traceback" not in stderr
    assert _integrity_ok(store)
    assert 0 < out.read_bytes().count(b"\n") < len(lines)
    filler.unlink()
    code, stdout, stderr = finish(start_run(llm_stub, address, requests, out, store, "--resume"))
    assert code == 0, stderr[-3000:]
    assert _answered_once(out, lines)
