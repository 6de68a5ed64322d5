"""`latm tools` and `latm stream` end to end: real subprocesses of the console script, plus in-process calls."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.cli.main import main
from bus.wire.tool_spec import Example, ToolSpec
from store.tool_store import ToolStore

REPO = Path(__file__).resolve().parents[2]
LATM = REPO / ".venv" / "bin" / "latm"


def latm(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script (or the module when the script is missing)."""
    command = [str(LATM)] if LATM.exists() else [sys.executable, "-m", "agents.cli.main"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.fixture()
def store_path(tmp_path) -> Path:
    """A store holding two tools, one of them with two versions."""
    path = tmp_path / "tools.sqlite"
    store = ToolStore(path)
    for body in ("return 1", "return 2"):
        store.put(ToolSpec(tool_id="sorter", task="word_sorting", code=f"def solve(q):\n    {body}\n",
                           docstring="Sort words.", tests=(Example(input="Sort: b a", target="a b"),)))
    version = store.put(ToolSpec(tool_id="crt", task="chinese_remainder_theorem", code="def solve(q):\n    return q\n"))
    store.record_use("crt", version, ok=False, n=2)
    return path


def test_list_export_import_via_console_script(store_path, tmp_path):
    listed = latm("tools", "list", "--json", cwd=tmp_path, env={"LATM_STORE": str(store_path)})
    assert listed.returncode == 0, listed.stderr
    rows = {row["tool_id"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"sorter", "crt"} and rows["sorter"]["versions"] == 2 and rows["crt"]["failures"] == 2

    exported = tmp_path / "tools.jsonl"
    assert main(["tools", "export", str(exported), "--store", str(store_path)]) == 0
    lines = exported.read_text().splitlines()
    assert len(lines) == 3
    record = json.loads(lines[0])
    record["code"] += "# tampered\n"
    exported.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    other = tmp_path / "other.sqlite"
    imported = latm("tools", "import", str(exported), "--store", str(other), cwd=tmp_path)
    assert imported.returncode == 1
    assert "imported 2, already present 0, refused 1" in imported.stdout
    assert "line 1" in imported.stderr and "hashes to" in imported.stderr
    assert len(ToolStore(other).list()) == 2


def test_list_show_rm_in_process(store_path, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["tools", "list"]) == 0
    assert "no store at .latm/tools.sqlite" in capsys.readouterr().out
    assert main(["tools", "list", "--store", str(store_path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["TOOL_ID", "TASK", "VERSION"] and "2 tool(s)" in table[-1]
    assert main(["tools", "show", "sorter", "--store", str(store_path)]) == 0
    shown = capsys.readouterr().out
    assert "sorter  version" in shown and "return 2" in shown and "tests passed: 1" in shown
    assert main(["tools", "show", "sorter", "--json", "--store", str(store_path)]) == 0
    assert len(json.loads(capsys.readouterr().out)["versions"]) == 2
    assert main(["tools", "quarantine", "crt", "--store", str(store_path)]) == 0
    assert main(["tools", "list", "--status", "quarantined", "--json", "--store", str(store_path)]) == 0
    capsys.readouterr()
    assert main(["tools", "rm", "sorter", "--store", str(store_path)]) == 0
    assert "removed sorter (2 version(s))" in capsys.readouterr().out
    assert main(["tools", "rm", "sorter", "--store", str(store_path)]) == 1
    assert "not in the store" in capsys.readouterr().err
    assert main(["tools", "show", "ghost", "--store", str(tmp_path / "none.sqlite")]) == 1
    assert "no store at" in capsys.readouterr().err


def test_stream_writes_requests(tmp_path):
    done = latm("stream", "-n", "12", "--seed", "4", "--tasks", "word_sorting,schedule_meeting", "-o", "r.jsonl",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    requests = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(requests) == 12 and {r["task"] for r in requests} == {"word_sorting", "schedule_meeting"}
    assert all(set(r) == {"id", "input", "task", "target"} for r in requests)
    assert "wrote 12 requests" in done.stderr


def test_stream_to_stdout_without_targets_and_bad_task(capsys):
    assert main(["stream", "-n", "3", "--no-targets", "--tasks", "dyck_languages"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "target" not in json.loads(lines[0])
    assert main(["stream", "-n", "3", "--tasks", "no_such_task"]) == 1
    assert "no task 'no_such_task'" in capsys.readouterr().err


def test_making_failures_are_listed_and_cleared(tmp_path):
    path = tmp_path / "tools.sqlite"
    ToolStore(path).failures.record("chinese_remainder_theorem", "rounds exhausted: best 0/6")
    listed = latm("tools", "failures", "--store", str(path), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "chinese_remainder_theorem" in listed.stdout and "1 kind(s) without a tool" in listed.stdout
    cleared = latm("tools", "failures", "--clear", "--json", "--store", str(path), cwd=tmp_path)
    assert json.loads(cleared.stdout) == {"cleared": 1} and ToolStore(path).failures.list() == []
