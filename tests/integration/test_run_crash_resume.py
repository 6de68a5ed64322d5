"""`latm run` killed with SIGKILL and resumed: every id answered exactly once, the ledger agrees,
tools made before the crash are reused, a tool half-made at the crash is made once, and two runs
sharing one store make each tool once."""
from __future__ import annotations

import json
import random
import sqlite3

import pytest

from store.tool_store import ToolStore

from .pipeline_helpers import word_sort_requests
from .run_process import (check_exactly_once, complete_lines, finish, is_sort_making, read_records, reverse_reply,
                          reverse_requests, script_maker, start_run, wait_until)


def _stream(n_sort: int, n_reverse: int, seed: int, start: int = 0) -> list[str]:
    """A shuffled mix of a kind the maker can make and a kind the solver answers."""
    lines = word_sort_requests(n_sort, start=start) + reverse_requests(n_reverse, start=start)
    random.Random(seed).shuffle(lines)
    return lines


def _script_solver(stub, delay_s: float) -> None:
    from tests.support.stub_llm_server import Fault
    stub.script(Fault(delay_s=delay_s, reply=reverse_reply), role="solver")


def _integrity_ok(path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("seed", [11, 23])
def test_sigkill_at_a_random_moment_then_resume(ray_session, llm_stub, tmp_path, seed):
    address = ray_session.get_runtime_context().gcs_address
    script_maker(llm_stub)
    _script_solver(llm_stub, delay_s=0.3)
    lines = _stream(24, 24, seed)
    requests, out, store = tmp_path / "requests.jsonl", tmp_path / "results.jsonl", tmp_path / "s" / "tools.sqlite"
    requests.write_text("\n".join(lines) + "\n")
    kill_after = random.Random(seed).randint(1, len(lines) - 8)
    proc = start_run(llm_stub, address, requests, out, store)
    try:
        wait_until(lambda: complete_lines(out) >= kill_after or proc.poll() is not None, what="results")
    finally:
        proc.kill()  # SIGKILL: no clean-up code of the run gets to execute
        proc.wait()
    before_resume = complete_lines(out)
    assert before_resume < len(lines), "the run finished before the kill; pick an earlier moment"
    stored_before = ToolStore(store).versions("word_sorting")
    sort_makings_before = sum(is_sort_making(r.body) for r in llm_stub.calls("maker"))

    code, stdout, stderr = finish(start_run(llm_stub, address, requests, out, store, "--resume"))
    assert code == 0, stderr[-3000:]
    check_exactly_once(out, store, lines)
    assert len(ToolStore(store).versions("word_sorting")) == 1
    if stored_before:
        assert ToolStore(store).versions("word_sorting") == stored_before
    sort_makings_after = sum(is_sort_making(r.body) for r in llm_stub.calls("maker")) - sort_makings_before
    if stored_before:  # made before the crash: reused, not made again
        assert sort_makings_after == 0
    assert _integrity_ok(store)


def test_a_tool_half_made_at_the_crash_is_made_once(ray_session, llm_stub, tmp_path):
    address = ray_session.get_runtime_context().gcs_address
    script_maker(llm_stub, delay_s=30)  # the maker is still writing when the run is killed
    _script_solver(llm_stub, delay_s=0.0)
    lines = _stream(12, 4, seed=5)
    requests, out, store = tmp_path / "requests.jsonl", tmp_path / "results.jsonl", tmp_path / "s" / "tools.sqlite"
    requests.write_text("\n".join(lines) + "\n")
    proc = start_run(llm_stub, address, requests, out, store)
    try:
        wait_until(lambda: any(is_sort_making(r.body) for r in llm_stub.calls("maker")), what="the maker's call")
    finally:
        proc.kill()
        proc.wait()
    assert ToolStore(store).versions("word_sorting") == []
    # The resumed run talks to a fresh endpoint: calls the dead run's actors may still make
    # before Ray reaps them (slow on a busy machine) go to the old one and are not counted.
    from tests.support.stub_llm_server import StubLLMServer
    fresh = StubLLMServer().start()
    try:
        script_maker(fresh)
        _script_solver(fresh, delay_s=0.0)
        code, stdout, stderr = finish(start_run(fresh, address, requests, out, store, "--resume"))
        sort_makings = sum(is_sort_making(r.body) for r in fresh.calls("maker"))
    finally:
        fresh.stop()
    assert code == 0, stderr[-3000:]
    records = check_exactly_once(out, store, lines)
    assert len(ToolStore(store).versions("word_sorting")) == 1
    from agents.making.maker import MakerConfig
    # One making, one round: the dead run's lease did not hold the resumed run up or make it twice.
    assert sort_makings == MakerConfig().samples_per_round
    assert sum(r["route"] == "tool" for r in records) == 12


def test_two_runs_sharing_one_store_make_each_tool_once(ray_session, llm_stub, tmp_path):
    address = ray_session.get_runtime_context().gcs_address
    script_maker(llm_stub, delay_s=1.5)  # both runs reach the making point while it lasts
    _script_solver(llm_stub, delay_s=0.0)
    store = tmp_path / "s" / "tools.sqlite"
    runs = []
    for n in range(2):
        lines = _stream(16, 4, seed=n, start=100 * n)
        requests, out = tmp_path / f"requests{n}.jsonl", tmp_path / f"results{n}.jsonl"
        requests.write_text("\n".join(lines) + "\n")
        runs.append((start_run(llm_stub, address, requests, out, store), out, lines))
    for proc, out, lines in runs:
        code, stdout, stderr = finish(proc)
        assert code == 0, stderr[-3000:]
        records = read_records(out)
        assert sorted(r["id"] for r in records) == sorted(json.loads(x)["id"] for x in lines)
        assert all(r["correct"] for r in records if r.get("target"))
    from agents.making.maker import MakerConfig
    assert len(ToolStore(store).versions("word_sorting")) == 1
    assert sum(is_sort_making(r.body) for r in llm_stub.calls("maker")) == MakerConfig().samples_per_round
    assert _integrity_ok(store)
