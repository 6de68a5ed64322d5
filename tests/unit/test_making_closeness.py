"""Which failing compute function a repair starts from: the one whose answers come closest."""
from __future__ import annotations

from agents.making.staged import closeness
from bus.wire.messages import CaseResult, Verdict


def verdict(*pairs: tuple[str | None, str]) -> Verdict:
    cases = [CaseResult(input="[]", expected=want, got=got, ok=got == want, error=None if got else "boom")
             for got, want in pairs]
    return Verdict(request_id="r", trace_id="t", passed=sum(c.ok for c in cases), total=len(cases), cases=cases)


def test_near_answers_rank_above_wrong_kinds_of_answer_and_errors():
    near = verdict(("]", "]]"), (")", ")>"))
    invalid = verdict(("Invalid", "]]"), ("Invalid", ")>"))
    raised = verdict((None, "]]"), (None, ")>"))
    assert closeness(near) > closeness(invalid) and closeness(near) > closeness(raised)


def test_a_passed_case_outranks_any_closeness():
    assert closeness(verdict(("]]", "]]"), ("x", ")>"))) > closeness(verdict(("]", "]]"), (")", ")>")))


def test_a_right_but_slow_answer_outranks_a_wrong_one_and_yields_to_one_in_time():
    def slow(want: str) -> CaseResult:
        return CaseResult(input="[]", expected=want, got=None, ok=False, error="slow")
    right_slow = Verdict(request_id="r", trace_id="t", passed=0, total=1, cases=[slow("]]")])
    assert closeness(right_slow) > closeness(verdict(("]", "]]")))
    assert closeness(verdict(("]]", "]]"))) > closeness(right_slow)
