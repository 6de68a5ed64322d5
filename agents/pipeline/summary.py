"""The end-of-run summary: accuracy, cache hits, tools made, LLM calls, spend and what it saved."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from agents.llm.prices import PriceTable
from bus.wire.messages import ToolAnswer, ToolMade
from bus.wire.spend import NOTHING, Spend


@dataclass
class RunSummary:
    """Accumulates results as they stream out; `figures()` is the final report."""

    requests: int = 0
    errors: int = 0
    bad_lines: int = 0
    with_target: int = 0
    correct: int = 0
    tool_answers: int = 0
    solver_answers: int = 0
    request_chars: int = 0
    spend: Spend = NOTHING  # of answering requests; making is in `made`
    made: list[ToolMade] = field(default_factory=list)
    latency_total_s: float = 0.0
    tool_uses: Counter = field(default_factory=Counter)  # tool id -> requests it answered
    tool_correct: Counter = field(default_factory=Counter)  # tool id -> of those, correct

    def add(self, text: str, answer: ToolAnswer, correct: bool | None) -> None:
        """Count one answered request."""
        self.requests += 1
        self.request_chars += len(text)
        self.errors += answer.route == "error"
        self.tool_answers += answer.route == "tool"
        self.solver_answers += answer.route == "solver"
        self.latency_total_s += answer.latency_s
        self.spend = self.spend + answer.spend
        if answer.route == "tool" and answer.tool_id:
            self.tool_uses[answer.tool_id] += 1
            self.tool_correct[answer.tool_id] += bool(correct)
        if correct is not None:
            self.with_target += 1
            self.correct += correct

    def add_bad_line(self) -> None:
        self.bad_lines += 1

    def spend_by_role(self) -> dict[str, dict]:
        """Per-role calls, tokens and cost, tool making (the maker role and verifying) included."""
        return (self.spend + Spend.total(m.spend for m in self.made)).by_role()

    def all_maker_cost(self, prices: PriceTable, maker_model: str) -> float:
        """Estimated spend had the maker's model answered every request directly.

        Each request is priced like one solver call: the run's mean solver prompt and completion
        sizes when the solver was used, else the request's own length (about 4 characters a
        token) plus a short instruction and a short answer.
        """
        solver = self.spend.role("solver")
        if solver.calls:
            prompt = solver.prompt_tokens / solver.calls * self.requests
            completion = solver.completion_tokens / solver.calls * self.requests
        else:
            prompt = self.request_chars / 4 + 60 * self.requests
            completion = 32 * self.requests
        return prices.cost(maker_model, int(prompt), int(completion))[0]

    def figures(self, prices: PriceTable, maker_model: str) -> dict:
        """Everything the run reports at the end, as plain numbers."""
        n = max(self.requests, 1)
        spend = self.spend_by_role()
        total_cost = sum(r["cost_usd"] for r in spend.values())
        making_calls = Spend.total(m.spend for m in self.made).calls
        return {
            "requests": self.requests, "bad_lines": self.bad_lines, "errors": self.errors,
            "accuracy": round(self.correct / self.with_target, 4) if self.with_target else None,
            "scored": self.with_target,
            "cache_hit_rate": round(self.tool_answers / n, 4),
            "solver_answers": self.solver_answers,
            "tools_made": sum(m.ok and not m.reused for m in self.made),
            "tools_reused": sum(m.reused for m in self.made),
            "tools_failed": sum(not m.ok for m in self.made),
            "llm_calls_per_request": round(self.spend.calls / n, 4),
            "llm_calls_per_request_with_making": round((self.spend.calls + making_calls) / n, 4),
            "mean_latency_s": round(self.latency_total_s / n, 4),
            "spend_usd": round(total_cost, 6),
            "spend_by_role": spend,
            "all_maker_spend_usd": round(self.all_maker_cost(prices, maker_model), 6),
            "maker_model": maker_model,
            "made": [{"task": m.task, "ok": m.ok, "reused": m.reused, "samples": m.samples, "rounds": m.rounds,
                      "tokens": m.spend.role("maker").tokens, "reason": m.reason,
                      "cost_usd": m.spend.role("maker").cost_usd, "shape": m.tool.shape if m.tool else None,
                      "tool_id": m.tool.tool_id if m.tool else None,
                      "version": m.tool.version if m.tool else None,
                      "answered": self.tool_uses[m.tool.tool_id] if m.tool else 0,
                      "answered_correct": self.tool_correct[m.tool.tool_id] if m.tool else 0}
                     for m in self.made],
            "tool_uses": dict(self.tool_uses),
        }
