"""Chat requests into the pipeline's coordinator, with an admission bound; independent of the HTTP stack."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Protocol

from agents.llm.prices import PriceTable
from agents.pipeline.chat_completion import ChatAsk
from agents.pipeline.coordinator import Coordinator
from agents.pipeline.request_lines import RequestLine, result_record
from agents.pipeline.summary import RunSummary
from agents.serving.metrics import PipelineMetrics, Snapshot
from bus.wire.messages import ToolAnswer, ToolRequest, new_request_id
from store.tool_store import ToolStore


class Overloaded(Exception):
    """The admission bound is reached; the caller gets 429 and retries after `retry_after_s`."""

    def __init__(self, pending: int, retry_after_s: int) -> None:
        super().__init__(f"latm is at its bound of {pending} requests in flight; retry after "
                         f"{retry_after_s} s (or start it with a larger --max-pending)")
        self.retry_after_s = retry_after_s


class Door(Protocol):
    """What the HTTP app needs: answers, health, the pipeline's metrics (here or on a cluster actor)."""

    async def answer(self, ask: ChatAsk) -> ToolAnswer: ...

    async def health(self) -> dict: ...

    async def metrics_text(self) -> bytes: ...


class FrontDoor:
    """Answers chat asks through one coordinator exactly like `latm run`, and keeps the figures."""

    def __init__(self, coordinator: Coordinator, store: ToolStore, *, max_pending: int, retry_after_s: int = 1,
                 prices: PriceTable | None = None, maker_model: str = "", run_id: str = "",
                 on_result: Callable[[dict], None] | None = None) -> None:
        self.coordinator = coordinator
        self.store = store
        self.max_pending = max_pending
        self.retry_after_s = retry_after_s
        self.prices = prices or PriceTable()
        self.maker_model = maker_model
        self.run_id = run_id
        self.on_result = on_result
        self.summary = RunSummary()
        self.pending = 0
        self.metrics = PipelineMetrics(self.snapshot)
        self._latency: dict[str, object] = {}  # route -> its histogram child (labels() takes a lock and a lookup)

    async def answer(self, ask: ChatAsk) -> ToolAnswer:
        """One answer for one ask, never an exception except Overloaded (raised before any work)."""
        if self.pending >= self.max_pending:
            raise Overloaded(self.max_pending, self.retry_after_s)
        self.pending += 1
        try:
            answer = await self.coordinator.answer(ToolRequest(
                request_id=new_request_id(), trace_id=self.run_id, text=ask.text, task=ask.task))
        finally:
            self.pending -= 1
        self.summary.add(ask.text, answer, None)
        latency = self._latency.get(answer.route)
        if latency is None:
            latency = self._latency[answer.route] = self.metrics.latency.labels(answer.route)
        latency.observe(answer.latency_s)
        if self.on_result is not None:
            line = RequestLine(id=answer.request_id, input=ask.text, task=ask.task)
            self.on_result(result_record(line, answer, None))
        return answer

    async def metrics_text(self) -> bytes:
        """The pipeline's Prometheus text."""
        return self.metrics.render()

    async def health(self) -> dict:
        """Liveness and load."""
        return {"status": "ok", "pending": self.pending, "max_pending": self.max_pending}

    def figures(self) -> dict:
        """The same end-of-run figures `latm run` prints, for the session so far."""
        self.summary.made = list(self.coordinator.made)
        return self.summary.figures(self.prices, self.maker_model)

    def snapshot(self) -> Snapshot:
        """Figures for a metrics scrape."""
        s = self.summary
        s.made = list(self.coordinator.made)
        made = Counter("reused" if m.reused else "made" if m.ok else "failed" for m in s.made)
        by_status = Counter(t.status for t in self.store.list())
        return Snapshot(answers={"tool": s.tool_answers, "solver": s.solver_answers, "error": s.errors},
                        tools_by_status=dict(by_status), tools_made=dict(made), spend_by_role=s.spend_by_role(),
                        pending=self.pending, max_pending=self.max_pending)
