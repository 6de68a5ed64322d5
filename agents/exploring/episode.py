"""One exploration episode: imagine a query, try calls, observe, reflect; keep what worked as demos."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from agents.exploring.backends import Observation, ToolBackend
from agents.exploring.grounding import ungrounded
from agents.exploring.prompts import (IMAGINE_FORMAT, REFLECT_FORMAT, ImaginedQuery, Reflection, imagine_messages,
                                      reflect_messages)
from agents.llm.accounting import CallRecord
from agents.llm.client import LLMClient
from agents.llm.errors import LLMError
from agents.using.tool_calls import ArgumentError, extract_call
from bus.wire.api_spec import ApiSpec, ToolCall
from store.explorer_memory import ExplorerMemory, Trial
from store.tool_demos import ToolDemo, ToolDemos


class ExploreBudget(BaseModel):
    """How much practice one tool gets."""

    model_config = ConfigDict(extra="forbid")
    episodes: int = Field(default=1, ge=0, description="episodes per tool")
    trials: int = Field(default=3, ge=1, description="trials (imagined queries) per episode")
    corrections: int = Field(default=1, ge=0, description="corrective calls after a failed call in a trial")
    memory: int = Field(default=20, ge=0, description="earlier queries of the tool shown when imagining")
    temperature: float = Field(default=0.8, ge=0, le=2, description="sampling temperature of the imagine step")


class StepError(Exception):
    """A step of a trial got no usable model output; the trial fails, the episode goes on."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step


@dataclass
class EpisodeResult:
    """What an episode did and what it cost."""

    trials: list[Trial] = field(default_factory=list)
    demos_kept: int = 0
    step_errors: list[str] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)

    @property
    def successes(self) -> int:
        return sum(t.success for t in self.trials)


class Episode:
    """Runs trials on one tool with short-term memory (this episode) and long-term memory (the store)."""

    def __init__(self, llm: LLMClient, api: ApiSpec, backend: ToolBackend, memory: ExplorerMemory,
                 demos: ToolDemos, budget: ExploreBudget) -> None:
        self.llm, self.api, self.backend = llm, api, backend
        self.memory, self.demos, self.budget = memory, demos, budget

    async def run(self) -> EpisodeResult:
        """Every trial of the budget; a step that fails is recorded and the next trial starts."""
        result = EpisodeResult()
        for _ in range(self.budget.trials):
            try:
                query = await self._imagine(result)
            except StepError as exc:
                result.step_errors.append(str(exc))
                continue
            trial = await self._trial(query, result)
            self.memory.record(trial)
            result.trials.append(trial)
            if trial.success and trial.call is not None and not ungrounded(trial.call, query):
                result.demos_kept += self.demos.add(ToolDemo(
                    tool=self.api.name, query=query, call=trial.call, observation=trial.observation[:400]))
        return result

    async def _imagine(self, result: EpisodeResult) -> str:
        long_term = self.memory.recent(self.api.name, self.budget.memory) if self.budget.memory else []
        messages = imagine_messages(self.api, long_term, result.trials)
        try:
            # A seed per earlier query: a server that fixes its sampling seed would imagine one query forever.
            reply = await self.llm.structured("explorer", messages, ImaginedQuery, instructions=IMAGINE_FORMAT,
                                              temperature=self.budget.temperature,
                                              seed=len(long_term) + len(result.trials))
        except LLMError as exc:
            raise StepError("imagine", str(exc)[:300]) from None
        result.records.append(reply.record)
        return reply.value.query.strip()

    async def _trial(self, query: str, result: EpisodeResult) -> Trial:
        """Try calls (with corrective turns), then reflect; an errored or empty result never succeeds."""
        feedback: list[tuple[ToolCall, str]] = []
        call: ToolCall | None = None
        observation = Observation(ok=False, error="no_call", text="no call was made")
        for _ in range(1 + self.budget.corrections):
            try:
                call, record = await extract_call(self.llm, "explorer", query, [self.api], feedback=feedback)
            except (ArgumentError, LLMError) as exc:
                result.step_errors.append(f"try: {str(exc)[:300]}")
                break
            result.records.append(record)
            observation = await self.backend.execute(call)
            if observation.useful:
                break
            feedback.append((call, observation.shown()))
        shown = observation.shown()
        if call is None:
            return Trial(tool=self.api.name, query=query, observation=shown, note="try: no well-formed call")
        try:
            reply = await self.llm.structured("explorer", reflect_messages(
                self.api, query, json.dumps(call.arguments, ensure_ascii=False), shown), Reflection,
                instructions=REFLECT_FORMAT)
        except LLMError as exc:
            result.step_errors.append(f"reflect: {str(exc)[:300]}")
            return Trial(tool=self.api.name, query=query, call=call, observation=shown, note="reflect failed")
        result.records.append(reply.record)
        success = bool(reply.value.fulfilled) and observation.useful
        note = reply.value.reason if observation.useful else f"the call failed: {observation.error or 'empty result'}"
        return Trial(tool=self.api.name, query=query, call=call, observation=shown, success=success, note=note[:300])
