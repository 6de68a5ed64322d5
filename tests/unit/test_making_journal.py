"""The making journal: one JSON line per draw, never a reason for a making to fail."""
from __future__ import annotations

from agents.making.journal import MakingJournal, read_journal
from bus.wire.messages import CaseResult, Verdict

VERDICT = Verdict(request_id="r", trace_id="t", passed=1, total=2, cases=[
    CaseResult(input="[1]", expected="1", got="1", ok=True),
    CaseResult(input="[2]", expected="2", got="3", ok=False)])
ASKED = [{"role": "user", "content": "write compute"}]


def test_draws_are_appended_with_their_failing_cases_only(tmp_path):
    path = tmp_path / "draws.jsonl"
    journal = MakingJournal(str(path))
    journal.draw("t1", "staged", "code", ASKED, "reply one", "def compute(): ...", VERDICT)
    journal.draw("t2", "core", "repair", ASKED, "no code", None, None)
    path.open("a").write("not json\n")
    entries = read_journal(str(path))
    assert [e["task"] for e in entries] == ["t1", "t2"]
    assert entries[0]["failures"] == [{"input": "[2]", "expected": "2", "got": "3", "error": None}]
    assert entries[0]["passed"] == 1 and "passed" not in entries[1]
    assert [e["task"] for e in read_journal(str(path), task="t2")] == ["t2"]


def test_a_journal_that_cannot_be_written_switches_itself_off(tmp_path):
    journal = MakingJournal(str(tmp_path / "missing-folder" / "draws.jsonl"))
    journal.draw("t", "staged", "code", ASKED, "reply", None, None)  # must not raise
    assert journal.path is None

