"""RunLedger: resumable, idempotent per request, summarised in SQL."""
from __future__ import annotations

from store.run_ledger import RunLedger, RunRow


def test_record_resume_and_summary(tmp_path):
    ledger = RunLedger(tmp_path / "runs.sqlite")
    ledger.record_many([
        RunRow(run_id="r1", request_id="a", route="tool", tool_id="t", version="v", answer="1", correct=True,
               llm_calls=0, latency=0.1, extra={"confidence": 0.9}),
        RunRow(run_id="r1", request_id="b", route="solver", answer="2", correct=False, llm_calls=2, tokens=300,
               cost=0.01, latency=0.5),
        RunRow(run_id="r1", request_id="c", route="error", error="malformed line", latency=0.0),
        RunRow(run_id="r2", request_id="a", route="solver", answer="x"),
    ])
    assert ledger.done_ids("r1") == {"a", "b", "c"} and ledger.runs() == ["r1", "r2"]
    summary = ledger.summary("r1")
    assert (summary.requests, summary.errors, summary.scored, summary.correct) == (3, 1, 2, 1)
    assert summary.accuracy == 0.5 and summary.tool_hits == 1 and abs(summary.cache_hit_rate - 1 / 3) < 1e-9
    assert (summary.llm_calls, summary.tokens) == (2, 300) and abs(summary.cost - 0.01) < 1e-12
    # A resumed run re-recording a request replaces it instead of double counting.
    ledger.record(RunRow(run_id="r1", request_id="b", route="tool", tool_id="t", version="v", answer="1", correct=True))
    assert ledger.summary("r1").correct == 2 and ledger.summary("r1").requests == 3
    rows = ledger.rows("r1")
    assert [row.request_id for row in rows] == ["a", "b", "c"]
    assert rows[0].extra == {"confidence": 0.9} and rows[0].correct is True and rows[2].correct is None
    empty = ledger.summary("none")
    assert (empty.requests, empty.accuracy, empty.cache_hit_rate) == (0, None, 0.0)
