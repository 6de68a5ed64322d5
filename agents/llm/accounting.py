"""Per-call token/cost records and a ledger that sums them per role."""
from __future__ import annotations

import time
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from agents.llm.prices import PriceTable
from bus.wire.spend import Spend


class CallRecord(BaseModel):
    """What one model call (or one structured() exchange) used and cost."""

    model_config = ConfigDict(frozen=True)
    role: str = Field(description="role that made the call")
    model: str = Field(description="model name the endpoint reported (or was asked for)")
    prompt_tokens: int = Field(default=0, ge=0, description="prompt tokens from usage")
    completion_tokens: int = Field(default=0, ge=0, description="completion tokens from usage")
    latency_s: float = Field(default=0.0, ge=0, description="wall time incl. retries, excl. "
                             "waiting for the role's concurrency slot")
    cost_usd: float = Field(default=0.0, ge=0, description="cost from the price table")
    priced: bool = Field(default=True, description="False when the model is not in the table "
                         "(its cost counts as 0)")
    calls: int = Field(default=1, ge=0, description="HTTP calls that returned a completion")
    attempts: int = Field(default=1, ge=0, description="HTTP attempts incl. failed retries")
    started_at: float = Field(default_factory=time.time, description="unix time of the start")

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def spend(self) -> Spend:
        """The call's spend as the value messages carry."""
        return Spend.of(self.role, self.model, self.calls, self.prompt_tokens,
                        self.completion_tokens, self.cost_usd)


def spend_of(records: Iterable[CallRecord]) -> Spend:
    """The spend of several calls, one line per role."""
    return Spend.total(r.spend for r in records)


class RoleTotals(BaseModel):
    """Sums over the records of one role."""

    calls: int = Field(default=0, description="model calls")
    prompt_tokens: int = Field(default=0, description="prompt tokens")
    completion_tokens: int = Field(default=0, description="completion tokens")
    cost_usd: float = Field(default=0.0, description="cost from the price table")
    latency_s: float = Field(default=0.0, description="summed latency")
    unpriced_calls: int = Field(default=0, description="calls on models without a price")
    models: list[str] = Field(default_factory=list, description="models this role used")


def combine(records: list[CallRecord]) -> CallRecord:
    """One record summing several calls of the same role (e.g. a structured() repair loop)."""
    first = records[0]
    return CallRecord(
        role=first.role, model=records[-1].model,
        prompt_tokens=sum(r.prompt_tokens for r in records),
        completion_tokens=sum(r.completion_tokens for r in records),
        latency_s=sum(r.latency_s for r in records), cost_usd=sum(r.cost_usd for r in records),
        priced=all(r.priced for r in records), calls=sum(r.calls for r in records),
        attempts=sum(r.attempts for r in records), started_at=first.started_at)


class Ledger:
    """Append-only list of CallRecords with per-role and counterfactual cost reports."""

    def __init__(self, prices: PriceTable | None = None,
                 records: Iterable[CallRecord] = ()) -> None:
        self.prices = prices or PriceTable()
        self.records: list[CallRecord] = list(records)

    def record(self, rec: CallRecord) -> CallRecord:
        """Add one record (list.append is atomic, so threads and tasks may share a ledger)."""
        self.records.append(rec)
        return rec

    def merge(self, records: Iterable[CallRecord] | "Ledger") -> None:
        """Add records that came back from elsewhere (e.g. a Ray actor's ledger)."""
        self.records.extend(records.records if isinstance(records, Ledger) else records)

    def by_role(self) -> dict[str, RoleTotals]:
        """Totals per role, in order of first appearance."""
        totals: dict[str, RoleTotals] = {}
        for rec in self.records:
            t = totals.setdefault(rec.role, RoleTotals())
            t.calls += rec.calls
            t.prompt_tokens += rec.prompt_tokens
            t.completion_tokens += rec.completion_tokens
            t.cost_usd += rec.cost_usd
            t.latency_s += rec.latency_s
            t.unpriced_calls += 0 if rec.priced else rec.calls
            if rec.model not in t.models:
                t.models.append(rec.model)
        return totals

    def total_cost(self) -> float:
        """Sum of every record's cost in USD."""
        return sum(r.cost_usd for r in self.records)

    def total_tokens(self) -> tuple[int, int]:
        """(prompt, completion) tokens over every record."""
        return (sum(r.prompt_tokens for r in self.records),
                sum(r.completion_tokens for r in self.records))

    def counterfactual_cost(self, model: str) -> float:
        """What the same tokens would have cost had every call gone to `model` (e.g. the maker's)."""
        prompt, completion = self.total_tokens()
        return self.prices.cost(model, prompt, completion)[0]

    def unpriced_models(self) -> list[str]:
        """Models that appeared without a price (their cost counted as 0)."""
        return sorted({r.model for r in self.records if not r.priced})

    def summary(self, counterfactual_model: str | None = None) -> dict:
        """A JSON-ready report: totals, per role, and optionally the all-`model` cost."""
        prompt, completion = self.total_tokens()
        out = {"calls": sum(r.calls for r in self.records), "prompt_tokens": prompt,
               "completion_tokens": completion, "cost_usd": self.total_cost(),
               "unpriced_models": self.unpriced_models(),
               "by_role": {k: v.model_dump() for k, v in self.by_role().items()}}
        if counterfactual_model:
            out["counterfactual"] = {"model": counterfactual_model,
                                     "cost_usd": self.counterfactual_cost(counterfactual_model)}
        return out

    def __len__(self) -> int:
        return len(self.records)

    def __getstate__(self) -> dict:
        return {"prices": self.prices, "records": self.records}

    def __setstate__(self, state: dict) -> None:
        self.prices, self.records = state["prices"], state["records"]
