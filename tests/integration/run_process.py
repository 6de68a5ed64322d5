"""`latm run` as a real subprocess attached to the test session's Ray, with the stub as every role."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .pipeline_helpers import CORE_PROMPT, CORE_SORT_TOOL, WRONG_TOOL

SORT_FRAME = "Sort the following words"


def is_sort_making(body: dict) -> bool:
    """A maker prompt for the word-sorting kind (any shape)."""
    return SORT_FRAME in "\n".join(str(m.get("content") or "") for m in body.get("messages", []))


def is_sort_core_making(body: dict) -> bool:
    """A maker prompt for the word-sorting kind asking for the core function over its words."""
    text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
    return SORT_FRAME in text and CORE_PROMPT in text


def script_maker(stub, delay_s: float = 0.0) -> None:
    """The sorting kind gets a right core function (after `delay_s`); any other kind a wrong tool."""
    from tests.support.stub_llm_server import Fault
    stub.script(Fault(delay_s=delay_s, reply=CORE_SORT_TOOL) if delay_s else CORE_SORT_TOOL,
                role="maker", match=is_sort_core_making)
    stub.script(WRONG_TOOL, role="maker")


def reverse_requests(n: int, start: int = 0) -> list[str]:
    """Requests of a second kind (no targets) that the solver answers: reverse three words."""
    vocab = ["red", "blue", "green", "gold", "pink", "gray", "teal", "cyan", "lime", "navy"]
    lines = []
    for i in range(start, start + n):
        words = [vocab[(i * 3 + k) % len(vocab)] for k in range(3)]
        lines.append(json.dumps({"id": f"r{i}", "input": "Reverse the words: " + " ".join(words),
                                 "task": "reverse_words"}))
    return lines


def reverse_reply(body: dict) -> str:
    """The stub solver: reverse the words after 'Reverse the words:' in the question."""
    text = "\n".join(str(m.get("content") or "") for m in body["messages"])
    return " ".join(reversed(text.rsplit("Reverse the words:", 1)[1].split("\n")[0].split()))


def start_run(stub, address: str, requests: Path, out: Path, store: Path, *extra: str,
              env_extra: dict | None = None) -> subprocess.Popen:
    """Launch `latm run` in its own process (never in the test's process group's way)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATM_", "RAY_ADDRESS"))}
    env.update({"OPENAI_BASE_URL": stub.base_url, "OPENAI_API_KEY": "stub", "LATM_DEFAULT_BACKOFF_S": "0.01",
                "LATM_DEFAULT_TIMEOUT_S": "20", **(env_extra or {})})
    # A tool deadline no loaded machine reaches: these runs test crashes, not slow tools.
    return subprocess.Popen(
        [sys.executable, "-m", "agents.cli.main", "run", str(requests), "-o", str(out), "--store", str(store),
         "--no-progress", "--tool-timeout", "60", "--address", address, *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout_s: float = 600) -> tuple[int, str, str]:
    """Wait for the run; its exit code, standard output and standard error."""
    stdout, stderr = proc.communicate(timeout=timeout_s)
    return proc.returncode, stdout, stderr


def complete_lines(out: Path) -> int:
    """Result lines written so far."""
    try:
        return out.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_until(predicate, timeout_s: float = 400, what: str = "condition") -> None:
    """Poll until `predicate()` holds."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def read_records(out: Path) -> list[dict]:
    """Every line of a results file, parsed (a malformed line fails the test)."""
    return [json.loads(line) for line in out.read_text().splitlines()]


def check_exactly_once(out, store_path, lines) -> list[dict]:
    """Each input id once in the results, all answered, and the run ledger holding the same rows."""
    from store.run_ledger import RunLedger
    records = read_records(out)
    ids = [r["id"] for r in records]
    assert sorted(ids) == sorted(json.loads(line)["id"] for line in lines)
    assert len(ids) == len(set(ids))
    assert all(r["route"] in ("tool", "solver") for r in records), [r for r in records if r["route"] == "error"]
    assert all(r["correct"] for r in records if r.get("target"))
    ledger = RunLedger(store_path.parent / "runs.sqlite")
    [run_id] = ledger.runs()  # one run id: a resumed run continues it
    rows = {row.request_id: row for row in ledger.rows(run_id)}
    assert {r["id"]: r["route"] for r in records} == {rid: row.route for rid, row in rows.items()}
    assert {r["id"]: r["answer"] for r in records} == {rid: row.answer for rid, row in rows.items()}
    return records
