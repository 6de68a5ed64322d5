"""A full disk or a file locked by another process gives a typed error that says what to do, and
leaves the store intact; making leases; the run ledger's resume bookkeeping."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from bus.wire.tool_spec import ToolSpec
from store.making_leases import MakingLeases
from store.run_ledger import RunLedger, RunRow
from store.store_errors import StoreBusyError, StoreFullError
from store.tool_store import ToolStore


def _spec(i: int, size: int = 10) -> ToolSpec:
    return ToolSpec(tool_id=f"t{i}", task=f"task{i}", code=f"def solve(q):\n    return {'x' * size!r}\n")


def _integrity(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_full_database_is_a_typed_error_and_the_store_stays_intact(tmp_path):
    path = tmp_path / "tools.sqlite"
    store = ToolStore(path)
    store.put(_spec(0))
    conn = store.db.conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full" condition
    with pytest.raises(StoreFullError, match="full.*free space"):
        store.put(_spec(1, size=200_000))
    assert store.versions("t1") == [] and store.get("t0") is not None  # rolled back, earlier data kept
    assert _integrity(path) == "ok"
    conn.execute("PRAGMA max_page_count = 1073741823")
    store.put(_spec(1, size=200_000))
    assert len(store.versions("t1")) == 1


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE store_meta SET value = value WHERE key = 'generation'")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def test_file_locked_by_another_process_is_a_typed_error(tmp_path, monkeypatch):
    path = tmp_path / "tools.sqlite"
    ToolStore(path).put(_spec(0))
    monkeypatch.setenv("LATM_STORE_BUSY_TIMEOUT_S", "0.3")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        store = ToolStore(path)
        assert store.get("t0") is not None  # readers are not blocked (WAL)
        with pytest.raises(StoreBusyError, match="locked by another process.*LATM_STORE_BUSY_TIMEOUT_S"):
            store.put(_spec(1))
    finally:
        holder.kill()
        holder.wait()
    store.put(_spec(1))  # the lock went with its process
    assert len(store.versions("t1")) == 1 and _integrity(path) == "ok"


def test_a_lease_is_exclusive_and_a_dead_owners_lease_is_taken_over(tmp_path):
    path = tmp_path / "tools.sqlite"
    ToolStore(path)
    mine, other = MakingLeases(path), MakingLeases(path)
    assert mine.try_acquire("sorting") is None
    assert other.try_acquire("sorting") == mine.owner  # live holder: wait
    mine.release("sorting")
    assert other.try_acquire("sorting") is None
    # A process that takes a lease and dies without releasing it (SIGKILL) does not block anyone.
    code = ("import sys; from store.making_leases import MakingLeases; "
            "assert MakingLeases(sys.argv[1]).try_acquire('parsing') is None")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    assert mine.try_acquire("parsing") is None and mine.holders()["parsing"] == mine.owner


def test_an_expired_lease_is_taken_over(tmp_path):
    path = tmp_path / "tools.sqlite"
    ToolStore(path)
    short = MakingLeases(path, ttl_s=0.2)
    short.owner = "another-host|1|x"  # a holder this machine cannot check: only expiry frees it
    assert short.try_acquire("sorting") is None
    other = MakingLeases(path)
    assert other.try_acquire("sorting") == "another-host|1|x"
    time.sleep(0.3)
    assert other.try_acquire("sorting") is None
    assert short.renew("sorting") is False  # the old holder learns it lost the lease


def test_ledger_reconcile_makes_a_run_hold_exactly_the_given_rows(tmp_path):
    ledger = RunLedger(tmp_path / "runs.sqlite")
    ledger.start_run("r1", "/out.jsonl")
    ledger.record_many([RunRow(run_id="r1", request_id=i, route="error") for i in ("a", "b", "c")])
    dropped = ledger.reconcile("r1", [RunRow(run_id="r1", request_id=i, route="tool", answer=i) for i in ("a", "d")])
    assert dropped == 2
    assert [(r.request_id, r.route) for r in ledger.rows("r1")] == [("a", "tool"), ("d", "tool")]
    assert ledger.last_run_for("/out.jsonl") == "r1" and ledger.last_run_for("/other.jsonl") is None
