"""Price table lookups and ledger sums."""
from __future__ import annotations

import pickle

import pytest

from agents.llm.accounting import CallRecord, Ledger, combine, spend_of
from agents.llm.prices import PriceTable
from bus.wire.spend import Spend


def rec(role: str, model: str, p: int, c: int, table: PriceTable) -> CallRecord:
    cost, priced = table.cost(model, p, c)
    return CallRecord(role=role, model=model, prompt_tokens=p, completion_tokens=c,
                      latency_s=0.1, cost_usd=cost, priced=priced)


def test_price_lookup_exact_prefix_and_unknown():
    table = PriceTable().with_overrides({"big": {"input": 10, "output": 20},
                                         "big-mini": {"input": 1, "output": 2}})
    assert table.cost("big", 1_000_000, 0) == (10.0, True)
    assert table.cost("big-mini-2024-01-01", 0, 1_000_000) == (2.0, True)  # longest prefix
    assert table.cost("vendor/big", 500_000, 500_000) == (15.0, True)
    assert table.cost("mystery-model", 10**6, 10**6) == (0.0, False)


def test_ledger_sums_by_role_and_counterfactual():
    table = PriceTable().with_overrides({"strong": {"input": 5, "output": 15},
                                         "cheap": {"input": 0.1, "output": 0.2}})
    ledger = Ledger(table)
    ledger.record(rec("maker", "strong", 1000, 500, table))
    ledger.record(rec("user", "cheap", 2000, 100, table))
    ledger.record(rec("user", "cheap", 3000, 200, table))
    ledger.record(rec("user", "unknown-x", 10, 10, table))
    by_role = ledger.by_role()
    assert by_role["user"].calls == 3 and by_role["user"].prompt_tokens == 5010
    assert by_role["user"].unpriced_calls == 1
    assert by_role["maker"].cost_usd == pytest.approx((1000 * 5 + 500 * 15) / 1e6)
    assert ledger.total_cost() == pytest.approx(sum(r.cost_usd for r in ledger.records))
    prompt, completion = 6010, 810
    assert ledger.counterfactual_cost("strong") == pytest.approx(
        (prompt * 5 + completion * 15) / 1e6)
    assert ledger.counterfactual_cost("strong") > ledger.total_cost()
    assert ledger.unpriced_models() == ["unknown-x"]
    summary = ledger.summary("strong")
    assert summary["counterfactual"]["model"] == "strong" and summary["calls"] == 4


def test_records_and_ledgers_pickle_and_merge():
    table = PriceTable()
    a = Ledger(table)
    a.record(rec("user", "gpt-4o-mini", 10, 5, table))
    b = pickle.loads(pickle.dumps(a))
    assert b.records == a.records
    b.merge(a)
    b.merge([rec("maker", "gpt-4o", 1, 1, table)])
    assert len(b) == 3 and set(b.by_role()) == {"user", "maker"}


def test_combine_sums_a_repair_loop():
    table = PriceTable()
    parts = [rec("user", "gpt-4o-mini", 10, 5, table), rec("user", "gpt-4o-mini", 20, 7, table)]
    total = combine(parts)
    assert (total.prompt_tokens, total.completion_tokens, total.calls) == (30, 12, 2)
    assert total.cost_usd == pytest.approx(sum(p.cost_usd for p in parts))


def test_spend_adds_per_role_in_order_of_first_use():
    table = PriceTable().with_overrides({"cheap": {"input": 1, "output": 2}})
    records = [rec("user", "cheap", 100, 10, table), rec("solver", "big", 5, 1, table),
               rec("user", "cheap", 50, 0, table)]
    spend = spend_of(records)
    assert [r.role for r in spend.roles] == ["user", "solver"]
    user = spend.role("user")
    assert (user.model, user.calls, user.prompt_tokens, user.completion_tokens) == ("cheap", 2, 150, 10)
    assert user.cost_usd == pytest.approx(170e-6)
    assert (spend.calls, spend.tokens) == (3, 166)
    assert spend.role("maker").calls == 0  # a role that spent nothing reads as zero
    assert spend_of(records[:1]) + spend_of(records[1:]) == spend


def test_spend_totals_and_wire_shape():
    a = Spend.of("maker", "m", calls=2, prompt_tokens=10, completion_tokens=5, cost_usd=0.25)
    b = Spend.of("user", calls=1, prompt_tokens=3, cost_usd=0.5)
    total = Spend.total([a, Spend(), b, a])
    assert total.by_role() == {
        "maker": {"model": "m", "calls": 4, "prompt_tokens": 20, "completion_tokens": 10, "cost_usd": 0.5},
        "user": {"model": "", "calls": 1, "prompt_tokens": 3, "completion_tokens": 0, "cost_usd": 0.5}}
    assert total.cost_usd == 1.0 and Spend() + a is a
    assert Spend.model_validate(total.model_dump()) == total
