"""Sum LLM call records into per-role usage for a request's answer."""
from __future__ import annotations

from collections.abc import Iterable

from agents.llm.accounting import CallRecord
from bus.messages import RoleUsage


def usage_of(records: Iterable[CallRecord]) -> list[RoleUsage]:
    """Group call records by role into RoleUsage lines."""
    return merge_usage([RoleUsage(role=r.role, model=r.model, calls=r.calls, prompt_tokens=r.prompt_tokens,
                                  completion_tokens=r.completion_tokens, cost_usd=r.cost_usd)
                        for r in records])


def merge_usage(*groups: Iterable[RoleUsage]) -> list[RoleUsage]:
    """Add several per-role usage lists together, one line per role."""
    by_role: dict[str, dict] = {}
    for group in groups:
        for u in group:
            row = by_role.setdefault(u.role, {"role": u.role, "model": u.model, "calls": 0,
                                              "prompt_tokens": 0, "completion_tokens": 0,
                                              "cost_usd": 0.0})
            row["calls"] += u.calls
            row["prompt_tokens"] += u.prompt_tokens
            row["completion_tokens"] += u.completion_tokens
            row["cost_usd"] += u.cost_usd
    return [RoleUsage(**row) for row in by_role.values()]
