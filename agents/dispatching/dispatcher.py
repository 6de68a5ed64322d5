"""The Dispatcher agent: retrieval over the tool store first, a small LLM judge only when unsure."""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from agents.llm.client import LLMClient
from agents.llm.errors import LLMError
from bus.wire.messages import DispatchRequest, Dispatched
from bus.wire.spend import NOTHING, Spend
from bus.wire.tool_spec import ToolSpec
from store.tool_store import ToolStore


class DispatcherConfig(BaseModel):
    """When retrieval decides alone and when the judge is asked."""

    model_config = ConfigDict(extra="forbid")
    accept_score: float = Field(default=0.6, ge=0, le=1, description="retrieval score that is sure enough alone")
    reject_score: float = Field(default=0.08, ge=0, le=1, description="below this score it is a miss, no judge")
    judge_top_k: int = Field(default=3, ge=1, le=10, description="candidates shown to the judge")
    use_judge: bool = Field(default=True, description="ask the dispatcher model in the unsure band")


class JudgeChoice(BaseModel):
    """The judge's pick: a candidate number, 0 for none."""

    choice: int = Field(description="number of the tool that solves the request, 0 if none does")


class Dispatcher:
    """Maps a request to (tool, version, confidence); its prompt never lists the whole catalogue."""

    handlers: ClassVar[dict] = {DispatchRequest: "dispatch"}

    def __init__(self, store: ToolStore, llm: LLMClient | None = None,
                 config: DispatcherConfig | None = None) -> None:
        self.store = store
        self.llm = llm
        self.config = config or DispatcherConfig()

    async def close(self) -> None:
        """Release the judge's HTTP client."""
        if self.llm is not None:
            await self.llm.aclose()

    async def dispatch(self, msg: DispatchRequest) -> Dispatched:
        """Decide by task label, then by retrieval score, then by the judge."""
        if msg.task:
            spec = self.store.find_by_task(msg.task)
            return self._reply(msg, spec, 1.0, "task") if spec else self._miss(msg)
        ranked = self.store.search(msg.text, k=self.config.judge_top_k)
        if not ranked or ranked[0][1] < self.config.reject_score:
            return self._miss(msg)
        top, score = ranked[0]
        if score >= self.config.accept_score or not (self.config.use_judge and self.llm):
            return self._reply(msg, top, score, "retrieval") if score >= self.config.accept_score \
                else self._miss(msg)
        return await self._judge(msg, ranked)

    async def _judge(self, msg: DispatchRequest, ranked: list[tuple[ToolSpec, float]]) -> Dispatched:
        """Show the top candidates only, so the prompt size is independent of the store size."""
        try:
            result = await self.llm.structured("dispatcher", judge_messages(msg.text, ranked), JudgeChoice)
        except LLMError:
            return self._miss(msg)
        spend = result.record.spend
        choice = result.value.choice if isinstance(result.value, JudgeChoice) else int(result.value["choice"])
        if not 1 <= choice <= len(ranked):
            return self._miss(msg, spend, method="judge")
        spec, score = ranked[choice - 1]
        # The judge confirms an unsure retrieval: confidence sits between the score and certainty.
        return self._reply(msg, spec, 0.5 + 0.5 * score, "judge", spend)

    def _reply(self, msg, spec: ToolSpec, confidence: float, method: str,
               spend: Spend = NOTHING) -> Dispatched:
        return Dispatched(request_id=msg.request_id, trace_id=msg.trace_id, tool_id=spec.tool_id,
                          tool_version=spec.version, confidence=round(confidence, 4), method=method,
                          spend=spend)

    def _miss(self, msg, spend: Spend = NOTHING, method: str = "miss") -> Dispatched:
        return Dispatched(request_id=msg.request_id, trace_id=msg.trace_id, confidence=0.0,
                          method=method if method == "miss" else "judge", spend=spend)


def judge_messages(text: str, ranked: list[tuple[ToolSpec, float]]) -> list[dict]:
    """The judge prompt: the request and a few numbered candidates, each briefly described."""
    lines = []
    for i, (spec, _) in enumerate(ranked, 1):
        example = spec.demos[0].input if spec.demos else (spec.tests[0].input if spec.tests else "")
        lines.append(f"{i}. {spec.tool_id}: {spec.docstring[:200]}\n   Example request: {example[:200]}")
    return [
        {"role": "system", "content": "You pick the tool that solves a request. Reply with JSON."},
        {"role": "user", "content": f"Request:\n{text[:1500]}\n\nTools:\n" + "\n".join(lines) +
         '\n\nWhich tool solves the request? Reply {"choice": N} with the tool number, '
         'or {"choice": 0} if none does.'},
    ]
