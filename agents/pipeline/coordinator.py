"""The coordinator: each request goes to a cached tool, or through the new-task path to a maker."""
from __future__ import annotations

import asyncio
import time
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.pipeline.kind_making import KindMaking
from agents.pipeline.services import Services
from agents.pipeline.store_writes import StoreWrites
from agents.pipeline.task_groups import TaskGroup, TaskGroups
from bus.wire.messages import DispatchRequest, Dispatched, ErrorInfo, SolveRequest, ToolAnswer, UseTool
from bus.wire.spend import Spend
from bus.wire.tool_spec import ToolCode, ToolSpec
from store.store_errors import StoreUnavailableError


class CoordinatorConfig(BaseModel):
    """How many examples make a tool, who answers misses, when a tool is pulled."""

    model_config = ConfigDict(extra="forbid")
    train_examples: int = Field(default=3, ge=1, description="examples shown to the maker")
    validation_examples: int = Field(default=3, ge=1, description="held-out examples a tool must pass")
    min_examples: int = Field(default=2, ge=2, description="fewest examples worth a try when input ends")
    solver_method: Literal["direct", "cot", "coc"] = Field(default="direct", description="how the solver answers")
    remake_after: int = Field(default=100, ge=0, description="solver answers of a kind whose making "
                              "failed before it is tried again with fresh examples, doubling after "
                              "each failure (0: never)")
    reuse_candidates: int = Field(default=3, ge=0, description="stored tools tried before making one")
    wait_for_tool: bool = Field(default=True, description="requests of a kind whose tool is being made "
                                "wait for it (batch runs); False sends them to the solver meanwhile "
                                "(serving, where a caller should not wait for making)")
    quarantine_after: int = Field(default=20, ge=1, description="uses before a failing tool may be pulled")
    quarantine_rate: float = Field(default=0.5, gt=0, le=1, description="failure share that pulls a tool")

    @property
    def needed(self) -> int:
        return self.train_examples + self.validation_examples


