"""Prometheus metrics of the front door: HTTP requests, answers by route, latency, tools, spend per role."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# From a cached tool's sub-millisecond answer to a slow upstream model's minute.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


@dataclass
class Snapshot:
    """The pipeline's figures at scrape time (taken from the run summary, not counted twice)."""

    answers: dict[str, int] = field(default_factory=dict)  # route -> answers
    tools_by_status: dict[str, int] = field(default_factory=dict)
    tools_made: dict[str, int] = field(default_factory=dict)  # outcome -> making attempts
    spend_by_role: dict[str, dict] = field(default_factory=dict)  # RunSummary.spend_by_role()
    pending: int = 0
    max_pending: int = 0


class PipelineMetrics:
    """The pipeline's registry: latency by route, plus a collector over the snapshot."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram("latm_request_latency_seconds", "seconds from request to answer, by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_SnapshotCollector(snapshot))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class HttpMetrics:
    """The HTTP layer's registry: requests by path and status (per process under Ray Serve)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter("latm_http_requests", "HTTP requests by path and status code",
                                ["path", "status"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _SnapshotCollector:
    """Turns a Snapshot into metric families on each scrape."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot()
        answers = CounterMetricFamily("latm_answers", "answers by route (tool, solver, error)", labels=["route"])
        for route in ("tool", "solver", "error"):
            answers.add_metric([route], snap.answers.get(route, 0))
        yield answers
        total = sum(snap.answers.values())
        yield GaugeMetricFamily("latm_cache_hit_ratio", "share of answers given by a cached tool",
                                value=snap.answers.get("tool", 0) / total if total else 0.0)
        tools = GaugeMetricFamily("latm_tools", "tools in the store by status", labels=["status"])
        for status, n in sorted(snap.tools_by_status.items()):
            tools.add_metric([status], n)
        yield tools
        made = CounterMetricFamily("latm_tool_making", "tool-making attempts by outcome", labels=["outcome"])
        for outcome in ("made", "reused", "failed"):
            made.add_metric([outcome], snap.tools_made.get(outcome, 0))
        yield made
        calls = CounterMetricFamily("latm_llm_calls", "LLM calls by role", labels=["role"])
        tokens = CounterMetricFamily("latm_llm_tokens", "LLM tokens by role and kind", labels=["role", "kind"])
        spend = CounterMetricFamily("latm_llm_spend_usd", "estimated LLM spend in USD by role", labels=["role"])
        for role, u in sorted(snap.spend_by_role.items()):
            calls.add_metric([role], u["calls"])
            tokens.add_metric([role, "prompt"], u["prompt_tokens"])
            tokens.add_metric([role, "completion"], u["completion_tokens"])
            spend.add_metric([role], u["cost_usd"])
        yield from (calls, tokens, spend)
        yield GaugeMetricFamily("latm_pending_requests", "requests in the pipeline now", value=snap.pending)
        yield GaugeMetricFamily("latm_max_pending_requests", "admission bound; more get 429", value=snap.max_pending)
