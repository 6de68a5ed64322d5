"""Endpoints that return 5xx, hang past the timeout or answer garbage for a while: the affected
requests get typed error records, the stream goes on, and `--resume` answers them exactly once."""
from __future__ import annotations

import json
import time

from tests.support.stub_llm_server import Fault
from store.run_ledger import RunLedger

from .pipeline_helpers import word_sort_requests
from .run_process import finish, read_records, reverse_reply, reverse_requests, script_maker, start_run, wait_until


class Windows:
    """Consecutive outage windows, starting when `open()` is called."""

    def __init__(self, plan: list[tuple[str, float]]) -> None:
        self.plan, self.started = plan, None

    def open(self) -> None:
        self.started = time.monotonic()

    def mode(self) -> str | None:
        if self.started is None:
            return None
        elapsed = time.monotonic() - self.started
        for mode, seconds in self.plan:
            if elapsed < seconds:
                return mode
            elapsed -= seconds
        return None


def test_outages_then_resume_answer_everything_once(ray_session, llm_stub, tmp_path):
    address = ray_session.get_runtime_context().gcs_address
    windows = Windows([("5xx", 2.0), ("garbage", 2.0), ("timeout", 2.5)])
    llm_stub.script(Fault(status=503), match=lambda body: windows.mode() == "5xx")
    llm_stub.script(Fault(body="<html>bad gateway"), match=lambda body: windows.mode() == "garbage")
    llm_stub.script(Fault(delay_s=2.0, status=504), match=lambda body: windows.mode() == "timeout")
    script_maker(llm_stub)
    llm_stub.script(Fault(delay_s=0.2, reply=reverse_reply), role="solver")
    lines = reverse_requests(20) + word_sort_requests(12)
    requests, out, store = tmp_path / "requests.jsonl", tmp_path / "results.jsonl", tmp_path / "s" / "tools.sqlite"
    requests.write_text("\n".join(lines) + "\n")
    env = {"LATM_DEFAULT_TIMEOUT_S": "1", "LATM_DEFAULT_MAX_RETRIES": "1"}
    proc = start_run(llm_stub, address, requests, out, store, env_extra=env)
    wait_until(lambda: out.exists() and out.read_bytes().count(b"\n") >= 2, what="first answers")
    windows.open()
    code, _, stderr = finish(proc)
    assert code == 0, stderr[-3000:]
    first = read_records(out)
    errors = [r for r in first if r["route"] == "error"]
    assert errors, "the outage windows should have failed some requests"
    assert all(r["error"]["code"] and r["error"]["message"] for r in errors)
    assert len({r["id"] for r in first}) == len(first) == len(lines)  # every request got a record
    for _ in range(3):  # the outage is over: resume retries what it failed
        code, _, stderr = finish(start_run(llm_stub, address, requests, out, store, "--resume", env_extra=env))
        assert code == 0, stderr[-3000:]
        if all(r["route"] != "error" for r in read_records(out)):
            break
    records = read_records(out)
    assert sorted(r["id"] for r in records) == sorted(json.loads(x)["id"] for x in lines)
    assert all(r["route"] in ("tool", "solver") and r["correct"] is not False for r in records)
    ledger = RunLedger(store.parent / "runs.sqlite")
    [run_id] = ledger.runs()
    assert {row.request_id: row.route for row in ledger.rows(run_id)} == {r["id"]: r["route"] for r in records}