class Coordinator:
    """Drives each request through its kind's state machine; every request gets exactly one ToolAnswer."""

    def __init__(self, services: Services, config: CoordinatorConfig | None = None,
                 on_event: Callable[[str, dict], None] | None = None) -> None:
        self.services = services
        self.on_event = on_event or (lambda kind, data: None)
        self.config = config or CoordinatorConfig()
        self.groups = TaskGroups(self.config.needed, self.config.remake_after)
        self.writes = StoreWrites(services.store, self.on_event)
        self.making = KindMaking(services, self.writes, self.config.train_examples,
                                 self.config.reuse_candidates, self.on_event)
        self.made = self.making.made
        self._making: set[asyncio.Task] = set()
        self._changed = asyncio.Condition()
        # Requests still on their way to a decision; when none are and input has ended, groups
        # still collecting can get no more examples, so they are settled with what they have.
        self._unsettled = 0
        self._input_closed = False
        # Task-labelled requests need the dispatcher once per task: versions are immutable, so
        # its decision holds until the tool is quarantined.
        self._task_routes: dict[str, Dispatched] = {}
        self._tools: dict[tuple[str, str], ToolCode] = {}
        # A store that cannot be written (locked, disk full) stops the run: it resumes once fixed.
        self.stopped: StoreUnavailableError | None = None

    async def answer(self, req) -> ToolAnswer:
        """Answer one ToolRequest; failures become an error answer for that request alone."""
        start = time.perf_counter()
        self._unsettled += 1
        try:
            answer = await self._route(req)
        except Exception as exc:  # an agent or the runtime failed: this request gets the error
            if isinstance(exc, StoreUnavailableError):
                self.stopped = self.stopped or exc
            answer = _error(req, "internal", f"{type(exc).__name__}: {exc}"[:500])
        finally:
            self._unsettled -= 1
            await self._maybe_settle()
        return answer.model_copy(update={"latency_s": time.perf_counter() - start})

    async def _route(self, req) -> ToolAnswer:
        found = self._task_routes.get(req.task) if req.task else None
        if found is None:
            found = await self.services.dispatch(DispatchRequest(
                request_id=req.request_id, trace_id=req.trace_id, text=req.text, task=req.task))
            if req.task and found.tool_id and found.method == "task":
                self._task_routes[req.task] = found
        tool = self._tool(found.tool_id, found.tool_version) if found.tool_id else None
        if tool is not None:
            return await self._use(req, tool, found.confidence, found.spend)
        group = self.groups.get(req.text, req.task)
        if not group.checked_history:
            self._recall_failures(group)
        while True:
            step = group.step(req.text, req.target, self.config.wait_for_tool)
            if step == "use":
                return await self._use(req, self._tool_of(group.tool), 1.0, found.spend, group)
            if step == "solve":
                return await self._solve(req, found.spend)
            if step == "retry":
                answer = await self._solve(req, found.spend)
                if group.solver_answered(req.text, req.target or answer.answer):
                    self._launch_making(group)
                return answer
            if step == "label":
                return await self._label_with_solver(req, group, found.spend)
            if step == "make":
                self._launch_making(group)
            elif step == "await":
                await self._parked(group.made.wait())
            else:  # a labelled request waits to be answered by the tool
                await self._wait_for_change()

    async def _label_with_solver(self, req, group: TaskGroup, spend: Spend) -> ToolAnswer:
        """No target: the solver answers, and its answer becomes one of the group's examples."""
        answer = None
        try:
            answer = await self._solve(req, spend)
        finally:
            if group.labelled(req.text, answer.answer if answer else None):
                self._launch_making(group)
            await self._notify()
        return answer

    def _recall_failures(self, group: TaskGroup) -> None:
        """A kind the maker failed on in earlier runs starts on the solver path, and is tried
        again on the usual remake schedule rather than by every run from its first request."""
        group.checked_history = True
        past = self.services.store.failures.list(group.key)
        if past and group.recall_failure(past[0].attempts, past[0].reason):
            self.on_event("recalled_failure", {"task": group.key, "attempts": past[0].attempts,
                                               "reason": past[0].reason})

    def _launch_making(self, group: TaskGroup) -> None:
        task = asyncio.ensure_future(self._make(group))
        self._making.add(task)
        task.add_done_callback(self._making.discard)

    async def _make(self, group: TaskGroup) -> None:
        """One making attempt; whatever happens, the group settles (waiting requests never hang)."""
        try:
            tool, reason = await self.making.attempt(group)
        except StoreUnavailableError as exc:
            self.stopped = self.stopped or exc
            tool, reason = None, f"the store is unavailable: {exc}"
        except Exception as exc:  # noqa: BLE001 - waiting requests must never hang on a lost group
            tool, reason = None, f"making failed: {type(exc).__name__}: {exc}"[:500]
        group.finish(tool, reason)
        await self._notify()

    async def close_input(self) -> None:
        """No more requests will come: groups still collecting settle once nothing is in flight."""
        self._input_closed = True
        await self._maybe_settle()

    async def _maybe_settle(self) -> None:
        if self._input_closed and self._unsettled == 0:
            await self.flush_collecting()

    async def flush_collecting(self) -> None:
        """Make tools from what collecting groups have, or send their requests to the solver."""
        for group in self.groups.all():
            if group.input_ended(self.config.min_examples):
                self._launch_making(group)
        await self._notify()

    async def drain(self) -> None:
        """Wait for every tool being made, then write the remaining tool-health counts."""
        while self._making:
            await asyncio.gather(*list(self._making), return_exceptions=True)
        self.flush_health()

    def flush_health(self) -> None:
        """Write the tool uses and failures counted so far."""
        self.writes.flush_health()

    def _tool(self, tool_id: str, version: str | None) -> ToolCode | None:
        """The callable part of a dispatched version; None when this store lacks it (the request
        then takes the new-task path)."""
        tool = self._tools.get((tool_id, version or ""))
        if tool is None:
            spec = self.services.store.get(tool_id, version, include_quarantined=True)
            tool = self._tool_of(spec) if spec is not None else None
        return tool

    def _tool_of(self, spec: ToolSpec) -> ToolCode:
        """What a call of the version carries, made once per version (versions are immutable)."""
        key = (spec.tool_id, spec.version)
        if key not in self._tools:
            self._tools[key] = spec.tool_code
        return self._tools[key]

    async def _use(self, req, tool: ToolCode, confidence: float,
                   spend: Spend, group: TaskGroup | None = None) -> ToolAnswer:
        """Answer with the tool, sent with the call; on tool failure fall back to the solver and note tool health."""
        used = await self.services.use(UseTool(request_id=req.request_id, trace_id=req.trace_id, text=req.text,
                                               task=req.task, tool=tool, confidence=confidence))
        tool_id, version = tool.tool_id, tool.version
        group = group or self.groups.get(req.text, req.task)
        ok = used.route == "tool"
        self.writes.count_use(tool_id, version, ok)
        if group.tool_used(tool_id, ok, self.config.quarantine_after, self.config.quarantine_rate):
            self.writes.quarantine(tool_id)
            self._task_routes = {t: d for t, d in self._task_routes.items() if d.tool_id != tool_id}
            self.on_event("quarantined", {"task": group.key, "tool_id": tool_id})
        if ok:
            return used.model_copy(update={"spend": spend + used.spend})
        fallback = await self._solve(req, spend + used.spend)
        return fallback.model_copy(update={"tool_id": tool_id, "tool_version": version})

    async def _solve(self, req, spend: Spend) -> ToolAnswer:
        """The solver role answers directly (no tool)."""
        solved = await self.services.solve(SolveRequest(
            request_id=req.request_id, trace_id=req.trace_id, question=req.text,
            method=self.config.solver_method))
        return ToolAnswer(request_id=req.request_id, trace_id=req.trace_id, answer=solved.answer,
                          route="solver" if solved.answer is not None else "error",
                          error=solved.error if solved.answer is None else None, spend=spend + solved.spend)

    async def _wait_for_change(self) -> None:
        async with self._changed:
            await self._parked(self._changed.wait())

    async def _parked(self, waiting) -> None:
        """Wait without counting as in flight, so input-end settling is not held up by waiters."""
        self._unsettled -= 1
        try:
            if self._input_closed and self._unsettled == 0:
                asyncio.ensure_future(self.flush_collecting())
            await waiting
        finally:
            self._unsettled += 1

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


def _error(req, code: str, message: str) -> ToolAnswer:
    return ToolAnswer(request_id=req.request_id, trace_id=req.trace_id, route="error",
                      error=ErrorInfo(code=code, message=message))
