"""Two processes writing to one store file at once lose nothing and corrupt nothing."""
from __future__ import annotations

import multiprocessing
import sqlite3

from bus.wire.tool_spec import ToolSpec
from store.tool_store import ToolStore

TOOLS_PER_WRITER = 40
USES_PER_WRITER = 150


def write_many(path: str, writer: int) -> None:
    """Put tool versions and record uses on a shared tool, interleaved, as a maker and a user would."""
    store = ToolStore(path)
    shared = store.get("shared")
    for i in range(TOOLS_PER_WRITER):
        store.put(ToolSpec(tool_id=f"w{writer}", task="t", code=f"def solve(q):\n    return {i}\n"))
        for _ in range(USES_PER_WRITER // TOOLS_PER_WRITER):
            store.record_use("shared", shared.version, ok=writer == 0)
    for _ in range(USES_PER_WRITER % TOOLS_PER_WRITER):
        store.record_use("shared", shared.version, ok=writer == 0)
    store.search("anything")


def test_two_writer_processes(tmp_path):
    path = str(tmp_path / "tools.sqlite")
    store = ToolStore(path)
    version = store.put(ToolSpec(tool_id="shared", task="t", code="def solve(q):\n    return q\n"))
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=write_many, args=(path, n)) for n in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert len(store.versions("w0")) == len(store.versions("w1")) == TOOLS_PER_WRITER
    stats = store.stats("shared", version)
    assert (stats.uses, stats.failures) == (2 * USES_PER_WRITER, USES_PER_WRITER)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
