"""The coordinator: each request goes to a cached tool, or through the new-task path to a maker."""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.pipeline.making_claims import MakingClaims
from agents.pipeline.services import Services
from agents.pipeline.task_groups import TaskGroup, TaskGroups
from bus.messages import (
    DispatchRequest, Dispatched, ErrorInfo, MakeTool, SolveRequest, ToolAnswer, ToolMade, UseTool)
from bus.spend import Spend
from store.store_errors import StoreUnavailableError, ToolStoreError


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
    """Owns the run's task groups; every request gets exactly one ToolAnswer, never an exception."""

    def __init__(self, services: Services, config: CoordinatorConfig | None = None,
                 on_event: Callable[[str, dict], None] | None = None) -> None:
        self.services = services
        self.on_event = on_event or (lambda kind, data: None)
        self.config = config or CoordinatorConfig()
        self.groups = TaskGroups()
        self.made: list[ToolMade] = []
        self._making: set[asyncio.Task] = set()
        self._changed = asyncio.Condition()
        # Requests still on their way to a decision; when none are and input has ended, groups
        # still collecting can get no more examples, so they are settled with what they have.
        self._unsettled = 0
        self._input_closed = False
        # Task-labelled requests need the dispatcher once per task: versions are immutable, so
        # its decision holds until the tool is quarantined.
        self._task_routes: dict[str, Dispatched] = {}
        self._health: Counter[tuple[str, str, bool]] = Counter()  # one writer: the driver
        self._claims: MakingClaims | None = None  # opened on the first making
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
        if found.tool_id:
            return await self._use(req, found.tool_id, found.tool_version, found.confidence, found.spend)
        group = self.groups.get(req.text, req.task)
        if not group.checked_history:
            self._recall_failures(group)
        while True:
            if group.state == "ready":
                return await self._use(req, group.tool.tool_id, group.tool.version, 1.0, found.spend, group)
            if group.state == "failed":
                answer = await self._solve(req, found.spend)
                self._maybe_remake(group, req, answer)
                return answer
            if group.state == "making" and not self.config.wait_for_tool:
                return await self._solve(req, found.spend)
            if group.state == "making":
                await self._parked(group.made.wait())
                continue
            if req.target and group.add_example(req.text, req.target, self.config.needed):
                self._start_making(group)
                continue
            if req.target:
                await self._wait_for_change()  # a labelled request waits to be answered by the tool
                continue
            if len(group.examples) + group.pending_labels < self.config.needed:
                return await self._label_with_solver(req, group, found.spend)
            if not self.config.wait_for_tool:  # enough labels are on their way
                return await self._solve(req, found.spend)
            await self._wait_for_change()

    async def _label_with_solver(self, req, group: TaskGroup, spend: Spend) -> ToolAnswer:
        """No target: the solver answers, and its answer becomes one of the group's examples."""
        group.pending_labels += 1
        try:
            answer = await self._solve(req, spend)
        finally:
            group.pending_labels -= 1
        if group.add_example(req.text, answer.answer, self.config.needed):
            self._start_making(group)
        await self._notify()
        return answer

    def _recall_failures(self, group: TaskGroup) -> None:
        """A kind the maker failed on in earlier runs starts on the solver path, and is tried
        again on the usual remake schedule rather than by every run from its first request."""
        group.checked_history = True
        past = self.services.store.making_failures(group.key)
        if past and group.state == "collecting" and not group.examples:
            group.attempts = past[0].attempts
            group.finish(None, f"making failed in earlier runs ({past[0].attempts}x): {past[0].reason}")
            self.on_event("recalled_failure", {"task": group.key, "attempts": past[0].attempts,
                                               "reason": past[0].reason})

    def _start_making(self, group: TaskGroup) -> None:
        """Hand the group's examples to the maker in the background; its requests wait."""
        group.state = "making"
        self._launch_making(group)

    def _maybe_remake(self, group: TaskGroup, req, answer: ToolAnswer) -> None:
        """A kind whose making failed gets another try with fresh examples now and then (the
        first failure may have been bad luck or an endpoint outage); the solver answers meanwhile."""
        group.note_solver_answer(req.text, req.target or answer.answer, self.config.needed)
        if group.remake_due(self.config.remake_after, self.config.needed):
            group.examples, group.retry_examples = group.retry_examples, []
            group.remaking = True
            self._launch_making(group)

    def _launch_making(self, group: TaskGroup) -> None:
        task = asyncio.ensure_future(self._make(group))
        self._making.add(task)
        task.add_done_callback(self._making.discard)

    async def _make(self, group: TaskGroup) -> None:
        """Make the group's tool under this run's lease on its kind; whatever happens, settle the group."""
        try:
            self._claims = self._claims or MakingClaims(self.services.store)
            claim = await self._claims.claim(group.key)
            if claim.held:
                try:
                    await self._make_held(group)
                finally:
                    with contextlib.suppress(ToolStoreError):  # an expiring lease frees the kind anyway
                        self._claims.release(group.key)
            else:  # another run made (or failed to make) this kind meanwhile
                group.finish(claim.tool, claim.failure)
        except StoreUnavailableError as exc:
            self.stopped = self.stopped or exc
            group.finish(None, f"the store is unavailable: {exc}")
        except Exception as exc:  # noqa: BLE001 - waiting requests must never hang on a lost group
            group.finish(None, f"making failed: {type(exc).__name__}: {exc}"[:500])
        await self._notify()

    async def _make_held(self, group: TaskGroup) -> None:
        group.attempts += 1
        k = min(self.config.train_examples, max(1, len(group.examples) // 2))
        # Retrieval missed these requests, but a stored tool may still do the job (another
        # phrasing of a known kind): the maker verifies the nearest few before making anything.
        query = "\n".join(e.input for e in group.examples[:k])
        known = [spec for spec, score in self.services.store.search(query, k=self.config.reuse_candidates)
                 if score > 0]
        msg = MakeTool(task=group.key, train=group.examples[:k], validation=group.examples[k:],
                       known_tools=known)
        self.on_event("making", {"task": group.key, "train": len(msg.train), "validation": len(msg.validation),
                                 "attempt": group.attempts})
        try:
            made = await self.services.make(msg)
        except Exception as exc:  # the maker died or the runtime failed: record, answer by solver
            made = ToolMade(request_id=msg.request_id, task=group.key, ok=False,
                            reason=f"maker failed: {type(exc).__name__}: {exc}"[:500])
        self.made.append(made)
        self.on_event("made", {"task": group.key, "ok": made.ok, "samples": made.samples, "reused": made.reused,
                               "tokens": made.spend.role("maker").tokens, "cost_usd": made.spend.cost_usd,
                               "reason": made.reason, "tool": made.tool})
        self._store_outcome(group, made)

    def _store_outcome(self, group: TaskGroup, made: ToolMade) -> None:
        """Record the maker's result in the store (before its requests see it), then settle the group."""
        if made.ok and made.tool is not None:
            if made.reused:  # later runs route this label to the tool directly
                self.services.store.alias_task(group.key, made.tool.tool_id)
            else:
                self.services.store.put(made.tool)
                self.services.tool_stored(made.tool)
            self.services.store.clear_making_failures(group.key)
            group.finish(made.tool)
        else:
            # Only a real try is remembered: an outage (no sample drawn) says nothing of the kind.
            if made.samples:
                self.services.store.record_making_failure(group.key, made.reason)
            group.finish(None, made.reason)

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
            if group.state != "collecting":
                continue
            if len(group.examples) >= self.config.min_examples:
                self._start_making(group)
            else:
                group.finish(None, f"only {len(group.examples)} labelled example(s)")
        await self._notify()

    async def drain(self) -> None:
        """Wait for every tool being made, then write the remaining tool-health counts."""
        while self._making:
            await asyncio.gather(*list(self._making), return_exceptions=True)
        self.flush_health()

    def _count_use(self, tool_id: str, version: str, ok: bool) -> None:
        self._health[(tool_id, version, ok)] += 1
        if sum(self._health.values()) >= 1000:
            self.flush_health()

    def flush_health(self) -> None:
        """Write tool uses and failures to the store in one transaction (statistics: a failure is reported, not fatal)."""
        if self._health:
            try:
                self.services.store.record_uses([(t, v, ok, n) for (t, v, ok), n in self._health.items()])
            except ToolStoreError as exc:
                self.on_event("store_error", {"task": "tool health", "error": str(exc)})
            self._health.clear()

    async def _use(self, req, tool_id: str, version: str, confidence: float,
                   spend: Spend, group: TaskGroup | None = None) -> ToolAnswer:
        """Answer with the tool; on tool failure fall back to the solver and note tool health."""
        use = UseTool(request_id=req.request_id, trace_id=req.trace_id, text=req.text, task=req.task,
                      tool_id=tool_id, tool_version=version, confidence=confidence)
        used = await self.services.use(use)
        if used.error and used.error.code == "tool_missing":  # the replica has no store: send the tool
            spec = self.services.store.get(tool_id, version, include_quarantined=True)
            used = await self.services.use(use.model_copy(update={"tool": spec})) if spec else used
        group = group or self.groups.get(req.text, req.task)
        group.tool_uses += 1
        self._count_use(tool_id, version, used.route == "tool")
        if used.route == "tool":
            return used.model_copy(update={"spend": spend + used.spend})
        group.tool_failures += 1
        self._maybe_quarantine(group, tool_id)
        fallback = await self._solve(req, spend + used.spend)
        return fallback.model_copy(update={"tool_id": tool_id, "tool_version": version})

    def _maybe_quarantine(self, group: TaskGroup, tool_id: str) -> None:
        """A tool failing on most requests is pulled from service; its kind goes to the solver."""
        cfg = self.config
        if group.tool_uses >= cfg.quarantine_after and \
                group.tool_failures / group.tool_uses >= cfg.quarantine_rate:
            self.services.store.set_status(tool_id, "quarantined")
            self._task_routes = {t: d for t, d in self._task_routes.items() if d.tool_id != tool_id}
            self.on_event("quarantined", {"task": group.key, "tool_id": tool_id})
            group.finish(None, f"tool {tool_id} quarantined after {group.tool_failures} failures")

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
