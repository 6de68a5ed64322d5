"""The results file before `--resume`: a cut line, error records and repeated ids are dropped."""
from __future__ import annotations

import json

from agents.pipeline.results_file import ResultsWriter, prepare_resume


def _line(rid: str, route: str = "tool", code: str | None = None) -> str:
    error = {"code": code, "message": "m"} if code else None
    return json.dumps({"id": rid, "route": route, "answer": None if code else rid, "error": error}) + "\n"


def test_prepare_resume_keeps_final_records_once_and_rewrites_the_file(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(_line("a") + _line("b", "error", "internal") + _line("c", "solver")
                    + _line("a") + _line("line-7", "error", "bad_request_line") + '{"id": "d", "rou')
    kept = prepare_resume(path)
    assert [r["id"] for r in kept] == ["a", "c", "line-7"]
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "c", "line-7"]
    assert path.read_text().endswith("\n")
    before = path.stat().st_mtime_ns
    assert prepare_resume(path) == kept and path.stat().st_mtime_ns == before  # nothing to repair: untouched


def test_prepare_resume_of_a_missing_file_is_empty(tmp_path):
    assert prepare_resume(tmp_path / "none.jsonl") == []


def test_results_writer_appends_whole_lines(tmp_path):
    path = tmp_path / "results.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        writer = ResultsWriter(out)
        writer.write({"id": "x", "answer": "é"})
        writer.sync()
        assert path.read_text(encoding="utf-8") == '{"id": "x", "answer": "é"}\n'
